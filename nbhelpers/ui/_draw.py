"""What `explore`'s panel draws: learning curves, the runs compared and placeholders as PNG
bytes; the table of runs as HTML; and which numbers make the headline.

Plain matplotlib at fixed sizes and margins, without pyplot: 3x faster than the seaborn
figures in `nbhelpers.plots`, which matters for live redraws and for scrubbing a slider.
Every title is measured and wrapped (or set smaller) until it fits the picture.
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from ..plots import SPLIT_COLORS, figure_png
from ..runs import NOT_SERVED, describe, is_number, label

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd
    from matplotlib.figure import Figure
    from matplotlib.text import Text

CURVES_SIZE = (5.6, 2.5)   # inches at 100 dpi: fixed pixel sizes, so the page does not jump
COMPARE_SIZE = (3.8, 2.5)
PREFERRED_METRICS = ("valid_accuracy", "valid_loss", "accuracy", "loss")  # the headline, in this order
PER_CLASS = re.compile(r".+\[.+\]")  # valid_accuracy[2], test_accuracy[cat]: one class's number (`scores`)
_FIGURES = threading.Lock()  # matplotlib's text and font caches are shared: one figure at a time


def is_per_class(name: Any) -> bool:
    """Whether a results column holds one class's number, such as ``valid_accuracy[2]``."""
    return bool(PER_CLASS.fullmatch(str(name)))


def pick_metric(results: pd.DataFrame, skip: Collection[str]) -> str | None:
    """The metric the panel compares runs on: the first of ``PREFERRED_METRICS`` there, else the
    first numeric column that is not in ``skip`` nor one class's number."""
    import pandas as pd

    numeric = [c for c in results.columns if c not in skip and not is_per_class(c)
               and pd.api.types.is_numeric_dtype(results[c])]
    return next((m for m in PREFERRED_METRICS if m in numeric), next(iter(numeric), None))


def headline(metrics: Mapping[str, Any], most: int = 2) -> str:
    """At most ``most`` numbers for a title: those of ``PREFERRED_METRICS`` a run has, else its
    first metric; never one class's number.

    >>> headline({"valid_accuracy": 0.87421, "valid_accuracy[2]": 0.95, "valid_loss": 0.35, "seconds": 3})
    'valid_accuracy 0.874  valid_loss 0.350'
    >>> headline({"valid_accuracy[0]": 0.9, "dead_fraction": 0.125})
    'dead_fraction 0.125'
    """
    numbers = {k: v for k, v in metrics.items() if is_number(v) and not is_per_class(k)}
    chosen = [m for m in PREFERRED_METRICS if m in numbers][:most] or list(numbers)[:1]
    return "  ".join(f"{m} {numbers[m]:.3f}" for m in chosen)


def _fit_text(fig: Figure, put: Callable[[str, float], Text], choices: list[tuple[str, float]]) -> Text:
    """Draw the first of ``choices`` (text, font size) that fits inside the figure's width with
    ``put(text, size)``; the last one if none does."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    for text, size in choices:
        artist = put(text, size)
        box = artist.get_window_extent(renderer)
        if box.x0 >= 2 and box.x1 <= fig.bbox.width - 2:
            break
    return artist


def _title_choices(first: str, second: str = "", sep: str = "   ") -> list[tuple[str, float]]:
    """``first`` and ``second`` on one line, then on two, then ``first`` split at its middle comma,
    each at 9 then 8 points; 7 points last."""
    parts = first.split(", ")
    half = ", ".join(parts[:(len(parts) + 1) // 2]) + ",\n" + ", ".join(parts[(len(parts) + 1) // 2:])
    texts = [f"{first}{sep}{second}" if second else first, f"{first}\n{second}" if second else first,
             f"{half}\n{second}" if second else half]
    return [(t, size) for t in texts for size in (9, 8)] + [(texts[-1], 7)]


def curves_figure(history: pd.DataFrame, title: str, numbers: str = "") -> Figure:
    """Learning curves in plain matplotlib at a fixed size, titled with ``title`` (the setting)
    and ``numbers`` (its headline), wrapped or set smaller until the title fits."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=CURVES_SIZE, dpi=100)
    metrics = [m for m in ("loss", "accuracy") if m in history and history[m].notna().any()]
    if not metrics or "split" not in history:
        fig.text(0.5, 0.5, f"{title}   {numbers}".strip(), ha="center", va="center", color="0.35", wrap=True)
        return fig
    suptitle = _fit_text(fig, lambda text, size: fig.suptitle(text, fontsize=size), _title_choices(title, numbers))
    lines = suptitle.get_text().count("\n") + 1
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.82 - 0.06 * (lines - 1), wspace=0.25)
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        for split, rows in history.groupby("split", sort=False):
            ax.plot(rows["epoch"].to_numpy(), rows[metric].to_numpy(float), "o-", ms=3, lw=1.5,
                    color=SPLIT_COLORS.get(split), label=split)
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8, labelpad=1)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    return fig


def curves_png(history: pd.DataFrame, title: str, numbers: str = "") -> bytes:
    """`curves_figure` as PNG bytes (3x faster than the seaborn version in `plots`, which
    matters for live redraws and for scrubbing)."""
    with _FIGURES:
        return figure_png(curves_figure(history, title, numbers))


def compare_slice(results: pd.DataFrame, setting: Mapping[str, Any], x: str | None, hue: str | None) -> pd.DataFrame:
    """The finished runs that differ from ``setting`` only in ``x`` and ``hue``: what the
    comparison plots, one row per point, nothing averaged."""
    done = results[~results["status"].isin(NOT_SERVED)] if len(results) else results
    for name, value in setting.items():
        if name not in (x, hue) and name in done:
            done = done[done[name].map(label) == label(value)]
    return done


def compare_figure(results: pd.DataFrame, setting: Mapping[str, Any], x: str | None, hue: str | None,
                   metric: str | None) -> Figure:
    """``metric`` of each finished run at the other controls' current values, against ``x``
    (one line per ``hue``), each point one run; the current run ringed."""
    import seaborn as sns
    from matplotlib.figure import Figure

    others = {k: v for k, v in setting.items() if k not in (x, hue)}
    data = compare_slice(results, setting, x, hue)
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=COMPARE_SIZE, dpi=100)  # fixed margins: constrained layout doubles the time
        ax = fig.add_subplot()
        if metric is None or x is None or data.empty or data[metric].isna().all():
            fig.subplots_adjust(left=0.17, right=0.97, bottom=0.18, top=0.9)
            ax.set_axis_off()
            where = f"\nat {describe(others)}" if others else ""
            ax.text(0.5, 0.5, f"every finished run{where}\nappears here", ha="center", va="center", color="0.35",
                    wrap=True)
            return fig
        data = data.assign(**{hue: data[hue].map(label)}) if hue else data
        current = data[[all(label(row[k]) == label(v) for k, v in setting.items() if k in data)
                        for _, row in data.iterrows()]]
        if all(is_number(v) for v in data[x]):
            data = data.sort_values(x)
            sns.lineplot(data=data, x=x, y=metric, hue=hue, marker="o", ax=ax, estimator=None)
            low, high = data[x].min(), data[x].max()
            if low > 0 and high / low >= 100:
                ax.set_xscale("log")
            positions = current[x].tolist()
        else:
            order = list(dict.fromkeys(data[x].map(label)))
            sns.stripplot(data=data.assign(**{x: data[x].map(label)}), x=x, y=metric, hue=hue, order=order, ax=ax,
                          size=7, jitter=False)
            positions = [order.index(label(v)) for v in current[x]]
        if len(current):
            ax.plot(positions, current[metric].tolist(), "o", ms=13, mfc="none", mec="black", mew=1.5,
                    label="this run", clip_on=False)
        what = f"{metric} of each run"
        title = _fit_text(fig, lambda text, size: ax.set_title(text, fontsize=size),
                          _title_choices(what, f"at {describe(others)}", sep=", ") if others else [(what, 9)])
        lines = title.get_text().count("\n") + 1
        fig.subplots_adjust(left=0.17, right=0.97, bottom=0.18, top=0.9 - 0.06 * (lines - 1))
        if ax.get_legend() is not None or len(current):
            ax.legend(fontsize=7, title=hue, title_fontsize=7, loc="best")
        return fig


def compare_png(results: pd.DataFrame, setting: Mapping[str, Any], x: str | None, hue: str | None,
                metric: str | None) -> bytes:
    """`compare_figure` as PNG bytes."""
    with _FIGURES:
        return figure_png(compare_figure(results, setting, x, hue, metric))


@functools.lru_cache(maxsize=8)
def placeholder(text: str) -> bytes:
    import pandas as pd

    return curves_png(pd.DataFrame(), text)


def table_html(rows: Mapping[str, dict], columns: list[str], names: Collection[str], current: str) -> str:
    """Every run (``rows``: key -> results row) as an HTML table of ``columns``, the run keyed
    ``current`` highlighted; metrics (floats outside ``names``, the controls) to 4 decimals.
    One class's numbers (``valid_accuracy[2]``) are left out, with a line that says where they are,
    and so are per-image lists (which images a run got right).

    >>> page = table_html({"key1": {"lr": 0.1, "valid_accuracy": 0.51234, "valid_accuracy[0]": 0.6}},
    ...                   ["lr", "valid_accuracy", "valid_accuracy[0]"], ["lr"], "key1")
    >>> ">0.1</td>" in page, ">0.5123</td>" in page, "background:#fff3c4" in page, "[0]</th>" in page
    (True, True, True, False)
    """
    if not rows:
        return "<i>every run appears here</i>"
    arrays = [c for c in columns if any(isinstance(row.get(c), list) for row in rows.values())]  # per image
    hidden = [c for c in columns if is_per_class(c)]
    columns = [c for c in columns if not is_per_class(c) and c not in arrays]
    cells = lambda texts, tag: "".join(f"<{tag} style='padding:1px 8px;text-align:right'>{html.escape(t)}</{tag}>"
                                       for t in texts)  # noqa: E731
    lines = [f"<tr>{cells(columns, 'th')}</tr>"]
    for key, row in list(rows.items()):
        texts = [f"{row[c]:.4f}" if c not in names and isinstance(row.get(c), float) else label(row.get(c, ""))
                 for c in columns]
        style = " style='background:#fff3c4;font-weight:bold'" if key == current else ""
        lines.append(f"<tr{style}>{cells(texts, 'td')}</tr>")
    note = (f"<div style='font-size:11px;color:#555'>{len(hidden)} per-class columns ({html.escape(hidden[0])} ... "
            f"{html.escape(hidden[-1])}) are not shown: see <code>panel.results</code></div>") if hidden else ""
    return f"<table style='border-collapse:collapse;font-size:12px'>{''.join(lines)}</table>{note}"
