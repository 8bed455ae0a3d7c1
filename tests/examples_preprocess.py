"""Valid calls of the public names in preprocess/, for tests/test_arguments.py: each is a function
returning the keyword arguments of one cheap call.

`OutlierToNaN` is a scikit-learn estimator, whose ``__init__`` only stores its arguments: it
checks them in ``fit``, which ``THEN`` calls after the constructor."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from nbhelpers import DataBundle, tabular


def table(rows=40, columns=3):
    return np.random.default_rng(0).normal(size=(rows, columns))


def labels(rows=40):
    return np.arange(rows) % 2


def bundle():
    g = torch.Generator().manual_seed(0)
    return DataBundle((torch.randn(40, 3, generator=g), torch.arange(40) % 2),
                      (torch.randn(10, 3, generator=g), torch.arange(10) % 2), None, ["a", "b"], "synthetic")


def holes():
    x = table()
    x[::4, 0] = np.nan
    return x


def gappy():
    return np.where(np.arange(20) % 5 == 2, np.nan, np.arange(20.0))


EXAMPLES = {
    "fit_on_train": lambda: dict(transformer=StandardScaler(), data=bundle()),
    "leakage_check": lambda: dict(step=StandardScaler(), model=LogisticRegression(), x=table(), y=labels(), seeds=(0,),
                                  cv=2, scoring="accuracy"),
    "inject_missing": lambda: dict(x=table(), rate=0.1, mechanism="mar", driver=0, seed=0),
    "make_imputer": lambda: dict(name="median", seed=0),
    "score_imputers": lambda: dict(x_true=table(), x_missing=holes(), imputers=["mean"], scale=True),
    "score_fills": lambda: dict(series_true=np.arange(20.0), series_missing=gappy(), methods=["ffill"]),
    "inject_outliers": lambda: dict(x=table(), rate=0.1, factor=10.0, seed=0),
    "robust_outliers": lambda: dict(x=table(), method="iqr", threshold=1.5, reference=table(20)),
    "score_outlier_rules": lambda: dict(x_bad=table(), truth=np.zeros((40, 3), dtype=bool), methods=["mad"]),
    "make_imbalanced": lambda: dict(x=table(), y=labels(), ratio=0.5, minority=1, seed=0),
    "resample": lambda: dict(x=table(), y=np.array([0] * 30 + [1] * 10), method="over", seed=0, k_neighbors=3),
    "class_weights": lambda: dict(y=labels(), num_classes=2),
    "compare_preprocessing": lambda: dict(data=tabular("wine"), pipelines={"raw": None}, seeds=(0,), epochs=1, lr=1e-3,
                                          batch_size=64, model=None, minority=0),
    "train_with_remedy": lambda: dict(data=tabular("wine"), remedy="under", minority=0, steps=2, lr=1e-3,
                                      batch_size=64, model=None, seed=0, callbacks=[]),
}

EXAMPLES["OutlierToNaN"] = lambda: dict(method="mad", threshold=None)
THEN = {"OutlierToNaN": lambda step: step.fit(table())}
