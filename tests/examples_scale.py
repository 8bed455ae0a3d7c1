"""Valid calls of chapter 09's public names (scale: data-parallel training, profiling, the fast recipe),
for tests/test_arguments.py."""

import pandas as pd
import torch
from torch import nn


def breakdown():
    return pd.DataFrame({"phase": ["data", "forward", "backward", "optimizer", "other"],
                         "ms": [0.1, 1.0, 2.0, 0.3, 0.1], "share": [0.03, 0.29, 0.57, 0.08, 0.03]})


def images(n=32):
    return torch.randn(n, 1, 12, 12), torch.arange(n) % 2


def time_record():
    return {"device": "a CPU", "date": "2026-11-28T22:00", "versions": {"torch": "2.14"}, "threads": 2,
            "split": {"words": "train on all, score the test set"}, "recipe": {"epochs": 12},
            "runs": [{"seed": 0, "to_93": 300.0, "to_94": None,
                      "curve": [{"epoch": 1, "train_seconds": 300.0, "accuracy": 0.93}]}],
            "summary": {"accuracy_mean": 0.936, "accuracy_min": 0.936, "accuracy_std": 0.0,
                        "train_seconds_median": 560.0, "seconds_from_process_start_first_run": 600.0}}


EXAMPLES = {
    "process_group": lambda: dict(backend="gloo"),
    "time_breakdown": lambda: dict(model=nn.Linear(4, 2), data=(torch.randn(16, 4), torch.arange(16) % 2),
                                   batch_size=8, steps=1, warmup=0, loader="device", amp="off", channels_last=False,
                                   lr=0.1, device="cpu"),
    "plot_time_breakdown": lambda: dict(tables={"a": breakdown()}, title="t"),
    "FastNet": lambda: dict(in_channels=1, num_classes=2, widths=(4,), whitening=True),
    "EMA": lambda: dict(decay=0.9, every=2, apply=True),
    "predict_tta": lambda: dict(model=nn.Sequential(nn.Flatten(), nn.Linear(144, 2)), x=images()[0], flips=True,
                                shift=1, fill=0.0, batch_size=8),
    "train_fast": lambda: dict(train=images(), eval_data=images(8), epochs=1, widths=(4,), batch_size=16, lr=0.05,
                               weight_decay=0.0, augment=None, label_smoothing=0.1, whitening=True, ema=0.9, tta=True,
                               tta_shift=1, optimizer="nesterov", schedule="onecycle", amp=False, compile=False, seed=0,
                               device="cpu", curve=True),
    "ablation": lambda: dict(train=images(), eval_data=images(8), seeds=[0], remove=["test-time augmentation"],
                             epochs=1, widths=(4,), batch_size=16, device="cpu"),
    "launch_ddp": lambda: dict(processes=1, epochs=1, train_images=64, valid_images=32, widths=(4,), batch_size=32,
                               quick=True, record_seen=False, timeout=300.0),
    "bench_records": lambda: dict(kind="cpu", folder="/no/such/folder"),
    "recorded_time_to_accuracy": lambda: dict(record=time_record(), goal_accuracy=0.9, goal_seconds=600.0),
    "plot_time_to_accuracy": lambda: dict(record=time_record(), goal_accuracy=0.9, goal_seconds=600.0),
    "time_to": lambda: dict(curve=[{"epoch": 1, "train_seconds": 1.0, "accuracy": 0.5}], accuracy=0.4),
}
