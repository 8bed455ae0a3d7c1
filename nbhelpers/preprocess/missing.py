"""Missing values: inject them on purpose, then score imputers and time-series fills against the truth.

>>> import numpy as np
>>> from nbhelpers import inject_missing
>>> holes, mask = inject_missing(np.ones((100, 3)), 0.2, seed=0)
>>> round(float(mask.mean()), 1)
0.2
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import FLAG, SEED, Choice, Real, Rule, check_number, checked, fail
from .arguments import array, array_words, as_floats, check_names, name_words, names
from .leakage import _like

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


IMPUTERS = ("mean", "median", "knn", "iterative")
FILLS = ("mean", "ffill", "bfill", "interpolate")
IMPUTER_WORDS = name_words(IMPUTERS) + ", or a dict of name -> scikit-learn imputer"


def _check_imputers(func: str, name: str, imputers: Any) -> Any:
    if isinstance(imputers, Mapping):
        if imputers and all(hasattr(i, "fit_transform") for i in imputers.values()):
            return imputers
        raise fail(func, name, IMPUTER_WORDS, imputers)
    return check_names(func, name, imputers, IMPUTERS, IMPUTER_WORDS)


@checked(x=array(1, 2), rate=Real(low=0, high=1, low_open=True), mechanism=Choice("mcar", "mar"),
         driver=Real(low=0, integer=True), seed=SEED)
def inject_missing(x: Any, rate: float, mechanism: str = "mcar", *, driver: int = 0, seed: int = 0) -> tuple[Any, Any]:
    """A copy of ``x`` with about ``rate`` of its entries set to NaN, and the mask of them.

    ``"mcar"`` (missing completely at random): every entry has the same chance.
    ``"mar"`` (missing at random): column ``driver`` stays complete, and an entry of another
    column goes missing with a chance that grows with its row's rank in ``driver``: about
    ``2 * rate`` in the row with the largest driver value, 0 in the smallest (``rate`` on
    average, so at most 0.5). Tensors in, tensors out.

    >>> x_nan, mask = inject_missing(np.ones((1000, 4)), 0.2, seed=0)
    >>> round(float(mask.mean()), 2), bool(np.isnan(x_nan[mask]).all())
    (0.21, True)
    """
    func, values = "inject_missing", as_floats(x)
    if mechanism == "mar":  # what "mar" needs of the others: columns, one of them `driver`, and a rate it can reach
        if values.ndim != 2:
            raise fail(func, "x", array_words((2,)), values.shape, "mechanism='mar' needs columns.")
        check_number(func, "rate", rate, low=0, high=0.5, low_open=True)
        check_number(func, "driver", driver, integer=True, low=0, high=values.shape[1] - 1)
    rng = np.random.default_rng(int(seed))
    chance = np.full(values.shape, float(rate))
    if mechanism == "mar":
        rank = values[:, driver].argsort(kind="stable").argsort() / max(len(values) - 1, 1)
        chance = np.repeat((2 * rate * rank)[:, None], values.shape[1], axis=1)
        chance[:, driver] = 0
    mask = (rng.random(values.shape) < chance) & ~np.isnan(values)
    values[mask] = np.nan
    return _like(values, x), _like(mask, x)


@checked(name=Choice(*IMPUTERS), seed=SEED)
def make_imputer(name: str, seed: int = 0) -> Any:
    """scikit-learn's imputer for ``name``: ``mean``, ``median``, ``knn`` (5 neighbours) or
    ``iterative`` (each column regressed on the others with ``BayesianRidge``, 3 rounds: on the
    breast-cancer columns, 5 or 10 rounds changed its error by less than 0.01 sd and took longer).

    KNN measures distances, so scale the columns first: ``make_pipeline(StandardScaler(), imputer)``.

    >>> make_imputer("median")
    SimpleImputer(strategy='median')
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (IterativeImputer is experimental)
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    if name == "knn":
        return KNNImputer(n_neighbors=5)
    if name == "iterative":
        return IterativeImputer(max_iter=3, tol=1e-2, random_state=seed)
    return SimpleImputer(strategy=name)


@checked(x_true=array(2), x_missing=array(2), imputers=Rule(_check_imputers, IMPUTER_WORDS,
                                                            bad=[["medain"], [], {"zero": 0}, "mean"]), scale=FLAG)
def score_imputers(x_true: Any, x_missing: Any, imputers: Sequence[str] | Mapping[str, Any] = IMPUTERS, *,
                   scale: bool = True) -> pd.DataFrame:
    """RMSE of each imputer on the entries missing in ``x_missing``, against ``x_true``.

    Each imputer is fit on ``x_missing`` alone (pass training rows; no labels are used). The
    error is in standard deviations of each true column, so that every column counts the
    same; ``scale=True`` standardizes the columns (by their observed values) before imputing,
    which KNN needs. One row per imputer: ``imputer``, ``rmse``, ``seconds``.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 1)) @ np.ones((1, 3)) + 0.1 * rng.normal(size=(200, 3))
    >>> table = score_imputers(x, inject_missing(x, 0.2, seed=0)[0], ["mean", "knn"])
    >>> table.set_index("imputer")["rmse"].round(1).to_dict()
    {'mean': 1.0, 'knn': 0.2}
    """
    import pandas as pd
    from sklearn.base import clone

    func = "score_imputers"
    truth, holes = as_floats(x_true), as_floats(x_missing)
    if holes.shape != truth.shape:
        raise fail(func, "x_missing", f"an array shaped like x_true {truth.shape}", holes.shape)
    mask = np.isnan(holes) & ~np.isnan(truth)
    if not mask.any():
        raise fail(func, "x_missing", "x_true with some entries set to NaN (see inject_missing)", "no missing entries")
    named = imputers.items() if isinstance(imputers, Mapping) else ((n, make_imputer(n)) for n in imputers)
    unit = np.nanstd(truth, axis=0)
    center, spread = (np.nanmean(holes, 0), np.nanstd(holes, 0)) if scale else (0.0, 1.0)
    spread = np.where(spread > 0, spread, 1.0)
    rows = []
    for name, imputer in named:
        started = time.perf_counter()
        filled = np.asarray(clone(imputer).fit_transform((holes - center) / spread)) * spread + center
        if filled.shape != truth.shape:
            raise fail(func, "x_missing", "no column that is missing entirely (the imputer drops it)", holes.shape)
        error = ((filled - truth) / np.where(unit > 0, unit, 1.0))[mask]
        rows.append({"imputer": name, "rmse": float(np.sqrt(np.mean(error**2))),
                     "seconds": time.perf_counter() - started})
    return pd.DataFrame(rows)


@checked(series_true=array(1), series_missing=array(1), methods=names(FILLS))
def score_fills(series_true: Any, series_missing: Any, methods: Sequence[str] = FILLS) -> pd.DataFrame:
    """RMSE (in standard deviations of the true series) of filling a time series' gaps by
    ``mean``, ``ffill`` (last value seen), ``bfill`` (next value) or linear ``interpolate``.

    These are pandas' own one-liners (``s.ffill()``...); a gap at either end that one
    direction cannot reach is filled from the other. One row per method: ``method``, ``rmse``.

    >>> import pandas as pd
    >>> t = pd.Series(np.sin(np.arange(200) / 10))
    >>> score_fills(t, inject_missing(t, 0.2, seed=0)[0]).set_index("method")["rmse"].round(2).to_dict()
    {'mean': 0.94, 'ffill': 0.12, 'bfill': 0.12, 'interpolate': 0.01}
    """
    import pandas as pd

    func = "score_fills"
    truth, holes = as_floats(series_true), as_floats(series_missing)
    if holes.shape != truth.shape:
        raise fail(func, "series_missing", f"a series as long as series_true ({len(truth)})", holes.shape)
    mask = np.isnan(holes) & ~np.isnan(truth)
    s, unit, rows = pd.Series(holes), np.nanstd(truth) or 1.0, []
    fills = {"mean": lambda: s.fillna(s.mean()), "ffill": lambda: s.ffill().bfill(), "bfill": lambda: s.bfill().ffill(),
             "interpolate": lambda: s.interpolate(limit_direction="both")}
    for method in methods:
        filled = fills[method]().to_numpy()
        rows.append({"method": method, "rmse": float(np.sqrt(np.mean(((filled - truth) / unit)[mask] ** 2)))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- outliers
