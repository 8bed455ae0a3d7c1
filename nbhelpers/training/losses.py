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

from .._checks import check_choice

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
