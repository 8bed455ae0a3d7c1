"""What happens in `fit` between a batch's loss and the next batch, and the optimizer's two modes.

`Stepper` holds the optimizer, the learning-rate schedule, the fp16 gradient scaler and the
clipping bounds. `fit`'s batch loop calls ``backward(objective)`` (zero the gradients, then
backward, scaled for fp16) and ``step()``: unscale, clip each gradient element to
``[-clip_value, clip_value]``, then rescale the whole gradient to norm ``clip_norm`` at most,
step the optimizer, update the scaler, step the schedule.

It also owns the optimizer's modes. A schedule-free optimizer (Defazio et al. 2024,
``schedulefree.AdamWScheduleFree``, the ``"adamw_schedulefree"`` of `fit`) takes its gradient
at one point of its iterates and keeps their running average, which is the model to evaluate
and keep: its ``train()`` and ``eval()`` move the weights between the two. ``Stepper.train``
runs before each epoch's training batches; ``Stepper.eval`` before validation (so the best
weights and the checkpoint are the average too) and when `fit` returns. Any optimizer with
both methods gets them (`has_modes`); for the others both do nothing.

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([3.0, -4.0]))
>>> stepper = Stepper(torch.optim.SGD([w], lr=1.0), None, None, [w], clip_norm=1.0, clip_value=None)
>>> stepper.backward((w * w).sum() / 2)     # the gradient is w itself: norm 5
>>> stepper.step()                          # clipped to norm 1 before the step
>>> [round(v, 6) for v in w.tolist()]
[2.4, -3.2]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .._checks import fail
from ..device import amp_dtype

SCHEDULE_FREE = ("adamw_schedulefree",)  # fit's names of optimizers with train and eval modes


def resolve_amp(amp, device: torch.device) -> torch.dtype | None:
    """The autocast dtype ``fit(amp=...)`` asks for on ``device`` (None: float32 throughout)."""
    if amp == "auto":
        return amp_dtype(device)
    if amp is False:
        return None
    if amp is True:
        return amp_dtype(device) or torch.bfloat16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def has_modes(optimizer: Any) -> bool:
    """Whether ``optimizer`` (an instance or a class) has the ``train()`` and ``eval()`` of schedule-free ones.

    >>> has_modes(torch.optim.AdamW), has_modes(torch.optim.AdamW([torch.zeros(1, requires_grad=True)]))
    (False, False)
    """
    return callable(getattr(optimizer, "train", None)) and callable(getattr(optimizer, "eval", None))


def check_schedule_free(func: str, optimizer: Any, schedule: Any) -> None:
    """Raise if ``schedule`` decays the rate of a schedule-free ``optimizer`` (a name, a class, a
    ``functools.partial`` of one, or the optimizer built): it averages its iterates in place of a
    decaying schedule, so only ``None`` or ``"constant"`` go with it; it warms up by itself.

    >>> check_schedule_free("fit", "adamw_schedulefree", "cosine")
    Traceback (most recent call last):
    ValueError: fit(): `schedule` must be None or 'constant' with optimizer='adamw_schedulefree' (...); got 'cosine'.
    """
    target = optimizer.func if isinstance(optimizer, functools.partial) else optimizer
    free = target.lower() in SCHEDULE_FREE if isinstance(target, str) else has_modes(target)
    constant = schedule is None or (isinstance(schedule, str) and schedule.lower() == "constant")
    if free and not constant:
        name = repr(optimizer) if isinstance(optimizer, str) else (getattr(target, "__name__", None)
                                                                     or type(target).__name__)
        raise fail(func, "schedule", f"None or 'constant' with optimizer={name} (a schedule-free optimizer averages "
                   "its iterates in place of a decaying schedule; to warm up, pass functools.partial("
                   "schedulefree.AdamWScheduleFree, warmup_steps=...) as the optimizer)", schedule)


@dataclass
class Stepper:
    """One optimizer step of `fit`; the module docstring says what it does and in which order."""

    optimizer: torch.optim.Optimizer
    scheduler: Any                 # an LRScheduler stepped every batch, or None
    scaler: Any                    # a GradScaler for fp16 on CUDA, else None
    parameters: list               # what clipping bounds: the model's parameters
    clip_norm: float | None
    clip_value: float | None
    modes: bool = field(init=False)

    def __post_init__(self) -> None:
        self.modes = has_modes(self.optimizer)

    def backward(self, objective: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        (self.scaler.scale(objective) if self.scaler else objective).backward()

    def step(self) -> None:
        opt, scaler = self.optimizer, self.scaler
        if self.clip_value is not None or self.clip_norm is not None:
            if scaler:
                scaler.unscale_(opt)
            if self.clip_value is not None:
                nn.utils.clip_grad_value_(self.parameters, self.clip_value)
            if self.clip_norm is not None:
                nn.utils.clip_grad_norm_(self.parameters, self.clip_norm)
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def train(self) -> None:
        """Put a schedule-free optimizer in train mode (the weights it takes gradients at)."""
        if self.modes:
            self.optimizer.train()

    def eval(self) -> None:
        """Put a schedule-free optimizer in eval mode (the averaged weights): before validation and at the end."""
        if self.modes:
            self.optimizer.eval()

    def state_dict(self) -> dict:
        """The schedule's and the scaler's state, for a checkpoint (the optimizer's is saved beside it)."""
        return {"scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "scaler": self.scaler.state_dict() if self.scaler is not None else None}

    def load_state_dict(self, saved: dict) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        if self.scaler is not None and saved["scaler"] is not None:
            self.scaler.load_state_dict(saved["scaler"])
