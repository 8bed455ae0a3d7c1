"""Scores of a trained model: accuracy on named splits and per class, ready for `sweep`.

`scores` is what a chapter's train function returns to `sweep` / `explore`: the accuracy on
each named split and per class, the final training metrics, and the history for the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import torch
from torch import nn

from .._checks import check_type, fail
from ..training import predict

Split = tuple[torch.Tensor, torch.Tensor]


def _check_split(func: str, name: str, split) -> Split:
    if not (isinstance(split, (tuple, list)) and len(split) == 2 and all(isinstance(t, torch.Tensor) for t in split)
            and split[1].ndim == 1 and len(split[0]) == len(split[1]) > 0):  # fmt: skip
        raise fail(func, name, "an (x, y) pair of tensors with integer labels, e.g. data.valid",
                   type(split).__name__ if not isinstance(split, (tuple, list)) else f"a {len(split)}-item sequence")
    return split[0], split[1]


def per_class_accuracy(model: nn.Module, split: Split, classes: Sequence[str] | None = None) -> dict[str, float]:
    """Accuracy of ``model`` on each class of ``split`` (``(x, y)``), keyed by class name.

    Classes absent from ``split`` are left out. ``classes`` names the labels 0, 1, ...;
    without it the keys are the label numbers as strings.

    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> x, y = torch.randn(6, 1, 2, 2), torch.tensor([0, 0, 0, 1, 1, 1])
    >>> sorted(per_class_accuracy(model, (x, y), ["cat", "dog"]))
    ['cat', 'dog']
    """
    check_type("per_class_accuracy", "model", model, nn.Module, "a torch.nn.Module")
    x, y = _check_split("per_class_accuracy", "split", split)
    return _by_class("per_class_accuracy", predict(model, x).argmax(1) == y.cpu(), y.cpu(), classes)


def _by_class(func: str, right: torch.Tensor, y: torch.Tensor, classes) -> dict[str, float]:
    if classes is not None:
        check_type(func, "classes", classes, (list, tuple), "a list of class names or None")
    counts = torch.bincount(y, minlength=len(classes) if classes else 0)
    if classes is not None and len(counts) > len(classes):
        raise fail(func, "classes", f"a name for every label 0..{len(counts) - 1}", list(classes))
    hits = torch.bincount(y, weights=right.double(), minlength=len(counts))
    names = list(classes) if classes is not None else [str(i) for i in range(len(counts))]
    return {names[i]: float(hits[i] / counts[i]) for i in range(len(counts)) if counts[i] > 0}


def scores(result, splits: Mapping[str, Split], classes: Sequence[str] | None = None) -> dict:
    """What a train function hands to `sweep` / `explore`: metrics and the history, in one dict.

    ``result`` is a `TrainResult`. The dict holds, in this order: ``<split>_accuracy`` for
    each named split, then ``<split>_accuracy[<class>]`` for each class, then the final
    training metrics (``train_loss``...), then ``history`` (so the panel draws the curves).

    >>> import torch
    >>> from nbhelpers import MLP, fit
    >>> x, y = torch.randn(64, 1, 2, 2), torch.arange(64) % 2
    >>> result = fit(MLP(4, 2, width=8), (x, y), epochs=1, lr=1e-2, progress=False, seed=0)
    >>> list(scores(result, {"valid": (x, y)}, ["a", "b"]))[:3]
    ['valid_accuracy', 'valid_accuracy[a]', 'valid_accuracy[b]']
    """
    model = getattr(result, "model", None)
    if not isinstance(model, nn.Module) or not isinstance(getattr(result, "history", None), pd.DataFrame):
        raise fail("scores", "result", "a TrainResult (what fit returns)", type(result).__name__)
    check_type("scores", "splits", splits, Mapping, "a dict of name -> (x, y), e.g. {'valid': data.valid}")
    if not splits:
        raise fail("scores", "splits", "a non-empty dict of name -> (x, y)", dict(splits))
    out: dict = {}
    per_class: dict = {}
    for name, split in splits.items():
        x, y = _check_split("scores", f"splits['{name}']", split)
        right = predict(model, x).argmax(1) == y.cpu()
        accuracy = _by_class("scores", right, y.cpu(), classes)
        out[f"{name}_accuracy"] = float(right.double().mean())
        per_class.update({f"{name}_accuracy[{c}]": v for c, v in accuracy.items()})
    return {**out, **per_class, **result.final, "history": result.history}
