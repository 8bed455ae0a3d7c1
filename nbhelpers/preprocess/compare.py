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
>>> study.versus("standard", "min-max", "valid_loss").endswith("2 seeds: too few seeds to tell (2))")
True
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._checks import (COUNT, LEARNING_RATE, SEED, TEXT, check_number, checked, Choice, fail, Optional, Real,
                       shown)
from ..data import DataBundle
from ..device import seed_everything
from ..evaluation.claims import versus
from ..evaluation.seeds import mean_ci, summarize
from ..models import MLP
from ..training import fit, predict
from ..training.fit_arguments import FIT_ARGUMENTS
from .arguments import BUNDLE, DATA, DATA_OR_FUNCTION, MODEL_BUILDER, PIPELINES, SEEDS
from .imbalance import REMEDIES, class_weights, resample
from .leakage import fit_on_train

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure


MINORITY = Optional(Real(low=0, integer=True))


def _scores(model: nn.Module, split: tuple, classes: Sequence[str], minority: int, accuracy: str) -> dict[str, float]:
    """Balanced accuracy, the rare class's recall/precision/F1, macro F1, accuracy, per-class recall."""
    from sklearn.metrics import precision_recall_fscore_support

    true, pred = split[1].cpu().numpy(), predict(model, split[0]).argmax(1).numpy()
    p, r, f, _ = precision_recall_fscore_support(true, pred, labels=range(len(classes)), zero_division=0)
    return {"balanced_accuracy": float(r.mean()), "rare_recall": float(r[minority]),
            "rare_precision": float(p[minority]), "rare_f1": float(f[minority]), "macro_f1": float(f.mean()),
            accuracy: float((true == pred).mean()), **{f"recall_{c}": float(v) for c, v in zip(classes, r)}}


def _check_bundle(func: str, data: Any, minority: int | None) -> None:
    """What training needs of a bundle: classes, a validation split, and ``minority`` one of its classes."""
    if not isinstance(data, DataBundle):  # what a function seed -> bundle returned
        raise fail(func, "data", BUNDLE + " or a function seed -> DataBundle", f"a function returning {shown(data)!r}")
    if data.classes is None or data.valid is None:
        raise fail(func, "data", "a classification bundle with a validation split", repr(data.name))
    if minority is not None:
        check_number(func, "minority", minority, integer=True, low=0, high=data.num_classes - 1)


def _one_of(func: str, name: str, value: Any, options: Sequence, what: str) -> Any:
    """``value`` if it is one of ``options`` (settings, columns, splits found in the results), else
    the standard error listing them, with a did-you-mean for a misspelled name."""
    options = list(options)
    if isinstance(value, str | int | float) and value in options:
        return value
    close = difflib.get_close_matches(value, [str(o) for o in options], n=1) if isinstance(value, str) else []
    raise fail(func, name, f"{what}: " + ", ".join(map(repr, options)), shown(value),
               f"Did you mean {close[0]!r}?" if close else "")


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


@checked(data=DATA, remedy=Choice(*REMEDIES), minority=MINORITY, steps=COUNT, lr=LEARNING_RATE, batch_size=COUNT,
         model=MODEL_BUILDER, seed=SEED, callbacks=FIT_ARGUMENTS["callbacks"])
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
    _check_bundle("train_with_remedy", data, minority)
    counts = torch.bincount(data.train[1].cpu(), minlength=data.num_classes)
    if minority is None:  # decided before resampling, which evens the counts out
        minority = int(torch.where(counts > 0, counts, counts.max() + 1).argmin())
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

    def _metric(self, func: str, name: str, metric: Any) -> str:
        return _one_of(func, name, metric, [c for c in self.runs.columns if c not in ("setting", "seed")],
                       "a metric column of `runs`")

    def _curve(self, func: str, metric: Any, split: Any, name: str = "metric") -> None:
        """Check a per-epoch ``metric`` and a ``split`` against what ``history`` holds."""
        _one_of(func, "split", split, self.history["split"].unique(), "a split of `history`")
        _one_of(func, name, metric, [c for c in self.history.columns if c not in ("epoch", "split", "setting", "seed")],
                "a per-epoch metric of `history`")

    def summary(self, metric: str = "valid_accuracy") -> pd.DataFrame:
        """Mean and 95% t-interval of ``metric`` per setting."""

        return summarize(self.runs, by="setting", metric=self._metric("Comparison.summary", "metric", metric))

    def versus(self, a: str, b: str, metric: str = "valid_accuracy") -> str:
        """Setting ``a`` minus setting ``b`` on ``metric``, paired by seed, as one sentence (`versus`)."""
        func, settings = "Comparison.versus", list(self.runs["setting"].unique())
        _one_of(func, "a", a, settings, "a setting of this comparison")
        _one_of(func, "b", b, [s for s in settings if s != a], "a setting of this comparison other than a")
        return versus(self.runs, "setting", a, b, self._metric(func, "metric", metric))

    @checked(threshold=Real())
    def epochs_to(self, threshold: float, metric: str = "accuracy", split: str = "valid") -> pd.DataFrame:
        """Per setting: in how many runs ``metric`` on ``split`` reached ``threshold`` (at least it
        for accuracy, at most it for a loss), and after how many epochs (mean and 95% CI of those runs)."""
        import pandas as pd

        self._curve("Comparison.epochs_to", metric, split)
        rows = self.history[self.history["split"] == split]
        hit = rows[rows[metric] <= threshold] if "loss" in metric else rows[rows[metric] >= threshold]
        first = hit.groupby(["setting", "seed"], sort=False)["epoch"].min().rename("epochs").reset_index()
        columns = ["setting", "mean", "ci_low", "ci_high", "n"]
        found = summarize(first, by="setting", metric="epochs") if len(first) else pd.DataFrame(columns=columns)
        table = self.runs[["setting"]].drop_duplicates().merge(found, how="left")
        table.insert(1, "runs", self.runs.groupby("setting", sort=False).size().to_numpy())
        table.insert(2, "reached", table.pop("n").fillna(0).astype(int))
        return table

    @checked(title=TEXT)
    def plot(self, metrics: str | Sequence[str] = ("loss", "accuracy"), split: str = "valid", title: str = "") -> Figure:
        """Each of ``metrics`` per epoch on ``split``: mean over seeds with its 95% t-interval as a
        band, one line per setting, one panel per metric."""
        from ..plots._figure import Figure

        metrics = [metrics] if isinstance(metrics, str) else list(metrics) if isinstance(metrics, list | tuple) else metrics
        if not (isinstance(metrics, list) and metrics):
            raise fail("Comparison.plot", "metrics", "a metric name or a non-empty list of them", shown(metrics))
        for metric in metrics:
            self._curve("Comparison.plot", metric, split, "metrics")
        import seaborn as sns

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


@checked(data=DATA_OR_FUNCTION, pipelines=PIPELINES, seeds=SEEDS, epochs=COUNT, lr=LEARNING_RATE, batch_size=COUNT,
         model=MODEL_BUILDER, minority=MINORITY)
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
    import pandas as pd

    if isinstance(data, DataBundle):
        _check_bundle("compare_preprocessing", data, minority)
    runs, histories = [], []
    for name, pipeline in pipelines.items():
        for seed in seeds:
            bundle = data if isinstance(data, DataBundle) else data(int(seed))
            if bundle is not data:
                _check_bundle("compare_preprocessing", bundle, minority)
            if pipeline is not None:
                bundle = fit_on_train(pipeline, bundle)[0]
            started = time.perf_counter()
            metrics, history = _train(bundle, model=model, epochs=epochs, lr=lr, batch_size=batch_size,
                                      seed=int(seed), minority=minority)
            runs.append({"setting": name, "seed": int(seed), **metrics, "seconds": time.perf_counter() - started})
            histories.append(history.assign(setting=name, seed=int(seed)))
    return Comparison(pd.DataFrame(runs), pd.concat(histories, ignore_index=True))
