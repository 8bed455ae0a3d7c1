"""What each argument of `fit` may be: its table for `checked`, checked before anything happens."""

from __future__ import annotations

import os

import torch

from .._checks import COUNT, FLAG, LEARNING_RATE, MODEL, SEED, AnyOf, Function, Instance, Optional, Real, Rule, fail
from ..data.loader import DATA_FORMS, split_data
from ..device import DEVICE
from .callbacks import EarlyStopping, check_hooks
from .losses import LOSS
from .optimizers import check_optimizer, check_param_groups
from .schedules import check_schedule


def check_callbacks(func: str, name: str, callbacks) -> None:
    if not isinstance(callbacks, (list, tuple)):
        raise fail(func, name, "a list or tuple of callback objects", callbacks)
    for callback in callbacks:
        check_hooks(callback)


def check_amp(func: str, name: str, amp) -> None:
    if not (isinstance(amp, bool) or (isinstance(amp, str) and amp in ("auto", "bf16", "fp16"))):
        raise fail(func, name, "'auto', True, False, 'bf16' or 'fp16'", amp)


FIT_ARGUMENTS = dict(
    model=MODEL,
    data=Rule(lambda f, n, v: split_data(f, n, v) and None, DATA_FORMS, bad=["train.csv", 3]),
    epochs=COUNT,
    lr=LEARNING_RATE,
    optimizer=Rule(lambda f, n, v: check_optimizer(f, v), "a name, a torch.optim.Optimizer subclass or a factory",
                   bad=["adma", 3, torch.nn.Linear]),
    param_groups=Rule(lambda f, n, v: check_param_groups(f, v), "None or a dict of parameter-name prefix -> options",
                      bad=[[0.1], {"head": 0.1}, {"head": {"lr": -1}}]),
    loss=LOSS,
    weight_decay=Real(low=0),
    l1=Real(low=0),
    schedule=Rule(lambda f, n, v: check_schedule(f, v), "None, a schedule name or a callable", bad=["cosin", 3]),
    batch_size=COUNT,
    augment=Optional(Function("a callable on a batch: augment(x) -> x or augment(x, y) -> (x, y)")),
    early_stopping=AnyOf(Real(low=1, integer=True), Instance(EarlyStopping, "an EarlyStopping"), None),
    grad_clip=Optional(Real(low=0, low_open=True)),        # by norm
    grad_clip_value=Optional(Real(low=0, low_open=True)),  # by value, each element
    amp=Rule(check_amp, "'auto', True, False, 'bf16' or 'fp16'", bad=["fp32", 1]),
    compile=FLAG,
    callbacks=Rule(check_callbacks, "a list or tuple of callback objects", bad=["EarlyStopping", 3]),
    progress=FLAG,
    live_plot=FLAG,
    seed=Optional(SEED),
    checkpoint=Optional(Instance((str, os.PathLike), "a file path")),
    resume=FLAG,
    device=Optional(DEVICE),
)
