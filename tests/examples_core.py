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
    # the course's recorded runs
    "reference_runs": lambda: dict(chapter="01", reference=None, notebooks=None),
}


def gains():
    from nbhelpers import paired_gain
    return paired_gain(runs(), column="recipe", baseline="none", metric="acc")


def history():
    return pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2, "loss": [1.0, 1.1, 0.5, 0.7],
                         "accuracy": [0.5, 0.4, 0.8, 0.7]})


EXAMPLES.update({
    # data
    "DataBundle": lambda: dict(train=pair(), valid=pair(16), test=None, classes=["a", "b"], name="blobs",
                               mean_std=(0.5, 0.25)),
    "DeviceLoader": lambda: dict(x=pair()[0], y=pair()[1], batch_size=8, shuffle=True, device="cpu", augment=None,
                                 drop_last=False, generator=torch.Generator().manual_seed(0)),
    "fashion_mnist": lambda: dict(quick=True, valid_size=0.1, seed=0),
    "mnist1d": lambda: dict(quick=True, valid_size=500, seed=0, shuffle_seq=False),
    "tabular": lambda: dict(name="wine", valid_size=0.2, test_size=0.2, seed=0, standardize=True),
    # evaluation
    "mean_ci": lambda: dict(values=[0.8, 0.82, 0.81], confidence=0.95, bounds=(0, 1)),
    "summarize": lambda: dict(runs=runs(), by="recipe", metric="acc", confidence=0.9, images=100),
    "paired_gain": lambda: dict(runs=runs(), column="recipe", baseline="none", metric="acc", by=(), seed="seed",
                                confidence=0.95, images=100, comparisons="all"),
    "per_class_long": lambda: dict(runs=pd.DataFrame({"seed": [0], "valid_accuracy[Bag]": [0.9]}), split="valid"),
    "gain_table": lambda: dict(runs=runs(), column="recipe", baseline="none", metrics={"gain": "acc"}, by=(),
                               seed="seed", images=100, comparisons="all"),
    "verdict": lambda: dict(low=0.01, high=0.03, n=3, min_seeds=3, better="higher", confidence=0.95, mean=0.02),
    "say": lambda: dict(template="gained {gain}", gain=0.5),
    "listed": lambda: dict(names=["cosine", "step"], none="no schedule"),
    "effect": lambda: dict(table=gains()),
    "versus": lambda: dict(runs=runs(), column="recipe", a="flip", b="none", metric="acc", seed="seed"),
    "ci_text": lambda: dict(mean=0.02, low=0.01, high=0.03, scale=100, unit=" points", digits=1, confidence=0.95,
                            comparisons=1),
    "better_for": lambda: dict(metric="valid_loss"),
    "text_format": lambda: dict(metric="valid_accuracy"),
    "value_range": lambda: dict(metric="valid_accuracy"),
    "per_class_accuracy": lambda: dict(model=nn.Linear(4, 2), split=pair(), classes=["a", "b"]),
    "scores": lambda: dict(result=result(), splits={"valid": pair()}, classes=["a", "b"]),
    # plots
    "learning_curves": lambda: dict(history=history(), metrics=["loss"], title="t"),
    "compare_curves": lambda: dict(histories={"a": history()}, metric="accuracy", split="valid", title="t"),
    "plot_ci": lambda: dict(table=gains(), x="recipe", hue=None, y="mean", low="ci_low", high="ci_high", ylabel="gain",
                            xlabel="recipe", title="t", logx=False, zero_line=True, horizontal=False, scale=100),
    "show_images": lambda: dict(x=torch.rand(4, 1, 8, 8), y=torch.arange(4) % 2, classes=["a", "b"], n=4, columns=2,
                                mean_std=None),
})


def train(lr=0.1, width=8, seed=0):
    return {"valid_accuracy": 0.9 - abs(lr - 0.1) - 1 / width}


def train_gap(dropout=0.0, seed=0):
    return {"gap": dropout, "history": history()}


EXAMPLES.update({
    "sweep": lambda: dict(train_fn=train, grid={"lr": [0.1, 0.2]}, seeds=(0, 1), cache_tag="t", progress=False,
                          cache=False),
    "explore": lambda: dict(train_fn=train, grid={"lr": [0.1, 0.2]}, seed=0, cache_tag="t", cache=False),
    "gap_panel": lambda: dict(train_fn=train_gap, grid={"dropout": [0.0, 0.5]}, baseline={"dropout": 0.0}, seed=0,
                              cache_tag="t"),
    "preview_panel": lambda: dict(x=torch.rand(4, 1, 8, 8), mean_std=None, n=4, versions=2, seed=0, debounce=0),
})
