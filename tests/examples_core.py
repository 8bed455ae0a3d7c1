"""Valid calls of the public names in data/, device, training/, evaluation/, plots/ and runs, for
tests/test_arguments.py: each is a function returning the keyword arguments of one cheap call."""

import pandas as pd
import torch
from torch import nn

from nbhelpers import MLP, fit


def pair(n=32, features=4, classes=2):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, features, generator=g), torch.arange(n) % classes


def runs():
    return pd.DataFrame({"recipe": ["none", "flip"] * 3, "seed": [0, 0, 1, 1, 2, 2], "acc": [.7, .72, .71, .74, .7, .73]})


def result():
    return fit(MLP(4, 2, width=8), pair(), epochs=1, lr=0.01, progress=False, device="cpu")


EXAMPLES = {
    # device
    "amp_dtype": lambda: dict(device="cpu"),
    "by_mode": lambda: dict(full=10, quick=1),
    "seed_everything": lambda: dict(seed=0, deterministic=False),
    # training
    "fit": lambda: dict(model=nn.Linear(4, 2), data=pair(), epochs=1, lr=0.01, progress=False, device="cpu"),
    "evaluate": lambda: dict(model=nn.Linear(4, 2), data=pair(), loss="cross_entropy", device="cpu"),
    "predict": lambda: dict(model=nn.Linear(4, 2), x=pair()[0], batch_size=8),
    "EarlyStopping": lambda: dict(patience=2, monitor="valid_loss", min_delta=0.0),
    "epochs_for": lambda: dict(n_train=500, steps=100, batch_size=64, min_epochs=1),
}
