"""Valid calls of the public names in models/, regularize, compress and diagnostics, for
tests/test_arguments.py: each is a function returning the keyword arguments of one cheap call."""

import pandas as pd
import torch
from torch import nn

from nbhelpers import MLP, fit


def pair(n=16, features=4, classes=2):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, features, generator=g), torch.arange(n) % classes


def result():
    return fit(MLP(4, 2, width=8), pair(), epochs=1, lr=0.01, progress=False, device="cpu")


def history():
    return pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2,
                         "loss": [0.9, 1.0, 0.3, 0.8], "accuracy": [0.6, 0.55, 0.9, 0.7]})


EXAMPLES = {
    # models
    "MLP": lambda: dict(in_features=4, num_classes=2, width=8, depth=1, activation="relu", norm=None, dropout=0.0,
                        skip=False),
    "CNN": lambda: dict(in_channels=1, num_classes=2, channels=(4,), dim=1, kernel_size=3, activation="relu",
                        norm="batch", dropout=0.0, skip=False),
    "ResNet": lambda: dict(in_channels=1, num_classes=2, widths=(4,), blocks_per_stage=1, dim=1, activation="relu",
                           norm="batch", dropout=0.0),
    "GRU": lambda: dict(input_size=1, num_classes=2, hidden_size=4, num_layers=1, bidirectional=False, dropout=0.0),
    "RNN": lambda: dict(input_size=1, num_classes=2, hidden_size=4, activation="tanh"),
    "AttentionPooling": lambda: dict(input_size=1, num_classes=2, length=8, dim=8, heads=2, layers=1, dropout=0.0),
    "count_parameters": lambda: dict(model=nn.Linear(4, 2), trainable_only=True),
    "make_activation": lambda: dict(name="relu"),
    "width_for_budget": lambda: dict(in_features=4, num_classes=2, depth=2, budget=100),
    # regularize
    "weight_stats": lambda: dict(model=nn.Linear(4, 2), threshold=1e-3),
    "weight_histogram": lambda: dict(models={"a": nn.Linear(4, 2)}, threshold=1e-3, bins=10),
    "gap_table": lambda: dict(histories=history(), metric="accuracy"),
    "plot_gap": lambda: dict(histories={"none": history()}, metric="loss", title="gap", eval_gaps={"none": (2, 0.1)}),
    "gap_scores": lambda: dict(result=result(), train=pair(), valid=pair(), test=pair(), threshold=1e-3),
    "gap_effect": lambda: dict(table=pd.DataFrame({"mean": [-0.08], "ci_low": [-0.1], "ci_high": [-0.06], "n": [3]})),
    "decay_toy": lambda: dict(optimizer="adamw", weight_decay=0.1, grad_scales=(1e-2, 1.0), steps=2, lr=1e-2,
                              per_scale=2, seed=0),
    # compress
    "prune": lambda: dict(model=nn.Linear(4, 2), amount=0.5, fine_tune=lambda m: None),
    "quantize": lambda: dict(model=nn.Linear(4, 2)),
    "sparsity": lambda: dict(model=nn.Linear(4, 2)),
    "file_bytes": lambda: dict(model=nn.Linear(4, 2)),
    "size_speed_table": lambda: dict(models={"a": nn.Linear(4, 2)}, split=pair(), batch_size=1, repeats=1),
    # diagnostics
    "layer_gradients": lambda: dict(model=nn.Linear(4, 2), x=pair()[0], y=pair()[1], loss="cross_entropy"),
    "GradientNorms": lambda: dict(every=2),
    "ActivationStats": lambda: dict(probe=pair()[0], every=None),
    "plot_layers": lambda: dict(tables={"a": pd.DataFrame({"position": [1, 2], "grad_norm": [1e-3, 1.0]})},
                                value="grad_norm", x="position", logy=None, title="flow"),
    # troubleshooting
    "check_data": lambda: dict(x=pair()[0], y=pair()[1]),
    "diagnose": lambda: dict(result=trained(), gradients=pd.DataFrame({"step": [1, 1], "layer": ["a", "b"],
                                                                         "position": [1, 2], "grad_norm": [0.1, 0.2]})),
    "overfit_batch": lambda: dict(model=nn.Linear(4, 2), x=pair()[0], y=pair()[1], images=4, steps=2, lr=1e-2),
}


def trained():
    from nbhelpers import fit

    return fit(nn.Linear(4, 2), pair(), epochs=1, lr=1e-2, progress=False)
