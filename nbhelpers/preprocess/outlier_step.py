"""`OutlierToNaN`: the outlier rule as a scikit-learn pipeline step.

It subclasses scikit-learn's base classes, so importing this module imports scikit-learn
(1.5 s); `nbhelpers` loads it only when `OutlierToNaN` is first used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._checks import check_arguments
from .leakage import _array
from .outliers import RULE_ARGUMENTS, _bounds


class OutlierToNaN(TransformerMixin, BaseEstimator):
    """A scikit-learn step that learns `robust_outliers`' fences on the training rows (``fit``) and
    turns values outside them into NaN (``transform``), for an imputer to fill next.

    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.pipeline import make_pipeline
    >>> clean = make_pipeline(OutlierToNaN("mad"), SimpleImputer(strategy="median"))
    >>> clean.fit_transform(np.array([[1.0], [2.0], [3.0], [2.0], [100.0]])).ravel().tolist()
    [1.0, 2.0, 3.0, 2.0, 2.0]
    """

    # What `method` and `threshold` may be. scikit-learn's rule is that ``__init__`` only stores
    # its arguments (``clone`` and ``set_params`` rely on it), so ``fit`` checks them, as
    # scikit-learn's own estimators do; the messages name the class, where they were given.
    __checked__ = RULE_ARGUMENTS

    def __init__(self, method: str = "mad", threshold: float | None = None):
        self.method, self.threshold = method, threshold

    def fit(self, x: Any, y: Any = None) -> OutlierToNaN:
        rule = check_arguments("OutlierToNaN", self.__checked__, {"method": self.method, "threshold": self.threshold})
        values = _array("OutlierToNaN.fit", "x", x)
        self.low_, self.high_ = _bounds(values, rule["method"], rule["threshold"])
        return self

    def transform(self, x: Any) -> np.ndarray:
        values = _array("OutlierToNaN.transform", "x", x)
        values[(values < self.low_) | (values > self.high_)] = np.nan
        return values
