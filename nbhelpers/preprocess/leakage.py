"""Leakage-safe preprocessing: fit on the training rows only, and what leaking costs.

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

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .._checks import Real, Rule, checked, fail
from ..data import DataBundle
from .arguments import (DATA, SCORING, SEEDS, TRANSFORMER, array, as_floats, check_array, check_scoring, labels,
                        sklearn_object)

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


def _array(func: str, name: str, x: Any, ndims: tuple[int, ...] = (2,)) -> np.ndarray:
    """A float64 NumPy copy of a tensor or array, checked for its number of dimensions (for the
    arguments no table checks, e.g. ``transform``'s ``x``)."""
    return as_floats(check_array(func, name, x, ndims))


def _like(values: np.ndarray, template: Any) -> Any:
    """``values`` as the caller's type: a float32 tensor for a float tensor, else NumPy."""
    if isinstance(template, torch.Tensor):
        out = torch.from_numpy(np.ascontiguousarray(values))
        return out if out.dtype == torch.bool else out.to(template.dtype if template.is_floating_point() else torch.float32)
    return values


@checked(transformer=TRANSFORMER, data=DATA)
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
    flat = lambda x: x.detach().cpu().reshape(len(x), -1).numpy()  # noqa: E731
    from sklearn.base import clone

    fitted = clone(transformer).fit(flat(data.train[0]), data.train[1].cpu().numpy())
    apply = lambda s: None if s is None else (  # noqa: E731
        torch.as_tensor(np.asarray(fitted.transform(flat(s[0])), dtype=np.float32)), s[1])
    return replace(data, train=apply(data.train), valid=apply(data.valid), test=apply(data.test)), fitted


@checked(step=sklearn_object(lambda v: hasattr(v, "fit_resample") or hasattr(v, "fit_transform"),
                             "a scikit-learn transformer or an imbalanced-learn sampler, e.g. StandardScaler()",
                             bad=["scale", 3]),
         model=sklearn_object(lambda v: hasattr(v, "fit") and hasattr(v, "predict"),
                              "a scikit-learn model with fit and predict, e.g. LogisticRegression()",
                              bad=["logistic", 3]),
         x=array(2), y=labels("class labels, one per row of x", integer=False), seeds=SEEDS, cv=Real(low=2, integer=True),
         scoring=Rule(check_scoring, SCORING, bad=["acuracy", 3]))
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
    import pandas as pd

    x, y = as_floats(x), np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if len(y) != len(x):
        raise fail("leakage_check", "y", f"class labels, one per row of x ({len(x)})", f"{len(y)} labels")
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    sampler = hasattr(step, "fit_resample")
    if sampler:
        from imblearn.pipeline import make_pipeline
    else:
        from sklearn.pipeline import make_pipeline
    rows = []
    for seed in seeds:
        folds = StratifiedKFold(int(cv), shuffle=True, random_state=int(seed))
        seen = clone(step).fit_resample(x, y) if sampler else (clone(step).fit_transform(x, y), y)
        leaky = cross_val_score(clone(model), *seen, cv=folds, scoring=scoring).mean()
        honest = cross_val_score(make_pipeline(clone(step), clone(model)), x, y, cv=folds, scoring=scoring).mean()
        rows += [{"seed": int(seed), "fit_on": "all rows (leaky)", scoring: leaky},
                 {"seed": int(seed), "fit_on": "training folds only (pipeline)", scoring: honest}]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- missing values
