"""What `explore`'s panel draws: learning curves, the runs compared and placeholders as PNG
bytes; the table of runs as HTML.

Plain matplotlib at fixed sizes and margins, without pyplot: 3x faster than the seaborn
figures in `nbhelpers.plots`, which matters for live redraws and for scrubbing a slider.
"""

from __future__ import annotations

import functools
import html
import threading
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from ..plots import SPLIT_COLORS, figure_png
from ..runs import NOT_SERVED, is_number, label

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

CURVES_SIZE = (5.6, 2.5)   # inches at 100 dpi: fixed pixel sizes, so the page does not jump
COMPARE_SIZE = (3.8, 2.5)
_FIGURES = threading.Lock()  # matplotlib's text and font caches are shared: one figure at a time


def curves_png(history: pd.DataFrame, title: str) -> bytes:
    """Learning curves in plain matplotlib at a fixed size (3x faster than the seaborn version
    in `plots`, which matters for live redraws and for scrubbing)."""
    from matplotlib.figure import Figure

    with _FIGURES:
        fig = Figure(figsize=CURVES_SIZE, dpi=100)
        metrics = [m for m in ("loss", "accuracy") if m in history and history[m].notna().any()]
        if not metrics or "split" not in history:
            fig.text(0.5, 0.5, title, ha="center", va="center", color="0.35", wrap=True)
            return figure_png(fig)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.82, wspace=0.25)
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
        fig.suptitle(title, fontsize=9)
        return figure_png(fig)


def compare_png(results: pd.DataFrame, x: str | None, hue: str | None, metric: str | None) -> bytes:
    """The final metric of every finished run against the first control (seaborn, axes-level)."""
    import seaborn as sns
    from matplotlib.figure import Figure

    done = results[~results["status"].isin(NOT_SERVED)] if len(results) else results
    with _FIGURES, sns.axes_style("whitegrid"):
        fig = Figure(figsize=COMPARE_SIZE, dpi=100)  # fixed margins: constrained layout doubles the time
        fig.subplots_adjust(left=0.17, right=0.97, bottom=0.18, top=0.9)
        ax = fig.add_subplot()
        if metric is None or x is None or done.empty or done[metric].isna().all():
            ax.set_axis_off()
            ax.text(0.5, 0.5, "every finished run appears here", ha="center", va="center", color="0.35")
            return figure_png(fig)
        data = done.assign(**{hue: done[hue].map(label)}) if hue else done
        if all(is_number(v) for v in data[x]):
            sns.lineplot(data=data, x=x, y=metric, hue=hue, marker="o", ax=ax, errorbar=None)
            low, high = data[x].min(), data[x].max()
            if low > 0 and high / low >= 100:
                ax.set_xscale("log")
        else:
            sns.stripplot(data=data.assign(**{x: data[x].map(label)}), x=x, y=metric, hue=hue, ax=ax, size=7,
                          jitter=False)
        ax.set_title(f"{metric} of each run", fontsize=9)
        if ax.get_legend() is not None:
            sns.move_legend(ax, "best", fontsize=7, title_fontsize=7)
        return figure_png(fig)


@functools.lru_cache(maxsize=8)
def placeholder(text: str) -> bytes:
    import pandas as pd

    return curves_png(pd.DataFrame(), text)


def table_html(rows: Mapping[str, dict], columns: list[str], names: Collection[str], current: str) -> str:
    """Every run (``rows``: key -> results row) as an HTML table of ``columns``, the run keyed
    ``current`` highlighted; metrics (floats outside ``names``, the controls) to 4 decimals.

    >>> page = table_html({"key1": {"lr": 0.1, "valid_accuracy": 0.51234}}, ["lr", "valid_accuracy"], ["lr"], "key1")
    >>> ">0.1</td>" in page, ">0.5123</td>" in page, "background:#fff3c4" in page
    (True, True, True)
    """
    if not rows:
        return "<i>every run appears here</i>"
    cells = lambda texts, tag: "".join(f"<{tag} style='padding:1px 8px;text-align:right'>{html.escape(t)}</{tag}>"
                                       for t in texts)  # noqa: E731
    lines = [f"<tr>{cells(columns, 'th')}</tr>"]
    for key, row in list(rows.items()):
        texts = [f"{row[c]:.4f}" if c not in names and isinstance(row.get(c), float) else label(row.get(c, ""))
                 for c in columns]
        style = " style='background:#fff3c4;font-weight:bold'" if key == current else ""
        lines.append(f"<tr{style}>{cells(texts, 'td')}</tr>")
    return f"<table style='border-collapse:collapse;font-size:12px'>{''.join(lines)}</table>"
