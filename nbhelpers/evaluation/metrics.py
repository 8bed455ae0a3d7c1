"""Scores of a trained model: accuracy on named splits and per class, ready for `sweep`.

`scores` is what a chapter's train function returns to `sweep` / `explore`: the accuracy on
each named split and per class, the final training metrics, and the history for the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .._checks import MODEL, Optional, Satisfies, checked, fail, is_pandas, shown
from ..training import predict
from ..training.inference import correct

Split = tuple[torch.Tensor, torch.Tensor]


def _is_labelled(split) -> bool:
    return (isinstance(split, (tuple, list)) and len(split) == 2 and all(isinstance(t, torch.Tensor) for t in split)
            and split[1].ndim == 1 and len(split[0]) == len(split[1]) > 0 and not torch.is_floating_point(split[1]))


SPLIT = Satisfies(_is_labelled, "an (x, y) pair of tensors with integer labels, e.g. data.valid", bad=["valid", (1, 2)])
CLASSES = Optional(Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v),
                             "a list of class names", bad=["cat", [0, 1]]))


@checked(model=MODEL, split=SPLIT, classes=CLASSES)
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
    x, y = split
    return _by_class("per_class_accuracy", correct(predict(model, x), y.cpu()), y.cpu(), classes)


def _by_class(func: str, right: torch.Tensor, y: torch.Tensor, classes) -> dict[str, float]:
    counts = torch.bincount(y, minlength=len(classes) if classes else 0)
    if classes is not None and len(counts) > len(classes):
        raise fail(func, "classes", f"a name for every label 0..{len(counts) - 1}", list(classes))
    hits = torch.bincount(y, weights=right.double(), minlength=len(counts))
    names = list(classes) if classes is not None else [str(i) for i in range(len(counts))]
    return {names[i]: float(hits[i] / counts[i]) for i in range(len(counts)) if counts[i] > 0}


@checked(result=Satisfies(lambda r: isinstance(getattr(r, "model", None), nn.Module)
                          and is_pandas(getattr(r, "history", None)), "a TrainResult (what fit returns)",
                          bad=[{"valid_accuracy": 0.9}, "result"]),
         splits=Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0, "a non-empty dict of name -> (x, y), e.g. "
                          "{'valid': data.valid}", bad=[{}, ("x", "y")]),
         classes=CLASSES)
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
    model = result.model
    for name, split in splits.items():
        if not _is_labelled(split):
            raise fail("scores", "splits", f"a dict of name -> (x, y); splits[{name!r}] is not " + SPLIT.allowed,
                       shown(split))
    out: dict = {}
    per_class: dict = {}
    for name, split in splits.items():
        x, y = split
        right = correct(predict(model, x), y.cpu())
        accuracy = _by_class("scores", right, y.cpu(), classes)
        out[f"{name}_accuracy"] = float(right.double().mean())
        per_class.update({f"{name}_accuracy[{c}]": v for c, v in accuracy.items()})
    return {**out, **per_class, **result.final, "history": result.history}
