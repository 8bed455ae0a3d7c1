"""Learning-rate schedules by name, stepped every batch by `fit`.

>>> import torch
>>> opt = torch.optim.SGD(torch.nn.Linear(4, 2).parameters(), lr=0.1)
>>> type(make_schedule("onecycle", opt, total_steps=100)).__name__
'OneCycleLR'
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._checks import COUNT, check_choice, checked, fail

SCHEDULES = ("constant", "onecycle", "cosine", "warmup_cosine", "warmup", "step", "exponential")


def check_schedule(func: str, schedule) -> None:
    """Raise unless ``schedule`` is None, a name of `SCHEDULES` or a callable."""
    if schedule is not None and not callable(schedule):
        if not isinstance(schedule, str):
            raise fail(func, "schedule", "None, one of " + ", ".join(repr(n) for n in SCHEDULES)
                       + " or a callable (optimizer, total_steps) -> LRScheduler", schedule)
        check_choice(func, "schedule", schedule, SCHEDULES)


def make_schedule(
    schedule: str | Callable | None, optimizer: torch.optim.Optimizer, total_steps: int, warmup: float = 0.1
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-batch learning-rate schedule over ``total_steps`` optimizer steps.

    ``onecycle`` (warm up to ``lr`` then anneal, Smith 2018), ``cosine`` (anneal from ``lr``
    to 0), ``warmup_cosine`` (linear warm-up for ``warmup`` of the steps, then cosine),
    ``warmup`` (the same linear warm-up, then constant: Goyal et al.'s gradual warm-up for
    the linear scaling rule), ``step`` (divide by 10 after 50% and 75% of the steps),
    ``exponential`` (the same factor every step, down to a hundredth of ``lr`` at the last),
    ``constant`` or ``None``. The warm-ups start at a hundredth of ``lr``. A
    callable is called as ``schedule(optimizer, total_steps)`` and must return an
    ``LRScheduler``.
    """
    if schedule is None:
        return None
    if callable(schedule):
        return schedule(optimizer, total_steps)
    name = check_choice("fit", "schedule", schedule, SCHEDULES)
    sched = torch.optim.lr_scheduler
    if name == "constant":
        return None
    if name == "onecycle":
        max_lrs = [group["lr"] for group in optimizer.param_groups]
        return sched.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=total_steps)
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "exponential":
        return sched.ExponentialLR(optimizer, gamma=0.01 ** (1 / max(1, total_steps)))
    if name == "step":
        return sched.MultiStepLR(optimizer, milestones=[total_steps // 2, (3 * total_steps) // 4], gamma=0.1)
    warm = max(1, int(warmup * total_steps))
    if name == "warmup":
        return sched.LambdaLR(optimizer, lambda step: min(1.0, 0.01 + 0.99 * step / warm))
    return sched.SequentialLR(
        optimizer,
        [
            sched.LinearLR(optimizer, start_factor=0.01, total_iters=warm),
            sched.CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warm)),
        ],
        milestones=[warm],
    )
@checked(n_train=COUNT, steps=COUNT, batch_size=COUNT, min_epochs=COUNT)
def epochs_for(n_train: int, steps: int, *, batch_size: int = 128, min_epochs: int = 1) -> int:
    """Epochs that give about ``steps`` optimizer steps on ``n_train`` images (at least ``min_epochs``).

    >>> epochs_for(2_000, steps=400)  # 16 batches an epoch
    25
    """
    per_epoch = -(-int(n_train) // int(batch_size))
    return max(int(min_epochs), round(int(steps) / per_epoch))


