"""Leakage-safe preprocessing: thin wrappers over scikit-learn and imbalanced-learn.

Whatever learns from data (a scaler's means, an imputer's medians, an outlier rule's
quartiles, SMOTE's neighbours) learns it from the TRAINING rows only and is applied
unchanged to validation and test rows. The helpers loop over methods and seeds and return
tidy tables; the work itself is scikit-learn's (``StandardScaler``, ``KNNImputer``,
``IterativeImputer``, ``Pipeline``...) and imbalanced-learn's (``SMOTE``...).

Examples
--------
>>> from sklearn.preprocessing import StandardScaler
>>> from nbhelpers import tabular
>>> raw = tabular("wine", standardize=False)
>>> scaled, scaler = fit_on_train(StandardScaler(), raw)     # statistics of train rows only
>>> round(float(scaled.train[0].mean()), 4), round(float(scaler.mean_[12]))
(0.0, 764)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone

from ._checks import check_choice, check_number, check_type, fail
from .data import DataBundle

IMPUTERS = ("mean", "median", "knn", "iterative")
FILLS = ("mean", "ffill", "bfill", "interpolate")
OUTLIER_RULES = {"zscore": 3.0, "mad": 3.5, "iqr": 1.5}  # textbook thresholds: 3 sd, Iglewicz-Hoaglin, Tukey
REMEDIES = ("none", "over", "under", "smote", "weighted")
BUNDLE = "a DataBundle, e.g. DataBundle((x_train, y_train), (x_valid, y_valid), None, classes)"


def _array(func: str, name: str, x: Any, ndims: tuple[int, ...] = (2,)) -> np.ndarray:
    """A float64 NumPy copy of a tensor or array, checked for its number of dimensions."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, (pd.DataFrame, pd.Series)):
        x = x.to_numpy()
    if not isinstance(x, np.ndarray) or x.ndim not in ndims or x.size == 0:
        shape = getattr(x, "shape", type(x).__name__)
        raise fail(func, name, f"a non-empty {' or '.join(f'{d}-D' for d in ndims)} array or tensor", shape)
    return np.array(x, dtype=np.float64)


def _like(values: np.ndarray, template: Any) -> Any:
    """``values`` as the caller's type: a float32 tensor for a float tensor, else NumPy."""
    if isinstance(template, torch.Tensor):
        out = torch.from_numpy(np.ascontiguousarray(values))
        return out if out.dtype == torch.bool else out.to(template.dtype if template.is_floating_point() else torch.float32)
    return values


def fit_on_train(transformer: Any, data: DataBundle) -> tuple[DataBundle, Any]:
    """Fit a copy of ``transformer`` on ``data.train`` only; transform every split with it.

    Returns the new bundle (float32 features) and the fitted copy; ``transformer`` itself is
    left unfitted. Any scikit-learn transformer or ``Pipeline`` works; ``y`` is passed to
    ``fit`` so supervised steps (``SelectKBest``) learn from the training labels only.

    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from nbhelpers import tabular
    >>> scaled, scaler = fit_on_train(MinMaxScaler(), tabular("wine", standardize=False))
    >>> round(float(scaled.train[0].min()), 4), round(float(scaled.train[0].max()), 4)
    (0.0, 1.0)
    """
    func = "fit_on_train"
    check_type(func, "data", data, DataBundle, BUNDLE)
    if not (hasattr(transformer, "fit") and hasattr(transformer, "transform")):
        raise fail(func, "transformer", "a scikit-learn transformer with fit and transform, e.g. StandardScaler()",
                   transformer)
    flat = lambda x: x.detach().cpu().reshape(len(x), -1).numpy()  # noqa: E731
    fitted = clone(transformer).fit(flat(data.train[0]), data.train[1].cpu().numpy())
    apply = lambda s: None if s is None else (  # noqa: E731
        torch.as_tensor(np.asarray(fitted.transform(flat(s[0])), dtype=np.float32)), s[1])
    return replace(data, train=apply(data.train), valid=apply(data.valid), test=apply(data.test)), fitted


def leakage_check(step: Any, model: Any, x: Any, y: Any, *, seeds: Sequence[int] = (0, 1, 2), cv: int = 5,
                  scoring: str = "accuracy") -> pd.DataFrame:
    """Cross-validated ``scoring`` of ``model`` with ``step`` fit on all rows (leaky) vs inside each training fold.

    The leaky way runs ``step`` once on every row (``fit_transform``, or ``fit_resample``
    for an imbalanced-learn sampler) and cross-validates the model on the result; the honest
    way puts both in a pipeline, so each fold refits ``step`` on its own training part.
    One row per seed (fold shuffling) and way: ``seed``, ``fit_on``, ``scoring``'s column.

    >>> from sklearn.datasets import load_wine
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.preprocessing import StandardScaler
    >>> table = leakage_check(StandardScaler(), KNeighborsClassifier(), *load_wine(return_X_y=True), seeds=(0,))
    >>> table["fit_on"].tolist()
    ['all rows (leaky)', 'training folds only (pipeline)']
    """
    func = "leakage_check"
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    sampler = hasattr(step, "fit_resample")
    if not (sampler or hasattr(step, "fit_transform")):
        raise fail(func, "step", "a scikit-learn transformer or an imbalanced-learn sampler", step)
    check_number(func, "cv", cv, integer=True, low=2)
    x, y = _array(func, "x", x), np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if sampler:
        from imblearn.pipeline import make_pipeline
    else:
        from sklearn.pipeline import make_pipeline
    rows = []
    for seed in seeds:
        check_number(func, "seeds", seed, integer=True, low=0, high=2**32 - 1)
        folds = StratifiedKFold(int(cv), shuffle=True, random_state=int(seed))
        seen = clone(step).fit_resample(x, y) if sampler else (clone(step).fit_transform(x, y), y)
        leaky = cross_val_score(clone(model), *seen, cv=folds, scoring=scoring).mean()
        honest = cross_val_score(make_pipeline(clone(step), clone(model)), x, y, cv=folds, scoring=scoring).mean()
        rows += [{"seed": int(seed), "fit_on": "all rows (leaky)", scoring: leaky},
                 {"seed": int(seed), "fit_on": "training folds only (pipeline)", scoring: honest}]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- missing values


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
    func = "inject_missing"
    mechanism = check_choice(func, "mechanism", mechanism, ("mcar", "mar"))
    values = _array(func, "x", x, (1, 2) if mechanism == "mcar" else (2,))
    check_number(func, "rate", rate, low=0, high=0.5 if mechanism == "mar" else 1, low_open=True)
    check_number(func, "seed", seed, integer=True, low=0)
    rng = np.random.default_rng(int(seed))
    chance = np.full(values.shape, float(rate))
    if mechanism == "mar":
        check_number(func, "driver", driver, integer=True, low=0, high=values.shape[1] - 1)
        rank = values[:, driver].argsort(kind="stable").argsort() / max(len(values) - 1, 1)
        chance = np.repeat((2 * rate * rank)[:, None], values.shape[1], axis=1)
        chance[:, driver] = 0
    mask = (rng.random(values.shape) < chance) & ~np.isnan(values)
    values[mask] = np.nan
    return _like(values, x), _like(mask, x)


def make_imputer(name: str, seed: int = 0) -> Any:
    """scikit-learn's imputer for ``name``: ``mean``, ``median``, ``knn`` (5 neighbours) or
    ``iterative`` (each column regressed on the others with ``BayesianRidge``, 3 rounds: on the
    breast-cancer columns, 5 or 10 rounds changed its error by less than 0.01 sd and took longer).

    KNN measures distances, so scale the columns first: ``make_pipeline(StandardScaler(), imputer)``.

    >>> make_imputer("median")
    SimpleImputer(strategy='median')
    """
    name = check_choice("make_imputer", "name", name, IMPUTERS)
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (IterativeImputer is experimental)
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    if name == "knn":
        return KNNImputer(n_neighbors=5)
    if name == "iterative":
        return IterativeImputer(max_iter=3, tol=1e-2, random_state=seed)
    return SimpleImputer(strategy=name)


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
    func = "score_imputers"
    truth, holes = _array(func, "x_true", x_true), _array(func, "x_missing", x_missing)
    if holes.shape != truth.shape:
        raise fail(func, "x_missing", f"an array shaped like x_true {truth.shape}", holes.shape)
    mask = np.isnan(holes) & ~np.isnan(truth)
    if not mask.any():
        raise fail(func, "x_missing", "x_true with some entries set to NaN (see inject_missing)", "no missing entries")
    check_type(func, "scale", scale, bool, "True or False")
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


def score_fills(series_true: Any, series_missing: Any, methods: Sequence[str] = FILLS) -> pd.DataFrame:
    """RMSE (in standard deviations of the true series) of filling a time series' gaps by
    ``mean``, ``ffill`` (last value seen), ``bfill`` (next value) or linear ``interpolate``.

    These are pandas' own one-liners (``s.ffill()``...); a gap at either end that one
    direction cannot reach is filled from the other. One row per method: ``method``, ``rmse``.

    >>> t = pd.Series(np.sin(np.arange(200) / 10))
    >>> score_fills(t, inject_missing(t, 0.2, seed=0)[0]).set_index("method")["rmse"].round(2).to_dict()
    {'mean': 0.94, 'ffill': 0.12, 'bfill': 0.12, 'interpolate': 0.01}
    """
    func = "score_fills"
    truth, holes = _array(func, "series_true", series_true, (1,)), _array(func, "series_missing", series_missing, (1,))
    if holes.shape != truth.shape:
        raise fail(func, "series_missing", f"a series as long as series_true ({len(truth)})", holes.shape)
    mask = np.isnan(holes) & ~np.isnan(truth)
    s, unit, rows = pd.Series(holes), np.nanstd(truth) or 1.0, []
    fills = {"mean": lambda: s.fillna(s.mean()), "ffill": lambda: s.ffill().bfill(), "bfill": lambda: s.bfill().ffill(),
             "interpolate": lambda: s.interpolate(limit_direction="both")}
    for method in methods:
        filled = fills[check_choice(func, "methods", method, FILLS)]().to_numpy()
        rows.append({"method": method, "rmse": float(np.sqrt(np.mean(((filled - truth) / unit)[mask] ** 2)))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- outliers


def inject_outliers(x: Any, rate: float, factor: float = 10.0, *, seed: int = 0) -> tuple[Any, Any]:
    """A copy of ``x`` with about ``rate`` of its entries multiplied by ``factor`` (a unit slip:
    centimetres typed as millimetres), and the mask of them. Tensors in, tensors out.

    >>> x_bad, mask = inject_outliers(np.ones((100, 3)), 0.1, seed=0)
    >>> float(x_bad[mask].min()), float(x_bad[~mask].max())
    (10.0, 1.0)
    """
    func = "inject_outliers"
    values = _array(func, "x", x, (1, 2))
    check_number(func, "rate", rate, low=0, high=1, low_open=True)
    check_number(func, "factor", factor)
    check_number(func, "seed", seed, integer=True, low=0)
    mask = np.random.default_rng(int(seed)).random(values.shape) < rate
    values[mask] *= factor
    return _like(values, x), _like(mask, x)


def _bounds(func: str, reference: np.ndarray, method: str, threshold: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ``(low, high)``: values outside are outliers. A column without spread has none."""
    method = check_choice(func, "method", method, OUTLIER_RULES)
    t = OUTLIER_RULES[method] if threshold is None else check_number(func, "threshold", threshold, low=0, low_open=True)
    if method == "iqr":
        low, high = np.nanpercentile(reference, [25, 75], axis=0)
        scale = high - low
    else:  # 1.4826 x the median absolute deviation estimates the standard deviation of normal data
        low = high = np.nanmean(reference, 0) if method == "zscore" else np.nanmedian(reference, 0)
        scale = np.nanstd(reference, 0) if method == "zscore" else 1.4826 * np.nanmedian(np.abs(reference - low), 0)
    return np.where(scale > 0, low - t * scale, -np.inf), np.where(scale > 0, high + t * scale, np.inf)


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
    values = _array("robust_outliers", "x", x)
    ref = values if reference is None else _array("robust_outliers", "reference", reference)
    low, high = _bounds("robust_outliers", ref, method, threshold)
    return _like((values < low) | (values > high), x)


class OutlierToNaN(TransformerMixin, BaseEstimator):
    """A scikit-learn step that learns `robust_outliers`' fences on the training rows (``fit``) and
    turns values outside them into NaN (``transform``), for an imputer to fill next.

    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.pipeline import make_pipeline
    >>> clean = make_pipeline(OutlierToNaN("mad"), SimpleImputer(strategy="median"))
    >>> clean.fit_transform(np.array([[1.0], [2.0], [3.0], [2.0], [100.0]])).ravel().tolist()
    [1.0, 2.0, 3.0, 2.0, 2.0]
    """

    def __init__(self, method: str = "mad", threshold: float | None = None):
        self.method, self.threshold = method, threshold

    def fit(self, x: Any, y: Any = None) -> OutlierToNaN:
        self.low_, self.high_ = _bounds("OutlierToNaN", _array("OutlierToNaN.fit", "x", x), self.method, self.threshold)
        return self

    def transform(self, x: Any) -> np.ndarray:
        values = _array("OutlierToNaN.transform", "x", x)
        values[(values < self.low_) | (values > self.high_)] = np.nan
        return values


def score_outlier_rules(x_bad: Any, truth: Any, methods: Sequence[str] = tuple(OUTLIER_RULES)) -> pd.DataFrame:
    """How well each rule finds the outliers marked in ``truth``: one row per method with its
    ``threshold``, ``flagged`` (share of entries), ``precision`` and ``recall``.

    >>> x_bad, truth = inject_outliers(np.random.default_rng(0).normal(10, 1, (500, 4)), 0.02)
    >>> score_outlier_rules(x_bad, truth, ["mad"])[["precision", "recall"]].round(2).values.tolist()
    [[0.96, 1.0]]
    """
    truth = _array("score_outlier_rules", "truth", truth) > 0
    rows = []
    for method in methods:
        method = check_choice("score_outlier_rules", "methods", method, OUTLIER_RULES)
        flags = np.asarray(robust_outliers(x_bad, method))
        hits = (flags & truth).sum()
        rows.append({"method": method, "threshold": OUTLIER_RULES.get(method), "flagged": flags.mean(),
                     "precision": hits / max(flags.sum(), 1), "recall": hits / max(truth.sum(), 1)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- class imbalance


def _labels(func: str, y: Any, n: int) -> np.ndarray:
    labels = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if labels.ndim != 1 or len(labels) != n or not np.issubdtype(labels.dtype, np.integer):
        raise fail(func, "y", f"integer class labels, one per row of x ({n})", getattr(labels, "shape", labels))
    return labels


def make_imbalanced(x: Any, y: Any, ratio: float, minority: int | None = None, *, seed: int = 0) -> tuple[Any, Any]:
    """Keep every row of the other classes and ``ratio`` x (size of the largest class) rows of
    ``minority`` (default: the rarest class), drawn at random; rows keep their order.

    >>> x, y = np.zeros((300, 2)), np.repeat([0, 1], [100, 200])
    >>> np.bincount(make_imbalanced(x, y, 0.1, minority=0)[1]).tolist()
    [20, 200]
    """
    func = "make_imbalanced"
    values = _array(func, "x", x, (1, 2, 3, 4))
    labels = _labels(func, y, len(values))
    counts = np.bincount(labels)
    minority = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1))) if minority is None else minority
    check_number(func, "minority", minority, integer=True, low=0, high=len(counts) - 1)
    largest = np.delete(counts, minority).max()
    check_number(func, "ratio", ratio, low=1 / largest, high=counts[minority] / largest)
    check_number(func, "seed", seed, integer=True, low=0)
    rare = np.flatnonzero(labels == minority)
    dropped = np.random.default_rng(int(seed)).permutation(rare)[round(ratio * largest):]
    keep = np.setdiff1d(np.arange(len(labels)), dropped)
    return (x[torch.from_numpy(keep)] if isinstance(x, torch.Tensor) else x[keep],
            y[torch.from_numpy(keep)] if isinstance(y, torch.Tensor) else y[keep])


def resample(x: Any, y: Any, method: str = "none", *, seed: int = 0, k_neighbors: int = 5) -> tuple[Any, Any]:
    """Rebalance TRAINING rows with imbalanced-learn: ``"over"`` (repeat rare rows at random),
    ``"under"`` (drop common rows at random), ``"smote"`` (new rare rows on the lines between a
    rare row and one of its ``k_neighbors`` rare neighbours) or ``"none"``. Never call it on
    validation or test rows: they must keep the class mix the model will meet.

    >>> x, y = np.arange(24.0).reshape(12, 2), np.array([0] * 9 + [1] * 3)
    >>> [np.bincount(resample(x, y, m, seed=0)[1]).tolist() for m in ("over", "under", "smote")]
    [[9, 9], [3, 3], [9, 9]]
    """
    func = "resample"
    method = check_choice(func, "method", method, ("none", "over", "under", "smote"))
    values = _array(func, "x", x)
    labels = _labels(func, y, len(values))
    check_number(func, "seed", seed, integer=True, low=0)
    check_number(func, "k_neighbors", k_neighbors, integer=True, low=1)
    if method == "none":
        return x, y
    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    rarest = np.bincount(labels)[np.unique(labels)].min()
    if method == "smote" and rarest < 2:
        raise fail(func, "y", "at least 2 rows in every class for SMOTE (it interpolates between two)", f"{rarest} row")
    sampler = {"over": lambda: RandomOverSampler(random_state=seed), "under": lambda: RandomUnderSampler(random_state=seed),
               "smote": lambda: SMOTE(random_state=seed, k_neighbors=min(int(k_neighbors), rarest - 1))}[method]()
    new_x, new_y = sampler.fit_resample(values, labels)
    if isinstance(x, torch.Tensor):
        return torch.from_numpy(new_x).to(x.dtype), torch.from_numpy(new_y).to(y.dtype)
    return new_x, new_y


def class_weights(y: Any, num_classes: int | None = None) -> torch.Tensor:
    """Per-class weights ``n / (k * count)`` (scikit-learn's "balanced") for ``F.cross_entropy(weight=...)``:
    a rare class's errors count as much in total as a common one's.

    >>> [round(w, 3) for w in class_weights(torch.tensor([0, 0, 0, 1])).tolist()]
    [0.667, 2.0]
    """
    labels = _labels("class_weights", y, len(y))
    check_number("class_weights", "num_classes", num_classes, integer=True, low=1, allow_none=True)
    counts = np.bincount(labels, minlength=num_classes or 0)
    if (counts == 0).any() or (num_classes is not None and len(counts) > num_classes):
        raise fail("class_weights", "y", f"labels 0..{len(counts) - 1} each present at least once",
                   f"class counts {counts.tolist()}")
    return torch.tensor(len(labels) / (len(counts) * counts), dtype=torch.float32)
