"""Means and t-intervals over seeds."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nbhelpers import mean_ci, summarize


def test_mean_ci_matches_scipy():
    values = [0.81, 0.79, 0.84, 0.80, 0.83]
    mean, low, high = mean_ci(values, 0.9)
    expected = stats.t.interval(0.9, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values)) and (low, high) == pytest.approx(expected)


def test_one_run_has_no_interval_and_empty_is_an_error():
    mean, low, high = mean_ci([0.5])
    assert mean == 0.5 and math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError, match="`values` must be a non-empty sequence"):
        mean_ci([])


def test_summarize_groups_and_names_missing_columns():
    runs = pd.DataFrame({"size": [500, 500, 2000, 2000], "aug": [True] * 4, "acc": [0.6, 0.64, 0.8, 0.8]})
    table = summarize(runs, by=["size", "aug"], metric="acc")
    assert table["mean"].tolist() == pytest.approx([0.62, 0.8]) and table["n"].tolist() == [2, 2]
    assert table.loc[1, "ci_low"] == pytest.approx(0.8)  # no spread, no width
    with pytest.raises(ValueError, match="`metric` must be column names of `runs`"):
        summarize(runs, by="size", metric="accuracy")
