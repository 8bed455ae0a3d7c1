"""Callbacks: plain objects with hooks from a closed set, called by `fit` with its state.

A callback defines any of the methods in ``HOOKS``; each receives the ``TrainState``
explicitly (no attribute delegation). A callback that keeps state across epochs defines
``reset()``, which `fit` calls before the first epoch of every call (a checkpoint being
resumed then restores the state with ``load_state_dict``). A method named ``on_...`` that is not a hook is an
error, so a typo cannot be silently skipped. To stop training, raise ``StopTraining``:
it is separate from a real Ctrl-C (``KeyboardInterrupt``).

Examples
--------
>>> class GradNorm(Callback):
...     def __init__(self):
...         self.norms = []
...     def on_after_backward(self, state):
...         grads = [p.grad.norm() for p in state.model.parameters() if p.grad is not None]
...         self.norms.append(torch.stack(grads).norm())   # stays on the device: no sync
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .._checks import COUNT, Choice, Real, check_choice, checked, fail

HOOKS = (
    "on_fit_begin",       # after set-up, before the first epoch
    "on_epoch_begin",
    "on_batch_begin",     # state.batch holds (x, y) on the device
    "on_after_backward",  # gradients exist, optimizer not yet stepped: gradient statistics
    "on_batch_end",       # state.loss holds the batch loss (a tensor: no sync unless you ask)
    "on_epoch_end",       # state.metrics holds this epoch's numbers; history updated
    "on_fit_end",         # always called, also after an interrupt or early stop
)


class StopTraining(Exception):
    """Raise from a hook to end training after the current batch; best weights are restored."""

    def __init__(self, reason: str = "stopped by a callback"):
        super().__init__(reason)
        self.reason = reason


@dataclass
class TrainState:
    """What hooks see. Read anything; change only what you own (your callback's fields)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    epochs: int
    device: torch.device
    scheduler: Any = None
    epoch: int = 0                      # 1-based once training starts
    step: int = 0                       # optimizer steps so far
    batch: Any = None
    loss: torch.Tensor | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    metrics_available: tuple[str, ...] = ()   # e.g. ("train_loss", "valid_loss", "valid_accuracy")


class Callback:
    """Base class (optional): subclasses are checked for misspelled hooks when defined."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        check_hooks(cls)


def check_hooks(callback: Any) -> list[str]:
    """Return the hooks ``callback`` defines; raise on an ``on_*`` name that is not a hook."""
    names = [n for n in dir(callback) if n.startswith("on_")]
    for name in names:
        if name not in HOOKS:
            check_choice(f"{getattr(callback, '__name__', type(callback).__name__)} callback", "hook", name, HOOKS)
    return names


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``fit`` restores the weights of the best epoch (by the same ``monitor``) when this
    stops training. ``monitor`` is ``valid_loss`` (lower is better) or ``valid_accuracy``,
    ``train_loss``, ``train_accuracy``.

    >>> EarlyStopping(patience=3).patience
    3
    """

    MONITORS = ("valid_loss", "valid_accuracy", "train_loss", "train_accuracy")

    @checked(patience=COUNT, monitor=Choice(*MONITORS), min_delta=Real(low=0))
    def __init__(self, patience: int = 5, monitor: str = "valid_loss", min_delta: float = 0.0):
        self.patience, self.monitor, self.min_delta = patience, monitor, min_delta
        self.reset()

    def reset(self) -> None:
        """Forget earlier epochs: `fit` calls this when it starts, so one object serves many fits."""
        self.best = math.inf
        self.bad_epochs = 0

    @property
    def sign(self) -> float:
        """+1 when lower is better, -1 when higher is better."""
        return -1.0 if self.monitor.endswith("accuracy") else 1.0

    def on_fit_begin(self, state: TrainState) -> None:
        if self.monitor not in state.metrics_available:
            raise fail("EarlyStopping", "monitor", "a metric this run records: " + ", ".join(state.metrics_available), self.monitor)

    def on_epoch_end(self, state: TrainState) -> None:
        value = self.sign * state.metrics[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.bad_epochs = value, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            raise StopTraining(f"early stopping: {self.monitor} did not improve for {self.patience} epochs")

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]
