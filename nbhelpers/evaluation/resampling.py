"""Honest numbers from resampling: the bootstrap, k-fold cross-validation, and what picking the
best of several settings on the same data costs.

Three sources of noise sit in every test score: the seed (initial weights, batch order), the
split (which rows trained and which tested) and the finite test set (which images happened
to be drawn). `summarize` and `paired_gain` (``seeds.py``) handle the first over seeds;
here `bootstrap` gives the third, resampling the test rows with replacement, `cross_validate`
averages over the second (every row tests once), and `selection_bias` measures how much a
winner chosen on validation loses when it is scored on rows it was not chosen on.

>>> import numpy as np
>>> p = np.tile([[0.2, 0.8]], (200, 1))
>>> y = np.r_[np.ones(160, int), np.zeros(40, int)]
>>> found = bootstrap(p, y, "accuracy", resamples=500)
>>> found.value, found.low < 0.8 < found.high
(0.8, True)
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._checks import (COUNT, SEED, TEXT, AnyOf, Function, Instance, Optional, Real, Satisfies, checked, fail,
                       shown)
from .report import BINARY, LABELS, LOGITS, MULTI, POSITIVE, SCORES, THRESHOLD, as_probabilities, metric_value
from .seeds import CONFIDENCE, better_for, text_format

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure

METRIC = AnyOf(Satisfies(lambda v: isinstance(v, str) and v in MULTI + BINARY, "a metric name such as 'accuracy' "
                         "(metrics lists them)", bad=["acuracy"]),
               Function("a function f(labels, probabilities) -> float"))


@dataclass(frozen=True)
class Bootstrap:
    """`bootstrap`'s answer: ``value`` on the rows as given, the percentile interval ``low`` to
    ``high`` at ``confidence``, and the ``draws`` (one value per usable resample).

    Formats as words: a share as percent (``87.4% (95% CI 86.1% to 88.6%, 2000 resamples)``),
    a difference (``paired``) in points as `ci_text` writes effects; a format spec
    (``f"{found:.3f}"``) applies to the three numbers.
    """

    metric: str
    value: float
    low: float
    high: float
    confidence: float
    draws: np.ndarray
    paired: bool = False

    def __format__(self, spec: str) -> str:
        tail = f"{self.confidence:.0%} CI"
        count = f"{len(self.draws)} resamples"
        if spec:
            return f"{self.value:{spec}} ({tail} {self.low:{spec}} to {self.high:{spec}}, {count})"
        words = text_format(self.metric)
        if self.paired:
            scale, digits, unit = words["scale"], words["digits"], words["unit"]
            sign = lambda v: f"{v * scale:+.{digits}f}"  # noqa: E731
            return f"{sign(self.value)}{unit} ({tail} {sign(self.low)} to {sign(self.high)}, {count})"
        if words["unit"] == " points":
            return f"{self.value:.1%} ({tail} {self.low:.1%} to {self.high:.1%}, {count})"
        return f"{self.value:.3f} ({tail} {self.low:.3f} to {self.high:.3f}, {count})"

    def __str__(self) -> str:
        return format(self)


def _scorer(metric, positive, threshold) -> tuple[str, Callable[[np.ndarray, np.ndarray], float]]:
    if isinstance(metric, str):
        return metric, lambda y, p: metric_value(metric, y, p, positive, threshold)
    return getattr(metric, "__name__", "metric"), lambda y, p: float(metric(y, p))


@checked(scores=SCORES, y=LABELS, metric=METRIC, baseline=Optional(SCORES), resamples=Real(low=10, integer=True),
         confidence=CONFIDENCE, seed=SEED, positive=POSITIVE, threshold=THRESHOLD, logits=LOGITS)
def bootstrap(scores, y, metric: str | Callable = "accuracy", *, baseline=None, resamples: int = 2000,
              confidence: float = 0.95, seed: int = 0, positive: int | None = None, threshold: float = 0.5,
              logits: bool | None = None) -> Bootstrap:
    """A percentile bootstrap interval for ``metric`` on a test set: the rows are drawn with
    replacement ``resamples`` times, the metric computed on each draw, and the middle
    ``confidence`` of those values is the interval.

    It measures the noise of a finite test set only: another seed or another split is not
    in it (`summarize` over seeds, `cross_validate` over splits). ``metric`` is a name of
    `classification_metrics` or ``f(labels, probabilities) -> float``. With ``baseline`` (a second model's
    scores on the same rows) it bootstraps the difference ``metric(scores) -
    metric(baseline)`` on the same draws: paired, so what both models get right or wrong
    cancels. Draws where the metric is undefined (an AUC without both classes) are left out.

    >>> import torch
    >>> y = torch.arange(100) % 2
    >>> found = bootstrap(torch.randn(100, 2), y, baseline=torch.randn(100, 2), resamples=200)
    >>> found.paired, found.low <= found.value <= found.high
    (True, True)
    """
    func = "bootstrap"
    p, labels = as_probabilities(func, scores, y, logits)
    name, score = _scorer(metric, positive, threshold)
    q = None
    if baseline is not None:
        q, _ = as_probabilities(func, baseline, y, logits)
        if q.shape != p.shape:
            raise fail(func, "baseline", f"scores of the same shape as `scores` {p.shape}", f"shape {q.shape}")
    value = score(labels, p) - (score(labels, q) if q is not None else 0.0)
    rng, n = np.random.default_rng(seed), len(labels)
    if name == "accuracy" and not callable(metric):  # a mean of 0/1 per row: all draws at once
        from .report import predicted

        per_row = (predicted(p, positive, threshold) == labels).astype(float)
        if q is not None:
            per_row -= predicted(q, positive, threshold) == labels
        draws = np.concatenate([per_row[rng.integers(0, n, (min(256, resamples - i), n))].mean(axis=1)
                                for i in range(0, resamples, 256)])
    else:
        draws = np.empty(resamples)
        for i in range(resamples):
            rows = rng.integers(0, n, n)
            draws[i] = score(labels[rows], p[rows]) - (score(labels[rows], q[rows]) if q is not None else 0.0)
    draws = draws[np.isfinite(draws)]
    if len(draws) < 10:
        raise fail(func, "metric", "a metric defined on most resamples of the rows", name,
                   f"Only {len(draws)} of {resamples} resamples gave a value.")
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Bootstrap(name, float(value), float(low), float(high), confidence, draws, q is not None)


@checked(result=Instance(Bootstrap, "what bootstrap returns"), title=TEXT)
def plot_bootstrap(result: Bootstrap, title: str = "") -> Figure:
    """The bootstrap draws as a histogram, with the value on all rows and the interval's ends.

    >>> import numpy as np
    >>> len(plot_bootstrap(bootstrap(np.tile([[0.3, 0.7]], (50, 1)), [1] * 40 + [0] * 10, resamples=100)).axes)
    1
    """
    from ..plots._figure import figure_class

    scale = text_format(result.metric)["scale"]
    fig = figure_class()(figsize=(5.6, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.hist(result.draws * scale, bins=40, color="C0", alpha=0.6)
    ax.axvline(result.value * scale, color="0.1", lw=1.5, label="on the test rows as drawn")
    for end in (result.low, result.high):
        ax.axvline(end * scale, color="C3", ls="--", lw=1.2)
    ax.plot([], [], "--", color="C3", label=f"{result.confidence:.0%} interval")
    unit = " (points)" if result.paired and scale == 100 else " (%)" if scale == 100 else ""
    ax.set(xlabel=("difference in " if result.paired else "") + result.metric + unit,
           ylabel=f"resamples (of {len(result.draws)})")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _labels_of(func: str, data) -> np.ndarray:
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and len(data[0]) == len(data[1]) > 0):
        raise fail(func, "data", "an (x, y) pair of the same length, such as data.train", shown(data))
    y = data[1]
    return y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)


def _take(values, rows: np.ndarray):
    return values[torch.from_numpy(rows)] if isinstance(values, torch.Tensor) else np.asarray(values)[rows]


def _numbers(found) -> dict:
    if hasattr(found, "model") and hasattr(found, "final"):  # a TrainResult: its final metrics
        found = found.final
    if not isinstance(found, Mapping):
        raise fail("cross_validate", "train_fn", "a function that returns a dict of metrics (or fit's TrainResult)",
                   type(found).__name__)
    return {k: float(v) for k, v in found.items() if isinstance(v, numbers.Real) and not isinstance(v, bool)}


@checked(train_fn=Function("a function train_fn(train, valid, **settings) -> dict of metrics (or fit's result)"),
         data=Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2, "an (x, y) pair, such as data.train",
                        bad=["data", 3]), folds=Real(low=2, integer=True), seed=SEED)
def cross_validate(train_fn: Callable, data, *, folds: int = 5, seed: int = 0, **settings) -> pd.DataFrame:
    """Stratified k-fold cross-validation: every row of ``data`` validates once, in one of ``folds`` parts.

    ``train_fn(train, valid, **settings)`` trains on the ``(x, y)`` pair ``train`` and returns
    its metrics on ``valid`` as a dict (``{"valid_accuracy": ...}``), or `fit`'s result (its
    final metrics are used: give ``fit`` the ``valid`` split). It also gets ``seed`` if it
    takes one. The folds keep each class's share (scikit-learn's ``StratifiedKFold``,
    shuffled by ``seed``; plain ``KFold`` for real-valued targets). One row per fold:
    ``fold``, ``folds``, ``seed``, ``n_train``, ``n_valid``, the ``settings`` and every number
    ``train_fn`` returned; ``attrs["valid_rows"]`` lists each fold's validation rows.

    ``summarize(table, by="folds", metric="valid_accuracy")`` gives the mean and a t-interval
    over the folds. The folds share most of their training rows, so their scores are not
    independent and that interval is somewhat too narrow (Bengio and Grandvalet, 2004): run
    it for several ``seed`` values to see the spread of the whole procedure. Two settings
    cross-validated with the same ``seed`` share their folds: ``paired_gain(..., seed="fold")``.

    >>> import torch
    >>> from nbhelpers import MLP, fit
    >>> x, y = torch.randn(60, 4), torch.arange(60) % 2
    >>> def train(train, valid, seed=0):
    ...     return fit(MLP(4, 2, width=8), (train, valid), epochs=1, lr=1e-2, progress=False, seed=seed)
    >>> table = cross_validate(train, (x, y), folds=3)
    >>> table[["fold", "n_train", "n_valid"]].values.tolist()
    [[0, 40, 20], [1, 40, 20], [2, 40, 20]]
    """
    import pandas as pd
    from sklearn.model_selection import KFold, StratifiedKFold

    func = "cross_validate"
    labels = _labels_of(func, data)
    classify = labels.dtype.kind in "iub" or bool(np.all(labels == np.round(labels)))
    if classify and folds > np.bincount(labels.astype(np.int64) - labels.min().astype(np.int64)).min():
        raise fail(func, "folds", "at most the count of the rarest class, so each fold holds every class", folds)
    if not classify and folds > len(labels):
        raise fail(func, "folds", f"at most the number of rows ({len(labels)})", folds)
    splitter = (StratifiedKFold if classify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    takes_seed = "seed" in inspect.signature(train_fn).parameters
    rows, valid_rows = [], []
    for fold, (train, valid) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        x, y = data
        found = train_fn((_take(x, train), _take(y, train)), (_take(x, valid), _take(y, valid)), **settings,
                         **({"seed": seed} if takes_seed else {}))
        rows.append({"fold": fold, "folds": folds, "seed": seed, "n_train": len(train), "n_valid": len(valid),
                     **{k: v for k, v in settings.items() if isinstance(v, (numbers.Number, str))},
                     **_numbers(found)})
        valid_rows.append(valid)
    table = pd.DataFrame(rows)
    table.attrs["valid_rows"] = valid_rows
    return table


CANDIDATES = Satisfies(lambda v: isinstance(v, (list, tuple, range)) and len(v) > 0 and all(
    isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1 for k in v),
    "a list of how many settings to pick from, each >= 1, such as (1, 2, 5, 10)", bad=[[0], "5", 5])
OUTPUTS = Satisfies(lambda v: isinstance(v, Mapping) and len(v) >= 1 and all(SCORES.ok(s) for s in v.values()),
                    "a dict of setting name -> its scores on the same rows", bad=[{}, [1, 2]])


@checked(outputs=OUTPUTS, y=LABELS, candidates=CANDIDATES, valid_size=COUNT, test_size=COUNT, seed=SEED,
         metric=METRIC, logits=LOGITS)
def selection_bias(outputs: Mapping, y, *, candidates: Sequence[int] = (1, 2, 5, 10), valid_size: int = 500,
                   test_size: int = 500, seed: int = 0, metric: str | Callable = "accuracy",
                   logits: bool | None = None) -> pd.DataFrame:
    """The optimism of a winner picked on validation, measured: pick the best of ``k`` settings on
    one part of the rows, score it on another.

    ``outputs`` maps each setting (a model, a run) to its scores on the same rows ``y``. The
    rows are shuffled (by ``seed``) and cut into as many disjoint blocks of ``valid_size +
    test_size`` as they hold; each block is one repetition, independent of the others. In
    each, for every ``k`` of ``candidates``, ``k`` settings are drawn at random, the best on
    the block's validation rows wins, and the winner is scored on both parts. One row per
    ``k``, repetition and part: ``candidates``, ``repeat``, ``scored_on`` (``"validation"`` or
    ``"test"``), ``winner`` and ``metric``. ``paired_gain(table, column="scored_on",
    baseline="validation", metric=..., by="candidates", seed="repeat")`` then gives test
    minus validation per ``k``: the drop a reader would see, with its interval. ``k = 1``
    picks nothing and is the control: its drop is zero up to noise.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> same = {f"run {i}": np.where(rng.random(400) < 0.7, y, 1 - y) for i in range(5)}  # five equal runs
    >>> table = selection_bias({k: np.eye(2)[v] for k, v in same.items()}, y, candidates=(1, 5), valid_size=50,
    ...                        test_size=50)
    >>> table["repeat"].nunique(), sorted(table["scored_on"].unique())
    (4, ['test', 'validation'])
    """
    import pandas as pd

    func = "selection_bias"
    name, score = _scorer(metric, None, 0.5)
    names = list(outputs)
    if max(candidates) > len(names):
        raise fail(func, "candidates", f"counts up to the {len(names)} settings of `outputs`", max(candidates))
    probabilities = {}
    for key, value in outputs.items():
        probabilities[key], labels = as_probabilities(func, value, y, logits)
    block = valid_size + test_size
    repeats = len(labels) // block
    if repeats == 0:
        raise fail(func, "valid_size", f"with test_size at most the {len(labels)} rows", valid_size)
    order = np.random.default_rng(seed).permutation(len(labels))
    sign = -1.0 if better_for(name) == "lower" else 1.0
    rows = []
    for r in range(repeats):
        part = {"validation": order[r * block:r * block + valid_size],
                "test": order[r * block + valid_size:(r + 1) * block]}
        found = {key: {where: score(labels[i], probabilities[key][i]) for where, i in part.items()} for key in names}
        for k in candidates:
            drawn = np.random.default_rng([seed, r, k]).choice(len(names), size=k, replace=False)
            values = [sign * found[names[i]]["validation"] for i in drawn]
            winner = names[drawn[int(np.nanargmax(values))]]
            rows += [{"candidates": k, "repeat": r, "scored_on": where, "winner": winner, name: found[winner][where]}
                     for where in part]
    table = pd.DataFrame(rows)
    table.attrs.update(valid_size=valid_size, test_size=test_size, repeats=repeats)
    return table


__all__ = ["Bootstrap", "bootstrap", "cross_validate", "plot_bootstrap", "selection_bias"]
