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
    """What `fit` returns: the trained ``model``, a tidy ``history``, and how the run went."""

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int | None
    config: dict = field(repr=False)
    stop_reason: str = "completed"

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's numbers, e.g. ``{"train_loss": ..., "valid_accuracy": ...}``."""
        import pandas as pd

        last = self.history[self.history["epoch"] == self.history["epoch"].max()]
        return {f"{row.split}_{m}": getattr(row, m) for row in last.itertuples()
                for m in ("loss", "accuracy") if m in last.columns and pd.notna(getattr(row, m))}

    def plot(self, metrics: Sequence[str] | None = None):
        """Learning curves (loss, and accuracy for classification), train vs valid."""
        return learning_curves(self.history, metrics, title=f"{self.config.get('model', '')}  best epoch {self.best_epoch}")

    def __repr__(self) -> str:
        numbers = "  ".join(f"{k} {v:.4f}" for k, v in self.final.items())
        return (f"TrainResult({self.config.get('model')}, {len(self.history['epoch'].unique())} epochs, "
                f"best epoch {self.best_epoch}, {self.stop_reason}; {numbers})")


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
