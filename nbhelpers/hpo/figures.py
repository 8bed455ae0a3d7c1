"""A study's figures: optimization history (by trial or by epochs spent), parameter importance,
parallel coordinates and slices, drawn on the course's `Figure` (no pyplot: nothing pops up later).

Pruned trials are grey crosses at their last reported value; the best-so-far line counts
complete trials only, as Optuna's ``best_value`` does.

>>> import optuna
>>> from nbhelpers import log_uniform, search
>>> study = search(lambda lr, width: {"valid_accuracy": 1 - lr + width / 1000},
...                {"lr": log_uniform(1e-3, 1e-1), "width": [8, 16]}, strategy="random", trials=6,
...                storage=":memory:", progress=False)
>>> [len(plot(study).axes) for plot in (plot_history, plot_parallel, plot_slices)]
[1, 1, 2]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._checks import COLUMN, TEXT, Choice, Satisfies, checked, fail
from .results import NUISANCE, RUNS_TABLE, STUDY, epochs_of, is_study, isolation

if TYPE_CHECKING:  # annotations only: matplotlib, pandas and optuna load when first used
    import optuna
    import pandas as pd

    from ..plots._figure import Figure

STUDIES = Satisfies(lambda v: is_study(v) or (isinstance(v, Mapping) and len(v) > 0 and all(map(is_study, v.values()))),
                    "an Optuna study or a dict {label: study}", bad=["study", {}, {"a": 3}])
PRUNED = dict(marker="x", color="0.6", s=22, linewidths=1, label="pruned")


def _figure(width: float, height: float) -> Figure:
    from ..plots._figure import figure_class

    return figure_class()(figsize=(width, height), layout="constrained", dpi=100)


def _style():
    import seaborn as sns

    return sns.axes_style("whitegrid")


def _trials(study: optuna.Study, *states: str) -> list:
    from optuna.trial import TrialState

    wanted = tuple(TrialState[s.upper()] for s in states)
    return [t for t in study.get_trials(deepcopy=False, states=wanted) if t.value is not None]


def _best_so_far(study: optuna.Study, x: str) -> tuple[list[float], list[float]]:
    """(x, best value) after each finished trial, in trial order; x is the trial number or the epochs
    spent so far (by every trial, failed ones too: they cost their epochs)."""
    from optuna.trial import TrialState

    sign = 1 if study.direction.name == "MINIMIZE" else -1
    spent = _epochs_at(study)
    xs, ys, best = [], [], math.inf
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        if t.state == TrialState.COMPLETE and t.value is not None:
            best = min(best, sign * t.value)
        if math.isfinite(best):
            xs.append(spent[t.number] if x == "epochs" else t.number)
            ys.append(sign * best)
    return xs, ys


def _metric(study: optuna.Study) -> str:
    return (study.user_attrs.get("nbhelpers") or {}).get("metric", "value")


@checked(studies=STUDIES, x=Choice("trial", "epochs"), title=TEXT)
def plot_history(studies: optuna.Study | Mapping[str, optuna.Study], x: str = "trial", title: str = "") -> Figure:
    """Each trial's value and the best so far, by trial number or (``x="epochs"``) by the epochs
    spent so far: the cost-versus-quality view. Given ``{label: study}``, the best-so-far lines
    of several studies overlaid (grid against TPE, pruning against none).

    >>> plot_history(study)                                                   # doctest: +SKIP
    >>> plot_history({"grid": grid, "TPE + pruning": pruned}, x="epochs")     # doctest: +SKIP
    """
    several = not is_study(studies)
    items = dict(studies) if several else {"best so far": studies}
    with _style():
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        for label, study in items.items():
            xs, ys = _best_so_far(study, x)
            ax.step(xs, ys, where="post", label=label, linewidth=2)
        if not several:
            where = _epochs_at(studies) if x == "epochs" else None
            for state, style in (("complete", dict(s=22, color="C0", alpha=0.7, label="complete")), ("pruned", PRUNED)):
                trials = _trials(studies, state)
                if trials:
                    xs = [where[t.number] if where else t.number for t in trials]
                    ax.scatter(xs, [t.value for t in trials], zorder=3, **style)
        ax.set_xlabel("epochs spent" if x == "epochs" else "trial")
        ax.set_ylabel(_metric(next(iter(items.values()))))
        ax.legend(fontsize=8)
        ax.set_title(title or ("best so far" if several else "optimization history"))
    return fig


def _epochs_at(study: optuna.Study) -> dict[int, int]:
    """Trial number -> epochs spent by the study when that trial ended (trials in number order)."""
    spent, where = 0, {}
    for t in study.get_trials(deepcopy=False):
        spent += epochs_of(t)
        where[t.number] = spent
    return where


@checked(study=STUDY, title=TEXT)
def plot_importance(study: optuna.Study, title: str = "") -> Figure:
    """How much of the variation in the value each parameter explains (Optuna's fANOVA on the
    complete trials): which parameters are worth searching, which can be fixed.

    >>> plot_importance(study)                                                # doctest: +SKIP
    """
    from .results import param_importances

    if len(_trials(study, "complete")) < 2:
        raise fail("plot_importance", "study", "a study with at least 2 complete trials", study.study_name)
    importances = param_importances(study)
    names = list(importances.index)[::-1]
    with _style():
        fig = _figure(5.2, 0.5 + 0.45 * len(names))
        ax = fig.add_subplot()
        ax.barh(names, [importances[n] for n in names], color="C0")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"importance for {_metric(study)} (share of its variance)")
        ax.set_title(title or "parameter importance")
    return fig


def _positions(trials: list, name: str, dist: Any) -> tuple[list[float], list[float], list[str]]:
    """Each trial's ``name`` on a 0-1 axis (log scale for log ranges, evenly spaced choices), with ticks."""
    from optuna.distributions import CategoricalDistribution

    if isinstance(dist, CategoricalDistribution):
        n = max(len(dist.choices) - 1, 1)
        index = {repr(c): i / n for i, c in enumerate(dist.choices)}
        return [index[repr(t.params[name])] for t in trials], list(index.values()), [str(c) for c in dist.choices]
    scale = math.log10 if dist.log else float
    low, high = scale(dist.low), scale(dist.high)
    ticks = [0.0, 1.0]
    return [(scale(t.params[name]) - low) / (high - low) for t in trials], ticks, [f"{dist.low:g}", f"{dist.high:g}"]


@checked(study=STUDY, title=TEXT)
def plot_parallel(study: optuna.Study, title: str = "") -> Figure:
    """Parallel coordinates: one line per complete trial across every parameter's axis and the value,
    coloured by the value (brightest is best), so the settings good trials share stand out.

    >>> plot_parallel(study)                                                  # doctest: +SKIP
    """
    import matplotlib

    trials = _trials(study, "complete")
    names = [n for n in _names(study) if all(n in t.params for t in trials)]
    values = [t.value for t in trials]
    with _style():
        fig = _figure(1.6 * (len(names) + 1) + 1, 3.6)
        ax = fig.add_subplot()
        if trials:
            low, high = min(values), max(values)
            spread = (high - low) or 1.0
            sign = 1 if study.direction.name == "MAXIMIZE" else -1
            goodness = [(v - low) / spread if sign > 0 else (high - v) / spread for v in values]
            columns = [_positions(trials, n, trials[0].distributions[n]) for n in names]
            for k in sorted(range(len(trials)), key=goodness.__getitem__):  # the best drawn last, on top
                ys = [c[0][k] for c in columns] + [(values[k] - low) / spread]
                ax.plot(range(len(ys)), ys, color=matplotlib.colormaps["viridis"](goodness[k]), alpha=0.8,
                        linewidth=1.2)
            for i, (_, ticks, labels) in enumerate(columns + [([], [0.0, 1.0], [f"{low:.4g}", f"{high:.4g}"])]):
                ax.axvline(i, color="0.3", linewidth=0.8)
                for tick, label in zip(ticks, labels):
                    ax.annotate(label, (i, tick), xytext=(3, 0), textcoords="offset points", fontsize=7, va="center")
        ax.set_xticks(range(len(names) + 1), [*names, _metric(study)])
        ax.set_yticks([])
        ax.set_ylim(-0.05, 1.05)
        ax.grid(False)
        ax.set_title(title or "parallel coordinates (complete trials)")
    return fig


def _names(study: optuna.Study) -> list[str]:
    from .results import param_names

    return param_names(study)


@checked(study=STUDY, title=TEXT)
def plot_slices(study: optuna.Study, title: str = "") -> Figure:
    """One panel per parameter: the value of every trial against that parameter (log axis for log
    ranges), coloured by trial number (later trials darker), pruned trials as grey crosses.

    >>> plot_slices(study)                                                    # doctest: +SKIP
    """
    import matplotlib

    names = _names(study)
    complete, pruned = _trials(study, "complete"), _trials(study, "pruned")
    with _style():
        fig = _figure(max(3.0 * len(names), 3.2), 3.2)
        for i, name in enumerate(names):
            ax = fig.add_subplot(1, max(len(names), 1), i + 1)
            for trials, style in ((pruned, PRUNED), (complete, None)):
                trials = [t for t in trials if name in t.params]
                if not trials:
                    continue
                xs = [t.params[name] if not isinstance(t.params[name], (str, bool, type(None))) else str(t.params[name])
                      for t in trials]
                if style is None:
                    ax.scatter(xs, [t.value for t in trials], c=[t.number for t in trials], cmap="viridis_r", s=24,
                               norm=matplotlib.colors.Normalize(0, max(len(study.trials) - 1, 1)), label="complete")
                else:
                    ax.scatter(xs, [t.value for t in trials], **style)
            dist = next((t.distributions[name] for t in complete + pruned if name in t.distributions), None)
            if getattr(dist, "log", False):
                ax.set_xscale("log")
            ax.set_xlabel(name)
            if i == 0:
                ax.set_ylabel(_metric(study))
        fig.suptitle(title or "slices: the value against each parameter")
    return fig


@checked(runs=RUNS_TABLE, scientific=COLUMN, nuisance=NUISANCE, metric=COLUMN, title=TEXT)
def plot_isolation(runs: pd.DataFrame, scientific: str, nuisance: str | list[str], metric: str = "valid_accuracy",
                   title: str = "") -> Figure:
    """The isolation plot: for each value of ``scientific``, the best over the ``nuisance`` settings
    (`isolation`; bold, each point labelled with the nuisance values it needed), over thin lines
    that keep each nuisance setting fixed. Where the thin lines cross or the labels change, a
    comparison at one shared setting would have said something else.

    >>> plot_isolation(sweep_table, "width", "lr")                             # doctest: +SKIP
    """
    import pandas as pd

    best = isolation(runs, scientific, nuisance, metric)
    names = [nuisance] if isinstance(nuisance, str) else list(nuisance)
    done = runs[runs[metric].notna()]
    if "state" in done.columns:
        done = done[done["state"] == "complete"]
    means = done.groupby([*names, scientific], sort=True)[metric].mean().reset_index()
    numeric = pd.api.types.is_numeric_dtype(best[scientific])
    where = (lambda v: v) if numeric else {v: i for i, v in enumerate(best[scientific])}.get
    with _style():
        fig = _figure(6.4, 3.8)
        ax = fig.add_subplot()
        for k, (setting, group) in enumerate(means.groupby(names, sort=True)):
            setting = setting if isinstance(setting, tuple) else (setting,)
            ax.plot([where(v) for v in group[scientific]], group[metric], color="0.7", linewidth=1, marker=".",
                    label="one fixed " + ", ".join(names) if k == 0 else None)
        ax.plot([where(v) for v in best[scientific]], best["mean"], color="C3", linewidth=2.5, marker="o",
                label=f"best {', '.join(names)} for each {scientific}")
        for _, row in best.iterrows():
            text = ", ".join(f"{n}={row[n]:g}" if isinstance(row[n], float) else f"{n}={row[n]}" for n in names)
            ax.annotate(text, (where(row[scientific]), row["mean"]), xytext=(0, 7), textcoords="offset points",
                        fontsize=7, ha="center", color="C3")
        if numeric and best[scientific].min() > 0 and best[scientific].max() / best[scientific].min() >= 8:
            ax.set_xscale("log", base=2)
            ax.set_xticks(list(best[scientific]), [f"{v:g}" for v in best[scientific]])
        elif not numeric:
            ax.set_xticks(range(len(best)), [str(v) for v in best[scientific]])
        ax.margins(y=0.12)  # room for the labels above the points
        ax.set_xlabel(scientific)
        ax.set_ylabel(metric + " (mean over seeds)" if "seed" in runs.columns else metric)
        ax.legend(fontsize=8)
        ax.set_title(title or f"isolation plot: {scientific}, each at its best {', '.join(names)}")
    return fig


POINTS_OF = Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0 and all(map(is_study, v.values())),
                      "a dict {label: study}", bad=[{}, {"a": 3}])


@checked(studies=POINTS_OF, x=COLUMN, y=COLUMN, title=TEXT)
def plot_points(studies: Mapping[str, optuna.Study], x: str, y: str, title: str = "") -> Figure:
    """The points each study tried in the plane of parameters ``x`` and ``y``, one panel per study,
    coloured by value (brightest is best), with a tick on each axis per value tried: how many
    distinct values of each parameter the budget bought.

    >>> plot_points({"grid": grid, "random": random}, "lr", "weight_decay")   # doctest: +SKIP
    """
    import matplotlib

    values = [t.value for s in studies.values() for t in _trials(s, "complete")]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    norm = matplotlib.colors.Normalize(low, high if high > low else low + 1)
    cmap = "viridis" if next(iter(studies.values())).direction.name == "MAXIMIZE" else "viridis_r"
    with _style():
        fig = _figure(3.4 * len(studies) + 0.6, 3.4)
        axes = fig.subplots(1, len(studies), sharex=True, sharey=True, squeeze=False)[0]
        for ax, (label, study) in zip(axes, studies.items()):
            trials = [t for t in _trials(study, "complete") if x in t.params and y in t.params]
            xs, ys = [t.params[x] for t in trials], [t.params[y] for t in trials]
            shown = ax.scatter(xs, ys, c=[t.value for t in trials], cmap=cmap, norm=norm, s=40, edgecolors="0.2",
                               linewidths=0.5, zorder=3)
            ax.plot(xs, [0.0] * len(xs), "|", color="C3", markersize=12, transform=ax.get_xaxis_transform())
            ax.plot([0.0] * len(ys), ys, "_", color="C3", markersize=12, transform=ax.get_yaxis_transform())
            for name, setter in ((x, ax.set_xscale), (y, ax.set_yscale)):
                dist = next((t.distributions[name] for t in trials), None)
                if getattr(dist, "log", False) or _spans_decades([t.params[name] for t in trials]):
                    setter("log")
            ax.set_title(f"{label}: {len(set(xs))} values of {x}, {len(set(ys))} of {y}", fontsize=9)
            ax.set_xlabel(x)
        axes[0].set_ylabel(y)
        fig.colorbar(shown, ax=list(axes), label=_metric(next(iter(studies.values()))), shrink=0.9)
        if title:
            fig.suptitle(title)
    return fig


def _spans_decades(values: list) -> bool:
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return len(numbers) == len(values) > 1 and min(numbers) > 0 and max(numbers) / min(numbers) >= 100
