"""The one figure for means with confidence intervals (`summarize` or `paired_gain` output).

>>> import pandas as pd
>>> from nbhelpers import plot_ci
>>> t = pd.DataFrame({"n": [500, 2000], "mean": [0.7, 0.8], "ci_low": [0.68, 0.79], "ci_high": [0.72, 0.81]})
>>> len(plot_ci(t, "n", logx=True).axes)
1
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from .._checks import COLUMN, FLAG, TEXT, checked, fail, is_pandas, Optional, Real, Satisfies

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ._figure import Figure




@checked(table=Satisfies(lambda t: is_pandas(t) and not t.empty,
                         "a non-empty DataFrame with a mean and its interval per row", bad=[[0.7, 0.8], "table"]),
         x=COLUMN, hue=Optional(COLUMN), y=COLUMN, low=COLUMN, high=COLUMN, ylabel=Optional(TEXT), xlabel=Optional(TEXT),
         title=TEXT, logx=FLAG, zero_line=FLAG, horizontal=FLAG, scale=Real(low=0, low_open=True))
def plot_ci(table: pd.DataFrame, x: str, *, hue: str | None = None, y: str = "mean", low: str = "ci_low",
            high: str = "ci_high", ylabel: str | None = None, xlabel: str | None = None, title: str = "",
            logx: bool = False, zero_line: bool = False, horizontal: bool = False, scale: float = 1.0) -> Figure:
    """Means with their confidence intervals as error bars (e.g. `summarize` or `paired_gain` output).

    Numeric ``x`` gives lines with markers (``logx`` for sizes), other ``x`` gives points side
    by side; ``horizontal=True`` puts the categories on the y axis, sorted by the mean (for
    many settings). ``scale=100`` shows fractions as percent or points; ``zero_line`` draws
    the no-effect line. ``ylabel`` names the axis of the means, ``xlabel`` the other one.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"n": [500, 2000], "mean": [0.7, 0.8], "ci_low": [0.68, 0.79], "ci_high": [0.72, 0.81]})
    >>> len(plot_ci(t, "n", logx=True).axes)
    1
    """
    import matplotlib
    import pandas as pd
    import seaborn as sns

    from ._figure import Figure

    func = "plot_ci"
    for name, col in (("x", x), ("hue", hue), ("y", y), ("low", low), ("high", high)):
        if col is not None and col not in table.columns:
            raise fail(func, name, "a column of `table`: " + ", ".join(map(str, table.columns)), col)
    groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=False))
    numeric = pd.api.types.is_numeric_dtype(table[x]) and not horizontal
    # A `paired_gain` table coloured by its settings gives each setting the colour it has in a plot
    # of all the settings (the baseline's colour stays unused), so two figures of one sweep agree.
    levels = table.attrs.get("levels") if hue is not None and hue == table.attrs.get("column") else None
    slot = {level: i for i, level in enumerate(levels or [label for label, _ in groups])}
    palette = sns.color_palette("deep", max(1, len(slot)))
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        size = (6.0, 0.32 * table[x].nunique() + 1.2) if horizontal else (6.0, 3.6)
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        order = list(table.sort_values(y)[x].unique()) if horizontal else list(dict.fromkeys(table[x]))
        width = 0.6 / max(1, len(groups))
        for i, (label, rows) in enumerate(groups):
            means = rows[y].to_numpy(float) * scale
            err = np.vstack([means - rows[low].to_numpy(float) * scale, rows[high].to_numpy(float) * scale - means])
            err = np.nan_to_num(err, nan=0.0)
            shift = i - (len(groups) - 1) / 2  # side by side, so that the error bars do not hide each other
            if numeric and logx:
                pos = rows[x].to_numpy(float) * 10 ** (0.025 * shift)
            elif numeric:
                pos = rows[x].to_numpy(float) + 0.015 * shift * float(np.ptp(table[x].to_numpy(float)))
            else:
                pos = np.array([order.index(v) for v in rows[x]], float) + shift * width
            args = dict(fmt="o-" if numeric else "o", color=palette[slot.get(label, i) % len(palette)], capsize=4, lw=1.8, ms=6,
                        label=None if label is None else str(label))
            if horizontal:
                ax.errorbar(means, pos, xerr=err, **args)
            else:
                ax.errorbar(pos, means, yerr=err, **args)
        value_axis = ylabel or (y if scale == 1 else f"{y} (x{scale:g})")
        if horizontal:
            ax.set_yticks(range(len(order)), [str(v) for v in order])
            ax.set_xlabel(value_axis)
            ax.set_ylabel(xlabel or "")
            if zero_line:
                ax.axvline(0, color="0.3", lw=1, ls="--")
        else:
            if not numeric:
                long = sum(len(str(v)) for v in order) > 60  # labels that would run into each other
                ax.set_xticks(range(len(order)), [str(v) for v in order], rotation=30 if long else 0,
                              ha="right" if long else "center")
            ax.set_xlabel(xlabel or x)
            ax.set_ylabel(value_axis)
            if zero_line:
                ax.axhline(0, color="0.3", lw=1, ls="--")
            if logx and numeric:
                ax.set_xscale("log")
                ticks = sorted(table[x].unique())
                ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
                ax.minorticks_off()
        if hue is not None:
            ax.legend(title=hue, fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # never over a bar
        if title:
            ax.set_title(textwrap.fill(title, 60 if hue is not None else 80), fontsize=10)  # the legend takes width
    return fig
