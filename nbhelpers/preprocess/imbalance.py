"""Class imbalance: make a set imbalanced on purpose, resample the training rows, weight the classes.

>>> import torch
>>> from nbhelpers import class_weights
>>> [round(w, 3) for w in class_weights(torch.tensor([0, 0, 0, 1])).tolist()]
[0.667, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import COUNT, SEED, Choice, Optional, Real, check_number, checked, fail, is_pandas
from .arguments import array, as_floats, labels

REMEDIES = ("none", "over", "under", "smote", "weighted")
LABELS = labels("integer class labels (a 1-D array, tensor or list)")
LABELS_FOR_X = labels("integer class labels, one per row of x")


def _labels(func: str, y: Any, n: int | None = None) -> np.ndarray:
    """``y`` (checked by a table) as a NumPy array, checked to hold one label per row of x (``n`` rows)."""
    values = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if n is not None and len(values) != n:
        raise fail(func, "y", f"integer class labels, one per row of x ({n})", f"{len(values)} labels")
    return values


def _take(v: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of a tensor, array, pandas object or list, as the same type (a list as an array)."""
    if isinstance(v, torch.Tensor):
        return v[torch.from_numpy(rows)]
    return v.iloc[rows] if is_pandas(v, "DataFrame", "Series") else np.asarray(v)[rows]


@checked(x=array(1, 2, 3, 4), y=LABELS_FOR_X, ratio=Real(low=0, low_open=True), minority=Optional(Real(low=0, integer=True)),
         seed=SEED)
def make_imbalanced(x: Any, y: Any, ratio: float, minority: int | None = None, *, seed: int = 0) -> tuple[Any, Any]:
    """Keep every row of the other classes and ``ratio`` x (size of the largest class) rows of
    ``minority`` (default: the rarest class), drawn at random; rows keep their order.

    >>> x, y = np.zeros((300, 2)), np.repeat([0, 1], [100, 200])
    >>> np.bincount(make_imbalanced(x, y, 0.1, minority=0)[1]).tolist()
    [20, 200]
    """
    func = "make_imbalanced"
    y_values = _labels(func, y, len(x))
    counts = np.bincount(y_values)
    minority = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1))) if minority is None else minority
    check_number(func, "minority", minority, integer=True, low=0, high=len(counts) - 1)
    largest = np.delete(counts, minority).max()
    check_number(func, "ratio", ratio, low=1 / largest, high=counts[minority] / largest)
    rare = np.flatnonzero(y_values == minority)
    dropped = np.random.default_rng(int(seed)).permutation(rare)[round(ratio * largest):]
    keep = np.setdiff1d(np.arange(len(y_values)), dropped)
    return _take(x, keep), _take(y, keep)


@checked(x=array(2), y=LABELS_FOR_X, method=Choice("none", "over", "under", "smote"), seed=SEED, k_neighbors=COUNT)
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
    values = as_floats(x)
    y_values = _labels(func, y, len(values))
    if method == "none":
        return x, y
    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    rarest = np.bincount(y_values)[np.unique(y_values)].min()
    if method == "smote" and rarest < 2:
        raise fail(func, "y", "at least 2 rows in every class for SMOTE (it interpolates between two)", f"{rarest} row")
    sampler = {"over": lambda: RandomOverSampler(random_state=seed), "under": lambda: RandomUnderSampler(random_state=seed),
               "smote": lambda: SMOTE(random_state=seed, k_neighbors=min(int(k_neighbors), rarest - 1))}[method]()
    new_x, new_y = sampler.fit_resample(values, y_values)
    if isinstance(x, torch.Tensor):
        return (torch.from_numpy(new_x).to(x.dtype),
                torch.from_numpy(new_y).to(y.dtype if isinstance(y, torch.Tensor) else torch.int64))
    return new_x, new_y


@checked(y=LABELS, num_classes=Optional(COUNT))
def class_weights(y: Any, num_classes: int | None = None) -> torch.Tensor:
    """Per-class weights ``n / (k * count)`` (scikit-learn's "balanced") for ``F.cross_entropy(weight=...)``:
    a rare class's errors count as much in total as a common one's.

    >>> [round(w, 3) for w in class_weights(torch.tensor([0, 0, 0, 1])).tolist()]
    [0.667, 2.0]
    """
    y_values = _labels("class_weights", y)
    counts = np.bincount(y_values, minlength=num_classes or 0)
    if (counts == 0).any() or (num_classes is not None and len(counts) > num_classes):
        raise fail("class_weights", "y", f"labels 0..{len(counts) - 1} each present at least once",
                   f"class counts {counts.tolist()}")
    return torch.tensor(len(y_values) / (len(counts) * counts), dtype=torch.float32)
