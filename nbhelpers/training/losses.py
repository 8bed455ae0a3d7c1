"""Losses by name, so `fit` takes plain strings, and whether each is a classification loss.

>>> import torch
>>> loss_fn, classification = make_loss("mse")
>>> float(loss_fn(torch.ones(3, 1), torch.zeros(3))), classification
(1.0, False)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from .._checks import Rule, check_choice, fail


def _regression(fn: Callable) -> Callable:
    # Readers' targets are often (N,) while a 1-output model gives (N, 1): broadcasting
    # those silently computes an N x N loss, so match the target to the prediction.
    def loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target.shape != pred.shape and target.numel() == pred.numel():
            target = target.view_as(pred)
        return fn(pred, target.to(pred.dtype))

    return loss


LOSSES: dict[str, tuple[Callable, bool]] = {
    # name: (function, is classification)
    "cross_entropy": (F.cross_entropy, True),
    "nll": (F.nll_loss, True),
    "bce": (_regression(F.binary_cross_entropy_with_logits), True),
    "mse": (_regression(F.mse_loss), False),
    "l1": (_regression(F.l1_loss), False),
    "mae": (_regression(F.l1_loss), False),
    "huber": (_regression(F.huber_loss), False),
}


def make_loss(loss: str | Callable, func: str = "fit") -> tuple[Callable, bool | None]:
    """Return ``(loss_fn, is_classification)``; ``None`` means "decide from the targets".

    Names: ``cross_entropy``, ``nll``, ``bce`` (logits, binary), ``mse``, ``l1``/``mae``,
    ``huber``. Any callable ``loss(prediction, target) -> scalar tensor`` works too.
    """
    if callable(loss):
        return loss, None
    name = check_choice(func, "loss", loss, LOSSES)
    return LOSSES[name]


LOSS = Rule(lambda f, n, v: make_loss(v, func=f) and None, "a loss name (" + ", ".join(LOSSES) + ") or a callable",
            bad=["crossentropy", 3])


CLASS_NUMBER_LOSSES = ("cross_entropy", "nll")  # their targets are class numbers 0..C-1 (or soft labels)


def class_loss(loss: str | Callable) -> str | None:
    """The name of ``loss`` if it wants class numbers as targets, else None (numeric targets, a callable)."""
    return loss.lower() if isinstance(loss, str) and loss.lower() in CLASS_NUMBER_LOSSES else None


def check_targets(func: str, loss: str | Callable, out: torch.Tensor, y: torch.Tensor | None,
                  labels: Mapping[str | None, torch.Tensor] | None = None, name: str = "data") -> None:
    """Once, on the first batch: labels that fit the loss and the model's outputs, or an error that
    names the split and says what to do (instead of a deep torch error or, worse, a silent broadcast).

    ``y`` is the batch's labels (None: no batch to check); ``labels`` maps each split's name
    ("train", "valid", or None where the argument ``name`` is the split) to its labels: all of
    them where they are one tensor, so a bad label anywhere is found before training. Their
    ranges are read from the device together, once.
    """
    if not isinstance(loss, str) or out.ndim == 0:
        return
    if y is not None and len(y) != len(out):
        raise fail(func, name, f"one target per input ({len(out)} in this batch)", f"{len(y)} targets",
                   "Check that x and y come from the same split.")
    labels = {None: y} if labels is None else labels
    if class_loss(loss) is None:
        per_input = math.prod(out.shape[1:])
        for split, t in labels.items():
            if math.prod(t.shape[1:]) != per_input:
                raise fail(func, name, f"one target per model output for loss={loss!r} ({per_input} per input)",
                           f"{_words(split)} of shape {tuple(t.shape)}", "For class labels, use loss='cross_entropy'.")
        return
    numbered = {split: t for split, t in labels.items() if not _soft_labels(func, name, loss, out, split, t)}
    if not numbered:
        return
    ranges = torch.stack([v.long() for t in numbered.values() for v in (t.min(), t.max())]).tolist()  # one read
    classes = out.shape[1]
    for (split, _), low, high in zip(numbered.items(), ranges[::2], ranges[1::2]):
        if low < 0 or high >= classes:
            fix = (f"Class numbers start at 0: renumber the labels 0..{classes - 1}" if low < 0 else
                   f"Give the model one output per class ({high + 1} for labels 0..{high}), or, if there are only "
                   f"{classes} classes, renumber the labels 0..{classes - 1}")
            raise fail(func, name, f"{_words(split)} in 0..{classes - 1} for a model with {classes} outputs",
                       low if low < 0 else high, f"The {_words(split)} span {low}..{high}. {fix} "
                       "(sklearn.preprocessing.LabelEncoder().fit_transform(y) does it).")


def _words(split: str | None) -> str:
    return f"{split} labels" if split else "labels"


def _soft_labels(func: str, name: str, loss: str, out: torch.Tensor, split: str | None, y: torch.Tensor) -> bool:
    """True for soft labels (nothing more to check), False for class numbers (their range is read
    next); for labels of any other form, an error that says what to do."""
    what = _words(split)
    if y.ndim == 2 and y.shape[1] == 1:
        raise fail(func, name, f"{what} of shape (n,) for loss={loss!r}", f"{what} of shape {tuple(y.shape)}",
                   "Flatten them with y.ravel() (NumPy) or y.flatten() (torch).")
    if torch.is_floating_point(y) and y.ndim > 1 and y.shape[1:] == out.shape[1:]:
        return True  # soft labels (mixup, label smoothing)
    if torch.is_floating_point(y):
        odd = y[(y != y.round()) | ~y.isfinite()][:1].tolist()  # an error path: reading the device is fine here
        if odd:
            raise fail(func, name, f"class numbers 0, 1, 2, ... as {what} for loss={loss!r}", odd[0],
                       "For numeric targets use loss='mse' (or 'bce' for 0/1 targets with one output).")
        raise fail(func, name, f"integer class labels for loss={loss!r}", f"{y.dtype} {what}",
                   "Convert them with y.long() where the batches are made, or use loss='mse' for numeric targets.")
    if y.ndim != 1 or out.ndim != 2:
        raise fail(func, name, f"{what} of shape (n,) for outputs of shape (n, classes) with loss={loss!r}",
                   f"{what} {tuple(y.shape)}, outputs {tuple(out.shape)}")
    if y.dtype not in (torch.long, torch.uint8):  # what cross_entropy and nll take
        raise fail(func, name, f"int64 class labels for loss={loss!r}", f"{y.dtype} {what}",
                   "Convert them with y.long() where the batches are made.")
    return False
