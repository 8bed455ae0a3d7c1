"""Valid calls of chapter 09's public names (scale: data-parallel training, profiling, the fast recipe),
for tests/test_arguments.py."""

import pandas as pd
import torch
from torch import nn


def breakdown():
    return pd.DataFrame({"phase": ["data", "forward", "backward", "optimizer", "other"],
                         "ms": [0.1, 1.0, 2.0, 0.3, 0.1], "share": [0.03, 0.29, 0.57, 0.08, 0.03]})


EXAMPLES = {
    "process_group": lambda: dict(backend="gloo"),
    "time_breakdown": lambda: dict(model=nn.Linear(4, 2), data=(torch.randn(16, 4), torch.arange(16) % 2),
                                   batch_size=8, steps=1, warmup=0, loader="device", amp="off", channels_last=False,
                                   lr=0.1, device="cpu"),
    "plot_time_breakdown": lambda: dict(tables={"a": breakdown()}, title="t"),
}
