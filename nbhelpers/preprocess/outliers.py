"""Outliers: inject them, flag them with robust rules fitted on training rows, score the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import SEED, Choice, Optional, Real, checked, fail
from .arguments import array, as_floats, names
from .leakage import _like

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


OUTLIER_RULES = {"zscore": 3.0, "mad": 3.5, "iqr": 1.5}  # textbook thresholds: 3 sd, Iglewicz-Hoaglin, Tukey
# A rule and its threshold: `robust_outliers`' arguments, and `OutlierToNaN`'s (checked in its `fit`).
RULE_ARGUMENTS = dict(method=Choice(*OUTLIER_RULES), threshold=Optional(Real(low=0, low_open=True)))


@checked(x=array(1, 2), rate=Real(low=0, high=1, low_open=True), factor=Real(), seed=SEED)
def inject_outliers(x: Any, rate: float, factor: float = 10.0, *, seed: int = 0) -> tuple[Any, Any]:
    """A copy of ``x`` with about ``rate`` of its entries multiplied by ``factor`` (a unit slip:
    centimetres typed as millimetres), and the mask of them. Tensors in, tensors out.

    >>> x_bad, mask = inject_outliers(np.ones((100, 3)), 0.1, seed=0)
    >>> float(x_bad[mask].min()), float(x_bad[~mask].max())
    (10.0, 1.0)
    """
    values = as_floats(x)
    mask = np.random.default_rng(int(seed)).random(values.shape) < rate
    values[mask] *= factor
    return _like(values, x), _like(mask, x)


def _bounds(reference: np.ndarray, method: str, threshold: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ``(low, high)``: values outside are outliers. A column without spread has none.
    ``method`` and ``threshold`` were checked against `RULE_ARGUMENTS` by the caller."""
    t = OUTLIER_RULES[method] if threshold is None else threshold
    if method == "iqr":
        low, high = np.nanpercentile(reference, [25, 75], axis=0)
        scale = high - low
    else:  # 1.4826 x the median absolute deviation estimates the standard deviation of normal data
        low = high = np.nanmean(reference, 0) if method == "zscore" else np.nanmedian(reference, 0)
        scale = np.nanstd(reference, 0) if method == "zscore" else 1.4826 * np.nanmedian(np.abs(reference - low), 0)
    return np.where(scale > 0, low - t * scale, -np.inf), np.where(scale > 0, high + t * scale, np.inf)


@checked(x=array(2), **RULE_ARGUMENTS, reference=array(2, optional=True))
def robust_outliers(x: Any, method: str = "mad", threshold: float | None = None, *, reference: Any = None) -> Any:
    """Boolean mask of the entries of ``x`` that a per-column rule calls outliers.

    ``"mad"``: farther than ``threshold`` (3.5) robust standard deviations (1.4826 x the
    median absolute deviation) from the median. ``"iqr"``: beyond ``threshold`` (1.5)
    interquartile ranges outside the quartiles (Tukey's fences). ``"zscore"``: farther than
    ``threshold`` (3) standard deviations from the mean; not robust, shown for comparison (a
    few huge values inflate the standard deviation and hide themselves). The statistics come
    from ``reference`` (your training rows) if given, else from ``x``.

    >>> x = np.array([[1.0], [2.0], [3.0], [2.0], [100.0]])
    >>> robust_outliers(x, "mad").ravel().tolist(), robust_outliers(x, "zscore").ravel().tolist()
    ([False, False, False, False, True], [False, False, False, False, False])
    """
    values = as_floats(x)
    ref = values if reference is None else as_floats(reference)
    if ref.shape[1] != values.shape[1]:
        raise fail("robust_outliers", "reference", f"rows with as many columns as x ({values.shape[1]})", ref.shape)
    low, high = _bounds(ref, method, threshold)
    return _like((values < low) | (values > high), x)


@checked(x_bad=array(2), truth=array(2), methods=names(tuple(OUTLIER_RULES)))
def score_outlier_rules(x_bad: Any, truth: Any, methods: Sequence[str] = tuple(OUTLIER_RULES)) -> pd.DataFrame:
    """How well each rule finds the outliers marked in ``truth``: one row per method with its
    ``threshold``, ``flagged`` (share of entries), ``precision`` and ``recall``.

    >>> x_bad, truth = inject_outliers(np.random.default_rng(0).normal(10, 1, (500, 4)), 0.02)
    >>> score_outlier_rules(x_bad, truth, ["mad"])[["precision", "recall"]].round(2).values.tolist()
    [[0.96, 1.0]]
    """
    import pandas as pd

    truth = as_floats(truth) > 0
    if truth.shape != tuple(x_bad.shape):
        raise fail("score_outlier_rules", "truth", f"a mask shaped like x_bad {tuple(x_bad.shape)}", truth.shape)
    rows = []
    for method in methods:
        flags = np.asarray(robust_outliers(x_bad, method))
        hits = (flags & truth).sum()
        rows.append({"method": method, "threshold": OUTLIER_RULES.get(method), "flagged": flags.mean(),
                     "precision": hits / max(flags.sum(), 1), "recall": hits / max(truth.sum(), 1)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- class imbalance
