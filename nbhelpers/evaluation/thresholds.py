"""Binary decisions: where to put the threshold when errors cost differently, and what accuracy
hides when the positive class is rare.

A binary classifier gives a probability; a decision flags a case as positive when that
probability reaches a threshold. Lowering the threshold catches more positives (sensitivity
up) and raises more false alarms (specificity down). With a cost per false positive and per
false negative, the best threshold is the one of least total cost: `threshold_table` counts
the four outcomes at every threshold where a decision changes, `best_threshold` picks the
cheapest and `plot_threshold` draws both (the threshold panel shows it live). For calibrated
probabilities decision theory gives it directly: flag when ``p >= cost_fp / (cost_fp +
cost_fn)``.

`at_prevalence` answers the other question: sensitivity and specificity do not depend on how
common the positive class is, but accuracy and precision do, so the same model that looks
excellent at the test set's prevalence may be useless for screening, where the disease is
rare.

>>> import numpy as np
>>> p, y = np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])
>>> threshold_table(p, y, cost_fp=1, cost_fn=5, thresholds=[0.5])[["tp", "fp", "fn", "cost"]].values.tolist()
[[1.0, 0.0, 1.0, 5.0]]
>>> best_threshold(p, y, cost_fp=1, cost_fn=5)  # catch both positives, one false alarm: cost 1
0.225
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._checks import TEXT, Optional, Real, Satisfies, checked, fail, is_pandas
from .report import CLASS_NAMES, LABELS, LOGITS, POSITIVE, SCORES, THRESHOLD, as_probabilities, check_positive

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure

COST = Real(low=0)
THRESHOLDS = Optional(Satisfies(lambda v: hasattr(v, "__iter__") and not isinstance(v, (str, dict)) and all(
    isinstance(t, (int, float, np.floating)) and not isinstance(t, bool) and 0 <= t <= 1 for t in v),
    "a list of thresholds from 0 to 1", bad=["half", [2.0]]))


def positive_scores(func: str, scores, y, positive: int | None, logits: bool | None) -> tuple[np.ndarray, np.ndarray]:
    """``(probability of the positive class, whether each case is positive)`` as NumPy arrays."""
    p, labels = as_probabilities(func, scores, y, logits)
    pos = check_positive(func, positive, p.shape[1])
    return p[:, pos], labels == pos


def counts_at(score: np.ndarray, truth: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """tp, fp, tn, fn at each threshold (flag when ``score >= threshold``), by sorting once."""
    pos, neg = np.sort(score[truth]), np.sort(score[~truth])
    tp = len(pos) - np.searchsorted(pos, thresholds, side="left")
    fp = len(neg) - np.searchsorted(neg, thresholds, side="left")
    return {"tp": tp.astype(float), "fp": fp.astype(float), "tn": (len(neg) - fp).astype(float),
            "fn": (len(pos) - tp).astype(float)}


def _table(score, truth, thresholds, cost_fp, cost_fn) -> pd.DataFrame:
    import pandas as pd

    c = counts_at(score, truth, np.asarray(thresholds, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({"threshold": np.asarray(thresholds, float), **c,
                              "sensitivity": c["tp"] / (c["tp"] + c["fn"]),
                              "specificity": c["tn"] / (c["tn"] + c["fp"]),
                              "precision": c["tp"] / (c["tp"] + c["fp"])})
    table["cost"] = cost_fp * table["fp"] + cost_fn * table["fn"]
    return table


@checked(scores=SCORES, y=LABELS, positive=POSITIVE, cost_fp=COST, cost_fn=COST, thresholds=THRESHOLDS, logits=LOGITS)
def threshold_table(scores, y, *, positive: int | None = None, cost_fp: float = 1.0, cost_fn: float = 1.0,
                    thresholds: Sequence[float] | None = None, logits: bool | None = None) -> pd.DataFrame:
    """The four outcomes at each threshold, with ``sensitivity``, ``specificity``, ``precision``
    (nan where nothing is flagged) and ``cost = cost_fp * fp + cost_fn * fn``.

    A case is flagged positive when the probability of class ``positive`` (1 for a binary
    task by default) is at least the threshold. Without ``thresholds``, every threshold where
    a decision changes (each distinct probability), plus 0 and 1, in increasing order.
    ``scores`` and ``y`` as `classification_metrics` takes them.

    >>> import numpy as np
    >>> table = threshold_table(np.array([0.2, 0.6, 0.9]), [0, 1, 0])
    >>> table[["threshold", "tp", "fp"]].values.tolist()
    [[0.0, 1.0, 2.0], [0.2, 1.0, 2.0], [0.6, 1.0, 1.0], [0.9, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    score, truth = positive_scores("threshold_table", scores, y, positive, logits)
    if thresholds is None:
        thresholds = np.union1d(np.unique(score), [0.0, 1.0])
    table = _table(score, truth, list(thresholds), cost_fp, cost_fn)
    table.attrs.update(cost_fp=cost_fp, cost_fn=cost_fn, positive=positive)
    return table


def least_cost(table: pd.DataFrame, cost_fp: float, cost_fn: float) -> float:
    """The threshold of least cost in a full `threshold_table`: among equal costs the one nearest
    the calibrated rule ``cost_fp / (cost_fp + cost_fn)``; then the midpoint between it and the
    next lower threshold, since every threshold in between makes the same calls."""
    rule = cost_fp / (cost_fp + cost_fn) if cost_fp + cost_fn > 0 else 0.5
    cheapest = table[table["cost"] == table["cost"].min()]
    row = (cheapest["threshold"] - rule).abs().idxmin()
    position = table.index.get_loc(row)
    if position == 0:
        return float(table["threshold"].iloc[0])
    return float((table["threshold"].iloc[position] + table["threshold"].iloc[position - 1]) / 2)


@checked(scores=SCORES, y=LABELS, positive=POSITIVE, cost_fp=COST, cost_fn=COST, logits=LOGITS)
def best_threshold(scores, y, *, positive: int | None = None, cost_fp: float = 1.0, cost_fn: float = 1.0,
                   logits: bool | None = None) -> float:
    """The threshold of least total cost on ``scores`` (choose it on validation, judge it on test).

    Every threshold between two neighbouring probabilities makes the same calls; the one
    returned lies midway, so a case just above or below it on new data is not decided by
    a hair. Among equally cheap ranges, the one nearest ``cost_fp / (cost_fp + cost_fn)``.

    >>> import numpy as np
    >>> best_threshold(np.array([0.2, 0.6, 0.9]), [0, 1, 1])
    0.4
    """
    table = threshold_table(scores, y, positive=positive, cost_fp=cost_fp, cost_fn=cost_fn, logits=logits)
    return round(least_cost(table, cost_fp, cost_fn), 12)


@checked(scores=SCORES, y=LABELS, threshold=THRESHOLD, positive=POSITIVE, cost_fp=COST, cost_fn=COST,
         classes=CLASS_NAMES, logits=LOGITS, title=TEXT)
def plot_threshold(scores, y, threshold: float = 0.5, *, positive: int | None = None, cost_fp: float = 1.0,
                   cost_fn: float = 1.0, classes: Sequence[str] | None = None, logits: bool | None = None,
                   title: str = "") -> Figure:
    """Total cost, sensitivity and specificity against the threshold (the least cost marked, the
    chosen ``threshold`` a line), beside the confusion matrix at ``threshold``.

    >>> import numpy as np
    >>> len(plot_threshold(np.array([0.2, 0.6, 0.9]), [0, 1, 1], 0.5).axes)
    3
    """
    score, truth = positive_scores("plot_threshold", scores, y, positive, logits)
    table = _table(score, truth, np.union1d(np.unique(score), [0.0, 1.0]), cost_fp, cost_fn)
    return draw_threshold(table, threshold, cost_fp, cost_fn, classes, positive, title)


def draw_threshold(table: pd.DataFrame, threshold: float, cost_fp: float, cost_fn: float,
                   classes: Sequence[str] | None = None, positive: int | None = None, title: str = "") -> Figure:
    """`plot_threshold`'s picture from a full `threshold_table` (the panel keeps the table and
    redraws only this)."""
    import pandas as pd

    from ..plots._figure import figure_class
    from .report import draw_confusion

    pos = 1 if positive is None else positive
    names = list(classes) if classes is not None else ["negative", "positive"]
    if len(names) > 2:
        names = [f"not {names[pos]}", names[pos]]
    elif pos == 0:
        names = names[::-1]  # negative first
    now = _row(table, threshold, cost_fp, cost_fn)
    best = least_cost(table, cost_fp, cost_fn)
    fig = figure_class()(figsize=(9.0, 3.4))  # fixed margins: a constrained layout triples the time of a redraw
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.15, top=0.86 if title else 0.9, wspace=0.45)
    left, right = fig.subplots(1, 2, width_ratios=[1.6, 1])
    left.step(table["threshold"], table["cost"], where="pre", color="C3", label="total cost")
    left.axvline(threshold, color="0.2", lw=1.2, label=f"threshold {threshold:.2f}: cost {now['cost']:g}")
    left.plot([best], [_row(table, best, cost_fp, cost_fn)["cost"]], "v", color="C3", ms=9,
              label=f"least cost at {best:.2f}")
    left.set(xlabel=f"threshold on p({names[1]})", ylabel=f"cost (FP x {cost_fp:g} + FN x {cost_fn:g})", xlim=(0, 1))
    twin = left.twinx()
    for column, color in (("sensitivity", "C0"), ("specificity", "C2")):
        twin.step(table["threshold"], table[column], where="pre", color=color, lw=1, alpha=0.7, label=column)
    twin.set(ylim=(0, 1.02), ylabel="sensitivity, specificity")
    lines = left.get_legend_handles_labels(), twin.get_legend_handles_labels()
    left.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize=7, loc="best")
    left.set_ylim(bottom=0)
    counts = pd.DataFrame([[now["tn"], now["fp"]], [now["fn"], now["tp"]]], index=names, columns=names)
    draw_confusion(counts, ax=right, colorbar=False)
    right.set_title(f"sensitivity {now['sensitivity']:.1%}, specificity {now['specificity']:.1%}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _row(table: pd.DataFrame, threshold: float, cost_fp: float, cost_fn: float) -> dict:
    """The outcomes at ``threshold`` from a full table: those of the smallest listed threshold at
    or above it (every probability is listed, so none lies between the two: the same calls)."""
    at = table[table["threshold"] >= threshold]
    row = (at.iloc[0] if len(at) else table.iloc[-1]).to_dict()
    row["threshold"] = threshold
    return row


@checked(scores=SCORES, y=LABELS, prevalences=Satisfies(lambda v: hasattr(v, "__iter__") and len(list(v)) > 0 and all(
    isinstance(t, (int, float, np.floating)) and 0 < t < 1 for t in v), "a list of prevalences between 0 and 1",
    bad=[[0.0], [1.5], "rare"]), positive=POSITIVE, threshold=THRESHOLD, logits=LOGITS)
def at_prevalence(scores, y, prevalences: Sequence[float], *, positive: int | None = None, threshold: float = 0.5,
                  logits: bool | None = None) -> pd.DataFrame:
    """What the same decisions would score if the positive class were as common as each of
    ``prevalences``: the measured sensitivity and specificity are kept, and
    ``accuracy = prev * sens + (1 - prev) * spec``, ``precision = prev * sens / (prev * sens +
    (1 - prev) * (1 - spec))``, ``npv`` likewise; ``always_negative`` is the accuracy of a
    model that never flags anyone (``1 - prev``). ``attrs["measured"]`` holds the
    prevalence in ``y``.

    >>> import numpy as np
    >>> table = at_prevalence(np.array([0.9, 0.2, 0.1, 0.3]), [1, 1, 0, 0], [0.5, 0.01])
    >>> table[["accuracy", "always_negative"]].round(3).values.tolist()
    [[0.75, 0.5], [0.995, 0.99]]
    """
    import pandas as pd

    score, truth = positive_scores("at_prevalence", scores, y, positive, logits)
    if truth.all() or not truth.any():
        raise fail("at_prevalence", "y", "labels with both positive and negative cases", "one class only")
    flag = score >= threshold
    sens, spec = flag[truth].mean(), (~flag[~truth]).mean()
    prev = np.asarray(list(prevalences), float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({"prevalence": prev, "sensitivity": sens, "specificity": spec,
                              "accuracy": prev * sens + (1 - prev) * spec,
                              "precision": prev * sens / (prev * sens + (1 - prev) * (1 - spec)),
                              "npv": (1 - prev) * spec / ((1 - prev) * spec + prev * (1 - sens)),
                              "always_negative": 1 - prev})
    table.attrs.update(measured=float(truth.mean()), threshold=threshold)
    return table


@checked(table=Satisfies(lambda t: is_pandas(t) and {"prevalence", "accuracy", "precision"} <= set(t.columns),
                         "what at_prevalence returns", bad=["table", 3]), title=TEXT)
def plot_prevalence(table: pd.DataFrame, title: str = "") -> Figure:
    """Accuracy and precision of the model, and the accuracy of never flagging anyone, against
    the prevalence (log scale), with the measured prevalence marked.

    >>> import numpy as np
    >>> len(plot_prevalence(at_prevalence(np.array([0.9, 0.2, 0.1, 0.3]), [1, 1, 0, 0], [0.5, 0.01])).axes)
    1
    """
    from ..plots._figure import figure_class

    fig = figure_class()(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    styles = {"accuracy": ("C0", "-", "accuracy"), "always_negative": ("0.4", "--", "accuracy of never flagging"),
              "precision": ("C3", "-", "precision (a flag is right)"), "sensitivity": ("C2", ":", "sensitivity")}
    for column, (color, style, label) in styles.items():
        if column in table:
            ax.plot(table["prevalence"], 100 * table[column], style, color=color, lw=1.8, label=label)
    if "measured" in table.attrs:
        ax.axvline(table.attrs["measured"], color="0.6", lw=1, label="prevalence measured")
    ax.set(xscale="log", xlabel="prevalence of the positive class", ylabel="%", ylim=(0, 101))
    ax.set_xticks(table["prevalence"], [f"{100 * p:g}%" for p in table["prevalence"]], fontsize=8)  # not 10^-3
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


__all__ = ["at_prevalence", "best_threshold", "plot_prevalence", "plot_threshold", "threshold_table"]
