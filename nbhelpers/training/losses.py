"""Losses by name, so `fit` takes plain strings, and whether each is a classification loss.

>>> import torch
>>> loss_fn, classification = make_loss("mse")
>>> float(loss_fn(torch.ones(3, 1), torch.zeros(3))), classification
(1.0, False)
"""

from __future__ import annotations

from collections.abc import Callable

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


def check_targets(func: str, loss: str | Callable, out: torch.Tensor, y: torch.Tensor) -> None:
    """Once, on the first batch: labels that fit the loss and the model's outputs, or an error
    that says what to do (instead of a deep torch error or, worse, a silent broadcast)."""
    if not isinstance(loss, str) or out.ndim == 0:
        return
    name, n = loss.lower(), len(out)
    if len(y) != n:
        raise fail(func, "data", f"one target per input ({n} in this batch)", f"{len(y)} targets",
                   "Check that x and y come from the same split.")
    if name in ("cross_entropy", "nll"):
        if torch.is_floating_point(y) and y.shape == out.shape:
            return  # soft labels (mixup, label smoothing)
        if torch.is_floating_point(y):
            raise fail(func, "data", f"integer class labels for loss={loss!r}", f"{y.dtype} labels",
                       "Convert them with y.long(), or use loss='mse' or 'bce' for numeric targets.")
        if y.ndim != 1 or out.ndim != 2:
            raise fail(func, "data", f"labels of shape (N,) for outputs of shape (N, classes) with loss={loss!r}",
                       f"labels {tuple(y.shape)}, outputs {tuple(out.shape)}")
        low, high = torch.stack([y.min(), y.max()]).tolist()  # one read of the device, on the first batch only
        if low < 0 or high >= out.shape[1]:
            raise fail(func, "data", f"labels 0..{out.shape[1] - 1} for a model with {out.shape[1]} outputs",
                       f"labels {low}..{high}", "Give the model one output per class (num_classes=...), "
                       "or renumber the labels from 0.")
    elif y.numel() != out.numel():
        raise fail(func, "data", f"one target per model output for loss={loss!r} ({out.numel()} outputs)",
                   f"targets of shape {tuple(y.shape)}")
