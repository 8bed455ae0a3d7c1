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

from .._checks import check_choice, check_number, fail
from .leakage import _array

REMEDIES = ("none", "over", "under", "smote", "weighted")


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
