"""Numbers you can trust: means with confidence intervals over seeds.

A single run is one draw from a noisy process (initialization, shuffling, augmentation).
Chapters compare settings over several seeds and report the mean with a t-interval, so a
difference smaller than the noise is not sold as an effect.

Examples
--------
>>> import pandas as pd
>>> from nbhelpers.stats import mean_ci, summarize
>>> [round(v, 3) for v in mean_ci([0.80, 0.82, 0.81])]
[0.81, 0.785, 0.835]
>>> runs = pd.DataFrame({"setting": ["a", "a", "b", "b"], "accuracy": [0.8, 0.82, 0.7, 0.74]})
>>> summarize(runs, by="setting", metric="accuracy")[["setting", "mean", "n"]].values.tolist()
[['a', 0.81, 2], ['b', 0.72, 2]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import check_number, fail


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its Student-t confidence interval.

    With one value the interval is ``(nan, nan)``: one run says nothing about the noise.
    """
    check_number("mean_ci", "confidence", confidence, low=0, high=1, low_open=True)
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        raise fail("mean_ci", "values", "a non-empty sequence of numbers", list(values))
    mean = float(data.mean())
    if data.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf((1 + confidence) / 2, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size))
    return mean, mean - half, mean + half


def summarize(runs: pd.DataFrame, by: str | Sequence[str], metric: str, confidence: float = 0.95) -> pd.DataFrame:
    """One row per group of ``by``: ``mean``, ``ci_low``, ``ci_high``, ``n`` of ``metric``."""
    if not isinstance(runs, pd.DataFrame):
        raise fail("summarize", "runs", "a pandas DataFrame (one row per run)", type(runs).__name__)
    keys = [by] if isinstance(by, str) else list(by)
    for name, columns in (("by", keys), ("metric", [metric])):
        missing = [c for c in columns if c not in runs.columns]
        if missing:
            raise fail("summarize", name, "column names of `runs`: " + ", ".join(map(str, runs.columns)), missing[0])
    rows = []
    for group, frame in runs.groupby(keys, sort=False):
        mean, low, high = mean_ci(frame[metric].tolist(), confidence)
        group = group if isinstance(group, tuple) else (group,)
        rows.append({**dict(zip(keys, group)), "mean": mean, "ci_low": low, "ci_high": high, "n": len(frame)})
    return pd.DataFrame(rows)
