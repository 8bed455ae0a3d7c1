"""Numbers you can trust: means and paired differences over seeds, and the one verdict rule.

A single run is one draw from a noisy process (initialization, shuffling, augmentation).
Chapters compare settings over several seeds: `mean_ci` / `summarize` give a mean with its
Student-t interval, `paired_gain` the difference to a baseline seed by seed, `verdict` the
one rule that turns an interval into words, `ci_text` the one way to write it (in the unit
`text_format` picks for the metric), `effect`, `versus` and `gain_table` both at once. `per_class_long` turns per-class columns into rows.

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
>>> ci_text(*gain.loc[0, ["mean", "ci_low", "ci_high"]])
'+3.5 points (95% CI -2.9 to +9.9)'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._checks import COLUMN, TEXT, AnyOf, Anything, checked, Choice, fail, Frame, Instance, Optional, Real, Satisfies

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


RUNS = Frame("a pandas DataFrame (one row per run, e.g. what sweep returns)")
NAMES = AnyOf(COLUMN, Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v),
                              "a list of column names", bad=[[1, 2]]))
CONFIDENCE = Real(low=0, high=1, low_open=True, high_open=True)
REAL_OR_NAN = Satisfies(lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool),
                        "a real number (nan where there is no interval)", bad=["x", True])
METRIC_NAME = Instance(str, "a metric name such as 'valid_accuracy'")


@checked(values=Satisfies(lambda v: hasattr(v, '__iter__') and not isinstance(v, (str, dict)),
                           "a non-empty sequence of numbers", bad=["0.8", 3]), confidence=CONFIDENCE)
def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its Student-t confidence interval.

    With one value the interval is ``(nan, nan)``: one run says nothing about the noise.
    """
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        raise fail("mean_ci", "values", "a non-empty sequence of numbers", list(values))
    mean = float(data.mean())
    if data.size < 2:
        return mean, math.nan, math.nan
    from scipy import (
        stats,  # scipy.stats costs 0.3 s to import: loaded when first needed
    )

    half = float(stats.t.ppf((1 + confidence) / 2, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size))
    return mean, mean - half, mean + half


@checked(runs=RUNS, by=NAMES, metric=COLUMN, confidence=CONFIDENCE)
def summarize(runs: pd.DataFrame, by: str | Sequence[str], metric: str, confidence: float = 0.95) -> pd.DataFrame:
    """One row per group of ``by``: ``mean``, ``ci_low``, ``ci_high``, ``n`` of ``metric``."""
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    for name, columns in (("by", keys), ("metric", [metric])):
        missing = [c for c in columns if c not in runs.columns]
        if missing:
            raise fail("summarize", name, "column names of `runs`: " + ", ".join(map(str, runs.columns)), missing[0])
    rows = []
    for group, frame in runs.groupby(keys, sort=False):
        mean, low, high = mean_ci(frame[metric].tolist(), confidence)
        group = group if isinstance(group, tuple) else (group,)
        rows.append({**dict(zip(keys, group)), "mean": mean, "ci_low": low, "ci_high": high, "n": len(frame)})
    return pd.DataFrame(rows)


@checked(runs=RUNS, column=COLUMN, baseline=Anything(), metric=COLUMN, by=AnyOf(NAMES, Satisfies(lambda v: v == (),
         "()")), seed=COLUMN, confidence=CONFIDENCE)
def paired_gain(runs: pd.DataFrame, *, column: str, baseline, metric: str, by: str | Sequence[str] = (),
                seed: str = "seed", confidence: float = 0.95) -> pd.DataFrame:
    """Each setting of ``column`` minus ``baseline``, paired by ``seed``: mean and t-interval.

    Runs with the same seed (and the same ``by`` values) are compared with each other, so
    what the seed decides (the subset drawn, the initial weights) cancels out; the interval
    is over the per-seed differences. One row per ``by`` group and setting: ``by...``,
    ``column``, ``mean``, ``ci_low``, ``ci_high``, ``n`` (the seeds found for both).
    """
    import pandas as pd

    func = "paired_gain"
    keys = [by] if isinstance(by, str) else list(by)
    for name, columns in (("column", [column]), ("metric", [metric]), ("by", keys), ("seed", [seed])):
        missing = [c for c in columns if c not in runs.columns]
        if missing:
            raise fail(func, name, "column names of `runs`: " + ", ".join(map(str, runs.columns)), missing[0])
    taken = {"mean", "ci_low", "ci_high", "n"} & {*keys, column}
    if taken:
        raise fail(func, "by" if taken & set(keys) else "column", "names other than the output's mean, ci_low, "
                   "ci_high, n (rename that column first)", sorted(taken)[0])
    if not (runs[column] == baseline).any():
        raise fail(func, "baseline", f"a value of runs['{column}']: " + ", ".join(map(str, runs[column].unique())),
                   baseline)
    index = [*keys, seed]
    base = runs[runs[column] == baseline].groupby(index)[metric].mean()
    rows = []
    for group, frame in runs[runs[column] != baseline].groupby([*keys, column], sort=False):
        group = group if isinstance(group, tuple) else (group,)
        treated = frame.groupby(index)[metric].mean()
        both = treated.index.intersection(base.index)
        if len(both) == 0:
            continue
        diffs = (treated.loc[both] - base.loc[both]).tolist()
        mean, low, high = mean_ci(diffs, confidence)
        rows.append({**dict(zip([*keys, column], group)), "mean": mean, "ci_low": low, "ci_high": high,
                     "n": len(diffs)})
    table = pd.DataFrame(rows, columns=[*keys, column, "mean", "ci_low", "ci_high", "n"])
    table.attrs.update(metric=metric, column=column, baseline=baseline)  # effect() reads the unit and direction
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


@checked(runs=RUNS, column=COLUMN, baseline=Anything(), by=AnyOf(NAMES, Satisfies(lambda v: v == (), "()")), seed=COLUMN,
         metrics=Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0 and all(isinstance(m, str) for m in v.values()),
                           "a non-empty dict of column title -> metric column", bad=[{}, ["acc"]]))
def gain_table(runs: pd.DataFrame, *, column: str, baseline, metrics: Mapping[str, str], by: str | Sequence[str] = (),
               seed: str = "seed", **text) -> pd.DataFrame:
    """`paired_gain` for several metrics as one table of sentences, best first (by the first metric).

    ``metrics`` maps a column title to a metric of ``runs``; ``text`` goes to `ci_text`
    (``scale``, ``unit``, ``digits``). The index is the setting (and ``by``).

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"recipe": ["none", "flip"] * 2, "seed": [0, 0, 1, 1], "acc": [0.7, 0.73, 0.7, 0.75]})
    >>> gain_table(runs, column="recipe", baseline="none", metrics={"gain": "acc"}).to_dict()
    {'gain': {'flip': '+4.0 points (95% CI -8.7 to +16.7)'}}
    """
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    index = [*keys, column]
    columns = {}
    order = None
    for title, metric in metrics.items():
        gains = paired_gain(runs, column=column, baseline=baseline, metric=metric, by=keys, seed=seed).set_index(index)
        if order is None:
            order = gains["mean"].sort_values(ascending=False).index
        columns[title] = pd.Series({i: ci_text(r["mean"], r["ci_low"], r["ci_high"], **{**text_format(metric), **text})
                                    for i, r in gains.iterrows()})
    table = pd.DataFrame(columns).reindex(order)
    table.index.names = index
    return table


# The one rule for reading a metric's name: which way is better, and in which unit to write it.
LOWER_IS_BETTER = ("loss", "rmse", "mae", "error", "seconds", "epochs")  # the name's last word
SHARES = ("accuracy", "acc", "recall", "precision", "f1", "auc", "gap")  # fractions in [0, 1], written in points


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
def text_format(metric: str) -> dict:
    """How `ci_text` writes a difference in ``metric``: points for shares (accuracy, recall,
    precision, F1, the train-valid gap), the number itself with 3 digits otherwise.

    >>> text_format("rare_recall"), text_format("rmse")
    ({'scale': 100.0, 'unit': ' points', 'digits': 1}, {'scale': 1.0, 'unit': '', 'digits': 3})
    """
    if _last_word(metric) in SHARES:
        return {"scale": 100.0, "unit": " points", "digits": 1}
    return {"scale": 1.0, "unit": "", "digits": 3}


@checked(low=REAL_OR_NAN, high=REAL_OR_NAN, n=Optional(Real(low=0, integer=True)), min_seeds=Real(low=2, integer=True),
         better=Choice("higher", "lower"))
def verdict(low: float, high: float, n: int | None = None, *, min_seeds: int = 3, better: str = "higher") -> str:
    """The course's one verdict rule: ``'helps'`` if the whole interval lies on the better side
    of 0, ``'hurts'`` if on the worse side, else ``'no clear effect'``.

    ``better`` says which side is better: ``"higher"`` (accuracy) or ``"lower"`` (a loss, an
    error). With ``n`` (the number of seeds) below ``min_seeds`` it declines to judge: two
    seeds that happen to agree give an interval of width 0, not evidence.

    >>> verdict(0.004, 0.02), verdict(-0.03, -0.01), verdict(-0.01, 0.02), verdict(0.01, 0.01, n=2)
    ('helps', 'hurts', 'no clear effect', 'too few seeds to tell (2)')
    >>> verdict(-0.03, -0.01, n=5, better="lower")  # a loss that went down
    'helps'
    """
    if (n is not None and n < min_seeds) or math.isnan(low) or math.isnan(high):
        return f"too few seeds to tell ({n if n is not None else 1})"
    above, below = low > 0, high < 0
    if better == "lower":
        above, below = below, above
    return "helps" if above else "hurts" if below else "no clear effect"


@checked(table=Frame("a DataFrame with mean, ci_low, ci_high (what paired_gain returns)"))
def effect(table: pd.DataFrame, **where) -> dict:
    """The one row of ``table`` (`paired_gain` output) where every ``column=value`` holds, as words.

    Returns ``{"effect": ci_text(...), "verdict": verdict(...), "seeds": n}``, ready to print
    or to be a row of a chapter's "What we measured" table. The metric `paired_gain` compared
    decides the unit (`text_format`) and which side is better (`better_for`).

    >>> import pandas as pd
    >>> gains = pd.DataFrame({"recipe": ["flip"], "mean": [0.02], "ci_low": [0.01], "ci_high": [0.03], "n": [3]})
    >>> effect(gains, recipe="flip")
    {'effect': '+2.0 points (95% CI +1.0 to +3.0)', 'verdict': 'helps', 'seeds': 3}
    """
    import pandas as pd

    for name in [*where, "mean", "ci_low", "ci_high"]:
        if name not in table.columns:
            raise fail("effect", name, "a column of `table`: " + ", ".join(map(str, table.columns)), name)
    mask = pd.Series(True, index=table.index)
    for name, value in where.items():
        mask &= table[name] == value
    if mask.sum() != 1:
        raise fail("effect", "where", f"conditions that pick exactly one row of `table` (they pick {int(mask.sum())})",
                   where)
    r = table[mask].iloc[0]
    seeds = int(r["n"]) if "n" in table.columns else None
    metric = table.attrs.get("metric", "accuracy")
    return {"effect": ci_text(r["mean"], r["ci_low"], r["ci_high"], **text_format(metric)),
            "verdict": verdict(r["ci_low"], r["ci_high"], seeds, better=better_for(metric)), "seeds": seeds}


@checked(runs=RUNS, column=COLUMN, a=Anything(), b=Anything(), metric=COLUMN, seed=COLUMN)
def versus(runs: pd.DataFrame, column: str, a, b, metric: str, *, seed: str = "seed") -> str:
    """Setting ``a`` minus setting ``b`` of ``column`` on ``metric``, paired by seed, as one sentence.

    `paired_gain` and `effect` on two settings: the same interval, unit and verdict rule.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"s": ["x", "y"] * 3, "seed": [0, 0, 1, 1, 2, 2], "rmse": [.5, .7, .6, .75, .5, .72]})
    >>> versus(runs, "s", "x", "y", "rmse")
    'x minus y, rmse: -0.190 (95% CI -0.280 to -0.100, 3 seeds): helps'
    """

    for name, value in (("column", column), ("metric", metric), ("seed", seed)):
        if value not in runs.columns:
            raise fail("versus", name, "a column of `runs`: " + ", ".join(map(str, runs.columns)), value)
    values = list(runs[column].unique())
    for name, value in (("a", a), ("b", b)):
        if value not in values or (name == "a" and a == b):
            raise fail("versus", name, f"a value of runs['{column}']" + (" other than b" if name == "a" else "")
                       + ": " + ", ".join(map(str, values)), value)
    gains = paired_gain(runs, column=column, baseline=b, metric=metric, seed=seed)
    if not (gains[column] == a).any():
        raise fail("versus", "a", f"a setting with seeds in common with {b!r}", a)
    found = effect(gains, **{column: a})
    amount = found["effect"].replace(" (one seed: no interval)", " (one seed: no interval")[:-1]
    return f"{a} minus {b}, {metric}: {amount}, {found['seeds']} seeds): {found['verdict']}"


def _signed(v: float, scale: float, digits: int) -> str:
    return f"{v * scale:+.{digits}f}"


@checked(mean=REAL_OR_NAN, low=REAL_OR_NAN, high=REAL_OR_NAN, scale=Real(low=0, low_open=True),
         unit=TEXT, digits=Real(low=0, integer=True), confidence=CONFIDENCE)
def ci_text(mean: float, low: float, high: float, *, scale: float = 100.0, unit: str = " points", digits: int = 1,
            confidence: float = 0.95) -> str:
    """``mean`` and its interval as words: ``'+2.3 points (95% CI +1.1 to +3.5)'``.

    ``scale=100`` turns accuracy differences into percentage points. With no interval (one
    seed) it says so instead of printing ``nan``.

    >>> ci_text(0.0123, 0.004, 0.021)
    '+1.2 points (95% CI +0.4 to +2.1)'
    """
    head = f"{_signed(mean, scale, digits)}{unit}"
    if math.isnan(low) or math.isnan(high):
        return f"{head} (one seed: no interval)" if not math.isnan(mean) else "no runs"
    return f"{head} ({confidence:.0%} CI {_signed(low, scale, digits)} to {_signed(high, scale, digits)})"
