"""`TrainResult`: what `fit` returns, and the record of how the run was configured."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._version import __version__
from ..plots import learning_curves

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


class NonFiniteLossWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


@dataclass
class TrainResult:
    """What `fit` returns: the trained ``model``, a tidy ``history``, and how the run went.

    ``best_epoch`` is the epoch with the best monitored metric (``valid_loss`` unless
    `EarlyStopping` watches another); ``weights_from`` says whose weights ``model`` holds:
    ``"last epoch (12)"`` when the run completed (with or without a better epoch before),
    ``"best epoch (4), restored by early stopping"`` when a stop restored them.
    ``weights_epoch`` is that epoch as a number (None: the initial weights).
    """

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int | None
    config: dict = field(repr=False)
    stop_reason: str = "completed"
    weights_epoch: int | None = None
    weights_from: str = ""

    def __post_init__(self) -> None:
        if not self.weights_from:  # built by hand, not by fit: the rule fit follows
            last = int(self.history["epoch"].max()) if len(self.history) else 0
            self.weights_epoch, self.weights_from = weights_source(self.stop_reason, last, self.best_epoch)

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's numbers, e.g. ``{"train_loss": ..., "valid_accuracy": ...}``."""
        import pandas as pd

        last = self.history[self.history["epoch"] == self.history["epoch"].max()]
        return {f"{row.split}_{m}": getattr(row, m) for row in last.itertuples()
                for m in ("loss", "accuracy") if m in last.columns and pd.notna(getattr(row, m))}

    def plot(self, metrics: Sequence[str] | None = None):
        """Learning curves (loss, and accuracy for classification), train vs valid; the title says
        whose weights ``model`` holds and which epoch was best."""
        monitor = self.config.get("best_by", "valid_loss")
        best = f"{monitor} {'highest' if monitor.endswith('accuracy') else 'lowest'} at epoch {self.best_epoch}"
        title = f"{self.config.get('model', '')}: weights returned from the {self.weights_from}\n{best}"
        return learning_curves(self.history, metrics, title=title)

    def __repr__(self) -> str:
        numbers = "  ".join(f"{k} {v:.4f}" for k, v in self.final.items())
        epochs = self.history["epoch"].max() if len(self.history) else 0
        return (f"TrainResult({self.config.get('model')}, {len(self.history['epoch'].unique())} epochs, "
                f"weights from {self.weights_from}, best epoch {self.best_epoch}, {self.stop_reason}; "
                f"last epoch ({epochs}): {numbers})")


def weights_source(stop_reason: str, last_epoch: int, best_epoch: int | None) -> tuple[int | None, str]:
    """Whose weights `fit` returns, as ``(epoch, words)``: the last epoch's when the run
    completed, the best epoch's when a stop made `fit` restore them (None: initial weights).

    >>> weights_source("completed", 12, 4)
    (12, 'last epoch (12)')
    >>> weights_source("early stopping: valid_loss did not improve for 3 epochs", 7, 4)
    (4, 'best epoch (4), restored by early stopping')
    """
    if stop_reason == "completed":
        return last_epoch, f"last epoch ({last_epoch})"
    if best_epoch is None:
        return None, f"initial weights: no epoch finished ({stop_reason})"
    how = "by early stopping" if stop_reason.startswith("early stopping") else f"after the run ended early ({stop_reason})"
    return best_epoch, f"best epoch ({best_epoch}), restored {how}"


def run_config(model: nn.Module, args: dict) -> dict:
    """Every resolved argument, the device, dtype and versions: recorded next to the history."""
    config = {k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in args.items()}
    config.update(
        model=type(model).__name__, model_config=getattr(model, "config", None),
        parameters=sum(p.numel() for p in model.parameters()),
        amp=str(args["amp"]).replace("torch.", "") if args["amp"] else "off",
        versions={"nbhelpers": __version__, "torch": torch.__version__, "python": platform.python_version()},
    )
    return config
