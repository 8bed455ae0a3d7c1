"""Valid calls of chapter 10's public names (monitoring: drift, the monitor, the stream replay),
for tests/test_arguments.py."""

import pandas as pd
import torch
from torch import nn


def model():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))


def history():
    return pd.DataFrame({"batch": [0, 1], "accuracy": [0.9, 0.5], "smallest_p": [0.5, 1e-4], "alarm": [False, True],
                         "retrained": [False, True]})


def table():
    from nbhelpers import drift_table

    return drift_table({"a": torch.randn(50)}, {"a": torch.randn(40)})


def monitor():
    from nbhelpers import DriftMonitor

    return DriftMonitor(model(), torch.randn(40, 1, 4, 4), patience=1)


EXAMPLES = {
    "psi": lambda: dict(reference=torch.randn(100), current=torch.randn(80), bins=5),
    "holm": lambda: dict(p_values=[0.01, 0.2, 0.04]),
    "drift_table": lambda: dict(reference={"a": torch.randn(50)}, current={"a": torch.randn(40)}, alpha=0.05, bins=5,
                                psi_threshold=0.25),
    "drift_words": lambda: dict(table=table()),
    "image_summary": lambda: dict(model=model(), x=torch.randn(8, 1, 4, 4), batch_size=4),
    "DriftMonitor": lambda: dict(model=model(), reference=torch.randn(40, 1, 4, 4), detector="tests", alpha=0.05,
                                 psi_threshold=0.25, patience=2, bins=5),
    "replay": lambda: dict(stream=[(torch.randn(20, 1, 4, 4), torch.arange(20) % 3)], monitor=monitor(),
                           retrain=lambda m, x, y: m, policy="alarm", window=2),
    "plot_stream": lambda: dict(histories={"a": history()}, title="t"),
    "LabelShift": lambda: dict(classes=[0, 2], share=0.8),
    "drift_trials": lambda: dict(model=model(), reference=torch.randn(40, 1, 4, 4), x=torch.randn(30, 1, 4, 4),
                                 y=torch.arange(30) % 3, drifts={"none": None}, batch_size=10, batches=2, seed=0,
                                 alpha=0.05, psi_threshold=0.25),
    "drifting_stream": lambda: dict(x=torch.randn(30, 1, 4, 4), y=torch.arange(30) % 3, drift=None, batches=3,
                                    batch_size=10, onset=1, seed=0),
}
