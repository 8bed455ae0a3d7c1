"""Numbers you can trust: means and paired differences over seeds, and the name rule of metrics.

A single run is one draw from a noisy process (initialization, shuffling, augmentation).
Chapters compare settings over several seeds: `mean_ci` / `summarize` give a mean with its
Student-t interval, `paired_gain` the difference to a baseline seed by seed (with the noise
of a small test set and a screen of many settings accounted for, when asked), and
`per_class_long` turns per-class columns into rows. A metric's name says which side is
better (`better_for`), which values it can take (`value_range`) and how to write it
(`text_format`). The words (`verdict`, `ci_text`, `effect`, `versus`, `say`) are in
`claims.py`, the one home of what a chapter tells its reader.

Examples
--------
>>> import pandas as pd
>>> [round(v, 3) for v in mean_ci([0.80, 0.82, 0.81])]
[0.81, 0.785, 0.835]
>>> runs = pd.DataFrame({"n_train": [500] * 4, "recipe": ["none", "flip"] * 2,
...                      "seed": [0, 0, 1, 1], "valid_accuracy": [0.70, 0.74, 0.72, 0.75]})
>>> gain = paired_gain(runs, column="recipe", baseline="none", metric="valid_accuracy", by="n_train")
>>> gain[["n_train", "recipe", "n"]].values.tolist(), round(float(gain["mean"][0]), 3)
([[500, 'flip', 2]], 0.035)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._checks import COLUMN, AnyOf, Anything, checked, Choice, fail, Frame, Instance, Optional, Real, Satisfies

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


RUNS = Frame("a pandas DataFrame (one row per run, e.g. what sweep returns)")
NAMES = AnyOf(COLUMN, Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v),
                              "a list of column names", bad=[[1, 2]]))
CONFIDENCE = Real(low=0, high=1, low_open=True, high_open=True)
METRIC_NAME = Instance(str, "a metric name such as 'valid_accuracy'")


BOUNDS = Optional(Satisfies(lambda v: isinstance(v, tuple) and len(v) == 2 and all(
    isinstance(b, numbers.Real) and not isinstance(b, bool) for b in v) and v[0] < v[1],
    "a (low, high) pair with low < high, such as (0, 1)", bad=[(1, 0), [0, 1], ("a", "b")]))
IMAGES = Optional(AnyOf(Real(low=1, integer=True), COLUMN))
COMPARISONS = AnyOf(Real(low=1, integer=True), Choice("all"))


def _interval(values: Sequence[float], confidence: float, bounds: tuple[float, float] | None = None,
              extra_variance: float = 0.0) -> tuple[float, float, float]:
    """Mean and Student-t interval of ``values``; ``extra_variance`` adds a second source of noise
    to the mean's variance (the test images'); the interval is clipped to ``bounds``."""
    data = np.asarray(list(values), dtype=float)
    mean = float(data.mean())
    if data.size < 2:
        return mean, math.nan, math.nan
    from scipy import stats  # scipy.stats costs 0.3 s to import: loaded when first needed

    spread = math.sqrt(data.var(ddof=1) / data.size + extra_variance)
    half = float(stats.t.ppf((1 + confidence) / 2, data.size - 1) * spread)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, float(bounds[0])), min(high, float(bounds[1]))
    return mean, low, high


@checked(values=Satisfies(lambda v: hasattr(v, '__iter__') and not isinstance(v, (str, dict)),
                           "a non-empty sequence of numbers", bad=["0.8", 3]), confidence=CONFIDENCE, bounds=BOUNDS)
def mean_ci(values: Sequence[float], confidence: float = 0.95,
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its Student-t confidence interval.

    With one value the interval is ``(nan, nan)``: one run says nothing about the noise.
    ``bounds`` clips the interval to the values the metric can take (``(0, 1)`` for an
    accuracy), so a mean near 100% does not get an interval past it.

    >>> [round(v, 3) for v in mean_ci([0.97, 0.99, 1.0], bounds=(0, 1))]
    [0.987, 0.949, 1.0]
    """
    data = list(values)
    if len(data) == 0:
        raise fail("mean_ci", "values", "a non-empty sequence of numbers", data)
    return _interval(data, confidence, bounds)


def _missing(func: str, runs: pd.DataFrame, **names: Sequence[str]) -> None:
    for name, columns in names.items():
        missing = [c for c in columns if c not in runs.columns]
        if missing:
            raise fail(func, name, "column names of `runs`: " + ", ".join(map(str, runs.columns)), missing[0])


def _per_image(func: str, frame: pd.DataFrame, images: int | str | None) -> np.ndarray | None:
    """The runs' per-image correctness (runs x images) when the ``images`` column holds it, else None."""
    if not isinstance(images, str) or not len(frame) or isinstance(frame[images].iloc[0], numbers.Real):
        return None
    try:
        rows = [np.asarray(v, dtype=float).ravel() for v in frame[images]]
        if len({len(r) for r in rows}) == 1 and len(rows[0]):
            return np.stack(rows)
    except (TypeError, ValueError):
        pass
    raise fail(func, "images", "a count, or a column of counts or of per-image correctness (0/1 arrays of one "
               "length: the same test images for every run)", images)


def _image_variance(func: str, frame: pd.DataFrame, metric: str, images: int | str | None) -> np.ndarray:
    """Per run: the variance of its accuracy from the finite test set, p(1-p)/N with p smoothed
    to (k+1)/(N+2) so that 0% and 100% still have noise. Zeros when ``images`` is None."""
    if images is None:
        return np.zeros(len(frame))
    if value_range(metric) != (0.0, 1.0):
        raise fail(func, "images", "None for a metric that is not a share of images (accuracy, recall, ...)", images,
                   f"`{metric}` is not one.")
    per_image = _per_image(func, frame, images)
    count = (np.full(len(frame), float(per_image.shape[1])) if per_image is not None else
             frame[images].to_numpy(float) if isinstance(images, str) else np.full(len(frame), float(images)))
    smoothed = (frame[metric].to_numpy(float) * count + 1) / (count + 2)
    return smoothed * (1 - smoothed) / count


@checked(runs=RUNS, by=NAMES, metric=COLUMN, confidence=CONFIDENCE, images=IMAGES)
def summarize(runs: pd.DataFrame, by: str | Sequence[str], metric: str, confidence: float = 0.95,
              images: int | str | None = None) -> pd.DataFrame:
    """One row per group of ``by``: ``mean``, ``ci_low``, ``ci_high``, ``n`` of ``metric``.

    The interval is over the runs (seeds) and clipped to what the metric can take
    (`value_range`). ``images`` (a count, or the column holding each run's count) adds the
    noise of scoring on a finite test set: an accuracy on 50 images is uncertain even when
    every seed gets the same number, so the interval never has width 0. It is for runs scored
    on the same test images, whose noise no number of seeds averages away; runs scored on
    images of their own (other splits, other folds) carry that noise in their spread already.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"setting": ["a"] * 3, "acc": [1.0, 1.0, 1.0]})
    >>> summarize(runs, "setting", "acc")[["mean", "ci_low", "ci_high"]].values.round(3).tolist()
    [[1.0, 1.0, 1.0]]
    >>> summarize(runs, "setting", "acc", images=50)[["mean", "ci_low", "ci_high"]].values.round(3).tolist()
    [[1.0, 0.916, 1.0]]
    """
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    _missing("summarize", runs, by=keys, metric=[metric], images=[images] if isinstance(images, str) else [])
    rows = []
    for group, frame in runs.groupby(keys, sort=False):
        extra = _image_variance("summarize", frame, metric, images).mean()
        mean, low, high = _interval(frame[metric].tolist(), confidence, value_range(metric), extra)
        group = group if isinstance(group, tuple) else (group,)
        rows.append({**dict(zip(keys, group)), "mean": mean, "ci_low": low, "ci_high": high, "n": len(frame)})
    return pd.DataFrame(rows)


def _paired_image_variance(func: str, treated: pd.DataFrame, base: pd.DataFrame, index: list[str], both,
                           images: str) -> float:
    """The test images' noise in the mean paired difference, from per-image correctness: for each
    image, the setting's correctness minus the baseline's averaged over the seeds; the variance of
    that over the images, over their number. One pseudo-image each way (+1 and -1) keeps it above
    zero when the two settings agree on every image."""
    def as_key(key) -> tuple:
        return key if isinstance(key, tuple) else (key,)

    def by_seed(frame: pd.DataFrame) -> np.ndarray:  # seeds x images, in the order of ``both``
        rows = {as_key(key): _per_image(func, runs, images).mean(axis=0) for key, runs in frame.groupby(index)}
        return np.stack([rows[as_key(key)] for key in both])

    difference = (by_seed(treated) - by_seed(base)).mean(axis=0)
    difference = np.concatenate([difference, [1.0, -1.0]])
    return float(difference.var(ddof=1) / (len(difference) - 2))


@checked(runs=RUNS, column=COLUMN, baseline=Anything(), metric=COLUMN, by=AnyOf(NAMES, Satisfies(lambda v: v == (),
         "()")), seed=COLUMN, confidence=CONFIDENCE, images=IMAGES, comparisons=COMPARISONS)
def paired_gain(runs: pd.DataFrame, *, column: str, baseline, metric: str, by: str | Sequence[str] = (),
                seed: str = "seed", confidence: float = 0.95, images: int | str | None = None,
                comparisons: int | str = 1) -> pd.DataFrame:
    """Each setting of ``column`` minus ``baseline``, paired by ``seed``: mean and t-interval.

    Runs with the same seed (and the same ``by`` values) are compared with each other, so
    what the seed decides (the subset drawn, the initial weights) cancels out; the interval
    is over the per-seed differences, clipped to what a difference of the metric can take.
    One row per ``by`` group and setting: ``by...``, ``column``, ``mean``, ``ci_low``,
    ``ci_high``, ``n`` (the seeds found for both).

    ``images`` (a count, or the column with each run's count) adds the noise of a finite
    test set, bounded as if the two settings erred on unrelated images (a wider interval
    than the truth, never a narrower one); use it where few images, the same for every seed,
    decide the metric, such as the accuracy of one class (not where each seed scores its own
    split: its spread holds that noise already). A column of per-image correctness instead
    (one 0/1 array per run, the same images in the same order, as `train_fast` returns in
    ``correct``) pairs the images too: two settings that err on mostly the same images then
    get the narrower interval they have earned. ``comparisons`` widens every interval for a screen of
    many settings (Bonferroni: each at confidence ``1 - (1 - confidence) / comparisons``),
    so the best of the screen's intervals still holds; ``"all"`` counts the settings
    compared in each group. `effect` then says how many comparisons the interval covers.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"lr": [1, 2, 3] * 3, "seed": [0] * 3 + [1] * 3 + [2] * 3,
    ...                      "acc": [.80, .83, .81, .80, .84, .80, .81, .83, .82]})
    >>> plain = paired_gain(runs, column="lr", baseline=1, metric="acc")
    >>> screen = paired_gain(runs, column="lr", baseline=1, metric="acc", comparisons="all")
    >>> float(plain["ci_low"][0].round(3)), float(screen["ci_low"][0].round(3)), screen.attrs["comparisons"]
    (0.005, -0.006, 2)
    """
    import pandas as pd

    func = "paired_gain"
    keys = [by] if isinstance(by, str) else list(by)
    _missing(func, runs, column=[column], metric=[metric], by=keys, seed=[seed],
             images=[images] if isinstance(images, str) else [])
    taken = {"mean", "ci_low", "ci_high", "n"} & {*keys, column}
    if taken:
        raise fail(func, "by" if taken & set(keys) else "column", "names other than the output's mean, ci_low, "
                   "ci_high, n (rename that column first)", sorted(taken)[0])
    if not (runs[column] == baseline).any():
        raise fail(func, "baseline", f"a value of runs['{column}']: " + ", ".join(map(str, runs[column].unique())),
                   baseline)
    index = [*keys, seed]
    runs = runs.assign(_image_variance=_image_variance(func, runs, metric, images))
    paired = _per_image(func, runs, images) is not None
    base_runs = runs[runs[column] == baseline]
    base = base_runs.groupby(index)[[metric, "_image_variance"]].mean()
    treated_groups = list(runs[runs[column] != baseline].groupby([*keys, column], sort=False))
    if comparisons == "all":
        per_group = pd.Series([g[:-1] if isinstance(g, tuple) else () for g, _ in treated_groups]).value_counts()
        comparisons = int(per_group.max()) if len(per_group) else 1
    level = 1 - (1 - confidence) / comparisons
    low_value, high_value = value_range(metric)
    rows = []
    for group, frame in treated_groups:
        group = group if isinstance(group, tuple) else (group,)
        treated = frame.groupby(index)[[metric, "_image_variance"]].mean()
        both = treated.index.intersection(base.index)
        if len(both) == 0:
            continue
        diffs = (treated.loc[both, metric] - base.loc[both, metric]).tolist()
        extra = float((treated.loc[both, "_image_variance"] + base.loc[both, "_image_variance"]).mean())
        if paired:
            extra = _paired_image_variance(func, frame, base_runs, index, both, images)
        mean, low, high = _interval(diffs, level, (low_value - high_value, high_value - low_value), extra)
        rows.append({**dict(zip([*keys, column], group)), "mean": mean, "ci_low": low, "ci_high": high,
                     "n": len(diffs)})
    table = pd.DataFrame(rows, columns=[*keys, column, "mean", "ci_low", "ci_high", "n"])
    # effect() reads the unit, the better side and the comparisons from here
    table.attrs.update(metric=metric, column=column, baseline=baseline, comparisons=comparisons, confidence=confidence,
                       levels=list(dict.fromkeys(runs[column])))  # the settings in their order: plot_ci colours by it
    return table


@checked(runs=RUNS, split=Instance(str, "a split name such as 'valid'"))
def per_class_long(runs: pd.DataFrame, split: str = "valid") -> pd.DataFrame:
    """The ``<split>_accuracy[<class>]`` columns of ``runs`` as rows: one per run and class.

    Every other column is kept; the new ones are ``class`` and ``accuracy``. Ready for
    `summarize` or `paired_gain` with ``by="class"``.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"seed": [0], "valid_accuracy[Bag]": [0.9], "valid_accuracy[Sandal]": [0.8]})
    >>> per_class_long(runs)[["class", "accuracy"]].values.tolist()
    [['Bag', 0.9], ['Sandal', 0.8]]
    """

    prefix = f"{split}_accuracy["
    columns = [c for c in runs.columns if isinstance(c, str) and c.startswith(prefix) and c.endswith("]")]
    if not columns:
        found = sorted({c.split("_accuracy[")[0] for c in runs.columns if isinstance(c, str) and "_accuracy[" in c})
        allowed = "a split with per-class columns in `runs`: " + (", ".join(found) or "none")
        raise fail("per_class_long", "split", allowed,
                   split, "Return scores(result, splits, classes) from the train function.")
    keep = [c for c in runs.columns if c not in columns and not (isinstance(c, str) and "_accuracy[" in c)]
    long = runs.melt(id_vars=keep, value_vars=columns, var_name="class", value_name="accuracy")
    long["class"] = long["class"].str[len(prefix):-1]
    return long


# The one rule for reading a metric's name: which way is better, and in which unit to write it.
LOWER_IS_BETTER = ("loss", "rmse", "mae", "error", "seconds", "epochs", "cost", "alarms")  # the name's last word
SHARES = ("accuracy", "acc", "recall", "precision", "f1", "auc", "gap", "sensitivity",
          "specificity", "alarms", "detected")  # fractions in [0, 1], written in points


def _last_word(metric: str) -> str:
    return metric.split("[")[0].split("_")[-1].lower()  # "valid_accuracy[Bag]" -> "accuracy"


@checked(metric=METRIC_NAME)
def better_for(metric: str) -> str:
    """``"lower"`` for a metric whose name ends in a loss, error or cost word, else ``"higher"``.

    >>> better_for("valid_accuracy"), better_for("valid_loss"), better_for("rmse")
    ('higher', 'lower', 'lower')
    """
    return "lower" if _last_word(metric) in LOWER_IS_BETTER else "higher"


@checked(metric=METRIC_NAME)
def value_range(metric: str) -> tuple[float, float]:
    """The values ``metric`` can take: ``(0, 1)`` for shares, ``(-1, 1)`` for a gap between two
    shares, ``(0, inf)`` for losses and errors, anything otherwise. Intervals are clipped to it.

    >>> value_range("valid_accuracy"), value_range("gap"), value_range("valid_loss")
    ((0.0, 1.0), (-1.0, 1.0), (0.0, inf))
    """
    word = _last_word(metric)
    if word == "gap":
        return (-1.0, 1.0)
    if word in SHARES:
        return (0.0, 1.0)
    if word in LOWER_IS_BETTER:
        return (0.0, math.inf)
    return (-math.inf, math.inf)


@checked(metric=METRIC_NAME)
def text_format(metric: str) -> dict:
    """How `ci_text` writes a difference in ``metric``: points for shares (accuracy, recall,
    precision, F1, the train-valid gap), the number itself with 3 digits otherwise.

    >>> text_format("rare_recall"), text_format("rmse")
    ({'scale': 100.0, 'unit': ' points', 'digits': 1}, {'scale': 1.0, 'unit': '', 'digits': 3})
    """
    if _last_word(metric) in SHARES:
        return {"scale": 100.0, "unit": " points", "digits": 1}
    return {"scale": 1.0, "unit": "", "digits": 3}


