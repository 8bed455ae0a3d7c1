"""What a chapter tells its reader, in words computed from the run that shows it.

`verdict` is the course's one rule for turning an interval into words, `ci_text` the one way
to write an effect and its interval, `effect` and `versus` both at once for a row of
`paired_gain`, `gain_table` for several metrics, and `say` the sentence of a chapter that
states a result: its numbers and verdicts are filled in from the result, so the prose
cannot disagree with the table above it. In quick mode every verdict says that it is not
evidence (a few seeds and epochs show that the code runs, not the effect).

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"recipe": ["none", "flip"] * 3, "seed": [0, 0, 1, 1, 2, 2],
...                      "acc": [0.70, 0.74, 0.72, 0.75, 0.71, 0.74]})
>>> found = effect(paired_gain(runs, column="recipe", baseline="none", metric="acc"), recipe="flip")
>>> str(say("Flipping changed accuracy by {flip}.", flip=found)).split(" [")[0]
'Flipping changed accuracy by +3.3 points (95% CI +1.9 to +4.8, 3 seeds: helps).'
"""

from __future__ import annotations

import math
import numbers
import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .._checks import (COLUMN, TEXT, AnyOf, Anything, checked, Choice, fail, Frame, Optional, Real, Satisfies)
from ..device import quick_mode
from .seeds import COMPARISONS, IMAGES, NAMES, RUNS, better_for, paired_gain, text_format, value_range

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

CONFIDENCE = Real(low=0, high=1, low_open=True, high_open=True)
REAL_OR_NAN = Satisfies(lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool),
                        "a real number (nan where there is no interval)", bad=["x", True])
QUICK_NOTE = "quick mode: not evidence"
BORDERLINE = " (borderline)"


def _quantile(level: float, n: int | None) -> float:
    from scipy import stats  # scipy.stats costs 0.3 s to import: loaded when first needed

    return float(stats.norm.ppf(level) if n is None else stats.t.ppf(level, n - 1))


@checked(low=REAL_OR_NAN, high=REAL_OR_NAN, n=Optional(Real(low=0, integer=True)), min_seeds=Real(low=2, integer=True),
         better=Choice("higher", "lower"), confidence=CONFIDENCE, mean=Optional(REAL_OR_NAN))
def verdict(low: float, high: float, n: int | None = None, *, min_seeds: int = 3, better: str = "higher",
            confidence: float = 0.95, mean: float | None = None) -> str:
    """The course's one verdict rule: ``'helps'`` if the whole interval lies on the better side
    of 0, ``'hurts'`` if on the worse side, else ``'no clear effect'``.

    ``better`` says which side is better: ``"higher"`` (accuracy) or ``"lower"`` (a loss, an
    error). With ``n`` (the number of seeds) below ``min_seeds`` it declines to judge: two
    seeds that happen to agree give an interval of width 0, not evidence. A clear verdict
    whose bound sits within noise of 0 (the interval at five times the confidence's error
    rate, 99% for a 95% interval, would reach 0) is marked ``'(borderline)'``: another
    machine or thread count may well flip it. ``mean`` is the interval's centre where the
    interval was clipped (the midpoint otherwise).

    >>> verdict(0.004, 0.02), verdict(-0.03, -0.01), verdict(-0.01, 0.02), verdict(0.01, 0.01, n=2)
    ('helps', 'hurts', 'no clear effect', 'too few seeds to tell (2)')
    >>> verdict(-0.03, -0.01, n=5, better="lower")  # a loss that went down
    'helps'
    >>> verdict(0.001, 0.02, n=5)  # clear at 95%, not at 99%
    'helps (borderline)'
    """
    if (n is not None and n < min_seeds) or math.isnan(low) or math.isnan(high):
        return f"too few seeds to tell ({n if n is not None else 1})"
    above, below = low > 0, high < 0
    if not (above or below):
        return "no clear effect"
    centre = (low + high) / 2 if mean is None else mean
    half = max(centre - low, high - centre)
    alpha = 1 - confidence
    strict = half * _quantile(1 - alpha / 10, n) / _quantile(1 - alpha / 2, n)
    if better == "lower":
        above, below = below, above
    word = "helps" if above else "hurts"
    return word + BORDERLINE if abs(centre) <= strict else word


def _signed(v: float, scale: float, digits: int) -> str:
    return f"{v * scale:+.{digits}f}"


@checked(mean=REAL_OR_NAN, low=REAL_OR_NAN, high=REAL_OR_NAN, scale=Real(low=0, low_open=True),
         unit=TEXT, digits=Real(low=0, integer=True), confidence=CONFIDENCE, comparisons=Real(low=1, integer=True))
def ci_text(mean: float, low: float, high: float, *, scale: float = 100.0, unit: str = " points", digits: int = 1,
            confidence: float = 0.95, comparisons: int = 1) -> str:
    """``mean`` and its interval as words: ``'+2.3 points (95% CI +1.1 to +3.5)'``.

    ``scale=100`` turns accuracy differences into percentage points. With no interval (one
    seed) it says so instead of printing ``nan``. An interval widened for a screen of
    ``comparisons`` settings says so.

    >>> ci_text(0.0123, 0.004, 0.021)
    '+1.2 points (95% CI +0.4 to +2.1)'
    >>> ci_text(0.0123, 0.001, 0.024, comparisons=7)
    '+1.2 points (95% CI +0.1 to +2.4, corrected for 7 comparisons)'
    """
    head = f"{_signed(mean, scale, digits)}{unit}"
    if math.isnan(low) or math.isnan(high):
        return f"{head} (one seed: no interval)" if not math.isnan(mean) else "no runs"
    corrected = f", corrected for {comparisons} comparisons" if comparisons > 1 else ""
    return f"{head} ({confidence:.0%} CI {_signed(low, scale, digits)} to {_signed(high, scale, digits)}{corrected})"


class Effect(dict):
    """`effect`'s answer: a dict (``effect``, ``verdict``, ``seeds``) that writes itself as one phrase.

    >>> f"{Effect(effect='+2.0 points (95% CI +1.0 to +3.0)', verdict='helps', seeds=3)}"
    '+2.0 points (95% CI +1.0 to +3.0, 3 seeds: helps)'
    """

    def __format__(self, spec: str) -> str:
        text = self["effect"]
        if text.endswith(")"):
            text = text[:-1] + f", {self['seeds']} seeds: {self['verdict']})"
        else:
            text += f" ({self['verdict']})"
        return format(text, spec)

    def __str__(self) -> str:
        return format(self)

    @property
    def firm(self) -> str:
        """The verdict's word where it is clear and not borderline (``'helps'``, ``'hurts'``,
        ``'widens'``, ``'shrinks'``), else ``'unclear'``: what prose may state as a result.

        >>> Effect(effect="", verdict="helps (borderline) [quick mode: not evidence]", seeds=3).firm
        'unclear'
        """
        word = self["verdict"].split(" [")[0]  # without quick mode's note
        return word if word in ("helps", "hurts", "widens", "shrinks") else "unclear"


def with_quick_note(words: str) -> str:
    """A verdict as the reader sees it: in quick mode it says that it is not evidence."""
    return f"{words} [{QUICK_NOTE}]" if quick_mode() else words


@checked(table=Frame("a DataFrame with mean, ci_low, ci_high (what paired_gain returns)"))
def effect(table: pd.DataFrame, **where) -> Effect:
    """The one row of ``table`` (`paired_gain` output) where every ``column=value`` holds, as words.

    Returns ``{"effect": ci_text(...), "verdict": verdict(...), "seeds": n}``, ready to print,
    to fill a `say` sentence or to be a row of a chapter's "What we measured" table. The
    metric `paired_gain` compared decides the unit (`text_format`) and which side is better
    (`better_for`); an interval corrected for a screen says so. In quick mode the verdict
    carries ``[quick mode: not evidence]``.

    >>> import pandas as pd
    >>> gains = pd.DataFrame({"recipe": ["flip"], "mean": [0.02], "ci_low": [0.01], "ci_high": [0.03], "n": [3]})
    >>> dict(effect(gains, recipe="flip"))
    {'effect': '+2.0 points (95% CI +1.0 to +3.0)', 'verdict': 'helps (borderline)', 'seeds': 3}
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
    comparisons, confidence = int(table.attrs.get("comparisons", 1)), float(table.attrs.get("confidence", 0.95))
    level = 1 - (1 - confidence) / comparisons
    words = verdict(r["ci_low"], r["ci_high"], seeds, better=better_for(metric), confidence=level, mean=r["mean"])
    return Effect(effect=ci_text(r["mean"], r["ci_low"], r["ci_high"], **text_format(metric), confidence=confidence,
                                 comparisons=comparisons),
                  verdict=with_quick_note(words), seeds=seeds)


@checked(runs=RUNS, column=COLUMN, a=Anything(), b=Anything(), metric=COLUMN, seed=COLUMN)
def versus(runs: pd.DataFrame, column: str, a, b, metric: str, *, seed: str = "seed") -> str:
    """Setting ``a`` minus setting ``b`` of ``column`` on ``metric``, paired by seed, as one sentence.

    `paired_gain` and `effect` on two settings: the same interval, unit and verdict rule.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"s": ["x", "y"] * 3, "seed": [0, 0, 1, 1, 2, 2], "rmse": [.5, .7, .52, .72, .5, .71]})
    >>> versus(runs, "s", "x", "y", "rmse").split(" [")[0]
    'x minus y, rmse: -0.203 (95% CI -0.218 to -0.189, 3 seeds: helps)'
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
    return f"{a} minus {b}, {metric}: {effect(gains, **{column: a})}"


@checked(runs=RUNS, column=COLUMN, baseline=Anything(), by=AnyOf(NAMES, Satisfies(lambda v: v == (), "()")), seed=COLUMN,
         metrics=Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0 and all(isinstance(m, str) for m in v.values()),
                           "a non-empty dict of column title -> metric column", bad=[{}, ["acc"]]),
         images=IMAGES, comparisons=COMPARISONS)
def gain_table(runs: pd.DataFrame, *, column: str, baseline, metrics: Mapping[str, str], by: str | Sequence[str] = (),
               seed: str = "seed", images: int | str | None = None, comparisons: int | str = 1,
               **text) -> pd.DataFrame:
    """`paired_gain` for several metrics as one table of sentences, best first (by the first metric).

    ``metrics`` maps a column title to a metric of ``runs``; ``images`` and ``comparisons``
    go to `paired_gain` (a share metric only takes ``images``), ``text`` to `ci_text`
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
        share = value_range(metric) == (0.0, 1.0)
        gains = paired_gain(runs, column=column, baseline=baseline, metric=metric, by=keys, seed=seed,
                            images=images if share else None, comparisons=comparisons)
        corrected = {"comparisons": gains.attrs["comparisons"], "confidence": gains.attrs["confidence"]}
        gains = gains.set_index(index)
        if order is None:
            order = gains["mean"].sort_values(ascending=False).index
        columns[title] = pd.Series({i: ci_text(r["mean"], r["ci_low"], r["ci_high"],
                                               **{**text_format(metric), **corrected, **text})
                                    for i, r in gains.iterrows()})
    table = pd.DataFrame(columns).reindex(order)
    table.index.names = index
    return table


WORDS = Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(w, str) for w in v),
                  "a list of strings", bad=["a, b", [1, 2]])


@checked(names=WORDS, none=TEXT)
def listed(names: Sequence[str], none: str = "none") -> str:
    """``names`` as prose: ``'a'``, ``'a and b'``, ``'a, b and c'``, or ``none`` when empty.

    For `say`'s sentences that name the settings a verdict picked, however many it picked.

    >>> listed(["cosine", "step", "onecycle"]), listed([], none="no schedule")
    ('cosine, step and onecycle', 'no schedule')
    """
    names = list(names)
    if not names:
        return none
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class Said(str):
    """A sentence `say` rendered: prints as text, shows as Markdown in Jupyter."""

    def __repr__(self) -> str:  # plain-text frontends (and the tests) read the sentence, not a quoted string
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


@checked(template=TEXT)
def say(template: str, **values) -> Said:
    """The sentence of a chapter that states a result, filled in from the result.

    ``template`` is Markdown with ``{name}`` fields (``str.format``: ``{acc:.1%}`` works);
    ``values`` fill them. An `effect` fills as its phrase, ``+2.0 points (95% CI +1.0 to
    +3.0, 3 seeds: helps)``, and ``{name[verdict]}`` picks one of its parts. Fixed prose
    explains why and what to look for; every measured number and verdict comes in through
    ``values``, so the sentence cannot disagree with the run above it. In quick mode the
    sentence ends with a note that its numbers show the code runs, not the effect.

    >>> str(say("Raw units reached {acc:.1%}.", acc=0.7061)).split(" *(")[0]
    'Raw units reached 70.6%.'
    """
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = sorted({name.split("[")[0].split(".")[0] for name in fields} - set(values))
    if missing:
        raise fail("say", "values", "a keyword argument for every {field} of `template`", ", ".join(missing),
                   "Pass it as say(template, " + ", ".join(f"{m}=..." for m in missing) + ").")
    try:
        text = template.format(**values)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise fail("say", "template", "fields whose format specs fit their values", template, str(error)) from None
    if quick_mode():
        text += " *(Quick mode: these numbers show that the code runs, not the effect; full mode measures it.)*"
    return Said(text)


__all__ = ["Effect", "ci_text", "effect", "gain_table", "listed", "say", "verdict", "versus", "with_quick_note"]
