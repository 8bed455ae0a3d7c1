"""Comparisons of preprocessing choices by training the same network over several seeds.

The companion of the other `nbhelpers.preprocess` modules: `compare_preprocessing` trains one network after
each scikit-learn pipeline, `train_with_remedy` after each class-imbalance remedy (it plugs
into `sweep` and `explore`). `Comparison.versus` words two settings' difference with the
course's one rule (`nbhelpers.evaluation.seeds`), so a chapter's verdicts are computed.

Examples
--------
>>> from sklearn.preprocessing import MinMaxScaler, StandardScaler
>>> from nbhelpers import tabular
>>> study = compare_preprocessing(tabular("wine", standardize=False),
...                               {"min-max": MinMaxScaler(), "standard": StandardScaler()}, seeds=(0, 1), epochs=3)
>>> study.summary("valid_loss")[["setting", "n"]].values.tolist()
[['min-max', 2], ['standard', 2]]
>>> study.versus("standard", "min-max", "valid_loss").endswith("2 seeds): too few seeds to tell (2)")
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_number, check_type, fail
from ..data import DataBundle
from ..device import seed_everything
from ..evaluation.seeds import mean_ci, summarize, versus
from ..models import MLP
from ..plots import Figure
from ..training import fit, predict
from .imbalance import REMEDIES, class_weights, resample
from .leakage import BUNDLE, fit_on_train


def _scores(model: nn.Module, split: tuple, classes: Sequence[str], minority: int, accuracy: str) -> dict[str, float]:
    """Balanced accuracy, the rare class's recall/precision/F1, macro F1, accuracy, per-class recall."""
    from sklearn.metrics import precision_recall_fscore_support

    true, pred = split[1].cpu().numpy(), predict(model, split[0]).argmax(1).numpy()
    p, r, f, _ = precision_recall_fscore_support(true, pred, labels=range(len(classes)), zero_division=0)
    return {"balanced_accuracy": float(r.mean()), "rare_recall": float(r[minority]),
            "rare_precision": float(p[minority]), "rare_f1": float(f[minority]), "macro_f1": float(f.mean()),
            accuracy: float((true == pred).mean()), **{f"recall_{c}": float(v) for c, v in zip(classes, r)}}


def _check_model(func: str, model: Any) -> None:
    if model is not None and not callable(model):
        raise fail(func, "model", "None or a function (in_features, num_classes) -> nn.Module", model)


def _train(data: DataBundle, *, model: Callable | None, epochs: int, lr: float, batch_size: int, seed: int,
           loss: Any = "cross_entropy", callbacks: Sequence = (), minority: int | None,
           accuracy: str = "valid_accuracy") -> tuple[dict, pd.DataFrame]:
    """The one place this module trains: seed, build, `fit`, score on the validation rows."""
    seed_everything(seed)  # before the model is built: the seed fixes the initial weights
    k = data.num_classes
    net = (model or (lambda i, c: MLP(i, c, width=64)))(int(np.prod(data.input_shape)), k)
    result = fit(net, data, epochs=epochs, lr=lr, loss=loss, batch_size=batch_size, callbacks=list(callbacks),
                 progress=False, seed=seed)
    if result.stop_reason == "interrupted":  # Stop or Ctrl-C ends the whole comparison, not just this run
        raise KeyboardInterrupt(f"interrupted while training seed {seed}; the comparison stopped there.")
    if minority is None:
        minority = int(torch.bincount(data.train[1], minlength=k).argmin())
    scores = _scores(result.model, data.valid, data.classes, minority, accuracy)
    return {"valid_loss": result.final.get("valid_loss", math.nan), **scores}, result.history


def train_with_remedy(data: DataBundle, remedy: str = "none", *, minority: int | None = None, steps: int = 300,
                      lr: float = 1e-3, batch_size: int = 64, model: Callable | None = None, seed: int = 0,
                      callbacks: Sequence = ()) -> dict[str, Any]:
    """Train a network on ``data`` with one imbalance ``remedy``; score it on ``data.valid``.

    ``remedy``: ``"none"``, ``"over"``, ``"under"``, ``"smote"`` (`resample` the TRAINING rows;
    valid and test are never touched) or ``"weighted"`` (cross-entropy with `class_weights`).
    Every remedy gets about ``steps`` gradient steps, so under-sampling's smaller training
    set is not also trained for fewer steps. ``model(in_features, num_classes)`` builds the
    network (default: ``MLP(width=64)``). Returns the metrics (``balanced_accuracy`` first,
    then ``rare_recall``, ``rare_precision``, ``rare_f1`` of ``minority``, the rarest training
    class by default, ``macro_f1``, ``plain_accuracy``, ``recall_<class>`` for every class), the
    ``epochs`` that makes, and the ``history``, so it plugs into `sweep` and `explore`.

    >>> from nbhelpers import tabular
    >>> run = train_with_remedy(tabular("breast_cancer"), "smote", steps=20, seed=0)
    >>> list(run)[:4], 0 <= run["rare_recall"] <= 1
    (['balanced_accuracy', 'rare_recall', 'rare_precision', 'rare_f1'], True)
    """
    func = "train_with_remedy"
    check_type(func, "data", data, DataBundle, BUNDLE)
    if data.classes is None or data.valid is None:
        raise fail(func, "data", "a classification bundle with a validation split", repr(data.name))
    remedy = check_choice(func, "remedy", remedy, REMEDIES)
    check_number(func, "steps", steps, integer=True, low=1)
    check_number(func, "batch_size", batch_size, integer=True, low=1)
    check_number(func, "seed", seed, integer=True, low=0, high=2**32 - 1)
    _check_model(func, model)
    counts = torch.bincount(data.train[1].cpu(), minlength=data.num_classes)
    if minority is None:  # decided before resampling, which evens the counts out
        minority = int(torch.where(counts > 0, counts, counts.max() + 1).argmin())
    check_number(func, "minority", minority, integer=True, low=0, high=data.num_classes - 1)
    loss: Any = "cross_entropy"
    if remedy == "weighted":
        weight = class_weights(data.train[1], data.num_classes)
        loss = lambda out, y: F.cross_entropy(out, y, weight=weight.to(out.device))  # noqa: E731
    else:
        data = replace(data, train=resample(*data.train, remedy, seed=seed))
    epochs = max(1, round(steps / math.ceil(len(data.train[1]) / batch_size)))
    metrics, history = _train(data, model=model, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, loss=loss,
                              callbacks=callbacks, minority=minority, accuracy="plain_accuracy")
    metrics.pop("valid_loss")  # a weighted loss is not comparable with the others
    return {**metrics, "epochs": epochs, "history": history}


# ---------------------------------------------------------------- comparisons over seeds


@dataclass
class Comparison:
    """What `compare_preprocessing` returns: ``runs`` (one row per setting and seed, final
    validation metrics) and ``history`` (every epoch of every run, tidy)."""

    runs: pd.DataFrame
    history: pd.DataFrame

    def summary(self, metric: str = "valid_accuracy") -> pd.DataFrame:
        """Mean and 95% t-interval of ``metric`` per setting."""
        return summarize(self.runs, by="setting", metric=metric)

    def versus(self, a: str, b: str, metric: str = "valid_accuracy") -> str:
        """Setting ``a`` minus setting ``b`` on ``metric``, paired by seed, as one sentence (`versus`)."""
        return versus(self.runs, "setting", a, b, metric)

    def epochs_to(self, threshold: float, metric: str = "accuracy", split: str = "valid") -> pd.DataFrame:
        """Per setting: in how many runs ``metric`` on ``split`` reached ``threshold`` (at least it
        for accuracy, at most it for a loss), and after how many epochs (mean and 95% CI of those runs)."""
        check_number("Comparison.epochs_to", "threshold", threshold)
        rows = self.history[self.history["split"] == split]
        hit = rows[rows[metric] <= threshold] if "loss" in metric else rows[rows[metric] >= threshold]
        first = hit.groupby(["setting", "seed"], sort=False)["epoch"].min().rename("epochs").reset_index()
        columns = ["setting", "mean", "ci_low", "ci_high", "n"]
        found = summarize(first, by="setting", metric="epochs") if len(first) else pd.DataFrame(columns=columns)
        table = self.runs[["setting"]].drop_duplicates().merge(found, how="left")
        table.insert(1, "runs", self.runs.groupby("setting", sort=False).size().to_numpy())
        table.insert(2, "reached", table.pop("n").fillna(0).astype(int))
        return table

    def plot(self, metrics: str | Sequence[str] = ("loss", "accuracy"), split: str = "valid", title: str = "") -> Figure:
        """Each of ``metrics`` per epoch on ``split``: mean over seeds with its 95% t-interval as a
        band, one line per setting, one panel per metric."""
        import seaborn as sns

        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        rows = self.history[self.history["split"] == split]
        fig = Figure(figsize=(4.4 * len(metrics), 3.2), layout="constrained")
        with sns.axes_style("whitegrid"):
            for i, metric in enumerate(metrics):
                ax = fig.add_subplot(1, len(metrics), i + 1)
                sns.lineplot(data=rows, x="epoch", y=metric, hue="setting", ax=ax, legend=i == len(metrics) - 1,
                             errorbar=lambda v: mean_ci(v)[1:] if len(v) > 1 else (v.mean(), v.mean()))
                ax.set_ylabel(f"{split} {metric}")
        fig.suptitle(title or f"{split} set: mean of {self.runs['seed'].nunique()} seeds, 95% CI band")
        return fig


def compare_preprocessing(data: DataBundle | Callable[[int], DataBundle], pipelines: Mapping[str, Any], *,
                          seeds: Sequence[int] = (0, 1, 2), epochs: int = 20, lr: float = 1e-3, batch_size: int = 64,
                          model: Callable | None = None, minority: int | None = None) -> Comparison:
    """Train the same network after each preprocessing pipeline, over ``seeds``.

    ``pipelines`` maps a name to a scikit-learn transformer (or ``None`` for the data as
    they are); each is fit on the training rows only (`fit_on_train`). ``data`` is a bundle
    or a function ``seed -> bundle`` (a new split, or new injected noise, per seed). The seed
    also fixes the network's initial weights and batch order, so two settings with the same
    seed differ only in the preprocessing (compare them with `Comparison.versus`).

    >>> from sklearn.preprocessing import StandardScaler
    >>> from nbhelpers import tabular
    >>> study = compare_preprocessing(tabular("wine", standardize=False),
    ...                               {"raw": None, "standard": StandardScaler()}, seeds=(0, 1), epochs=2)
    >>> study.runs[["setting", "seed"]].values.tolist()
    [['raw', 0], ['raw', 1], ['standard', 0], ['standard', 1]]
    """
    func = "compare_preprocessing"
    if not callable(data):
        check_type(func, "data", data, DataBundle, BUNDLE + " or a function seed -> DataBundle")
    check_type(func, "pipelines", pipelines, Mapping, "a dict of name -> transformer (or None)")
    check_number(func, "epochs", epochs, integer=True, low=1)
    check_number(func, "minority", minority, integer=True, low=0, allow_none=True)
    _check_model(func, model)
    runs, histories = [], []
    for name, pipeline in pipelines.items():
        for seed in seeds:
            check_number(func, "seeds", seed, integer=True, low=0, high=2**32 - 1)
            bundle = data(int(seed)) if callable(data) else data
            check_type(func, "data", bundle, DataBundle, BUNDLE)
            if pipeline is not None:
                bundle = fit_on_train(pipeline, bundle)[0]
            started = time.perf_counter()
            metrics, history = _train(bundle, model=model, epochs=epochs, lr=lr, batch_size=batch_size,
                                      seed=int(seed), minority=minority)
            runs.append({"setting": name, "seed": int(seed), **metrics, "seconds": time.perf_counter() - started})
            histories.append(history.assign(setting=name, seed=int(seed)))
    return Comparison(pd.DataFrame(runs), pd.concat(histories, ignore_index=True))
