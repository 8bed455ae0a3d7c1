"""Learning curves: one run's loss and accuracy per epoch, or several runs overlaid.

>>> import pandas as pd
>>> from nbhelpers import learning_curves
>>> history = pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2,
...                         "loss": [1.0, 1.1, 0.5, 0.7]})
>>> len(learning_curves(history).axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .._checks import TEXT, checked, fail, Instance, is_pandas, Optional, Satisfies
from ._figure import SPLIT_COLORS

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ._figure import Figure


HISTORY = Satisfies(lambda h: is_pandas(h) and {"epoch", "split"} <= set(h.columns),
                    "a DataFrame with columns 'epoch' and 'split' (TrainResult.history)", bad=[[1, 2], "history"])


@checked(history=HISTORY, metrics=Optional(Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(m, str)
                                                                                                 for m in v),
                                                     "a list of metric columns", bad=["loss"])),
         title=TEXT)
def learning_curves(history: pd.DataFrame, metrics: Sequence[str] | None = None, title: str = "") -> Figure:
    """Loss (and accuracy, if recorded) per epoch, one line per split, side by side."""
    import matplotlib
    import seaborn as sns

    from ._figure import Figure

    if metrics is None:
        metrics = [m for m in ("loss", "accuracy") if m in history.columns and history[m].notna().any()]
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(4.2 * max(1, len(metrics)), 3.2), layout="constrained")
        for i, metric in enumerate(metrics):
            ax = fig.add_subplot(1, len(metrics), i + 1)
            rows = history.dropna(subset=[metric])
            if not rows.empty:
                sns.lineplot(data=rows, x="epoch", y=metric, hue="split", marker="o", ax=ax,
                             palette=SPLIT_COLORS, hue_order=[s for s in SPLIT_COLORS if s in set(rows["split"])])
            ax.set_title(metric)
            ax.xaxis.get_major_locator().set_params(integer=True)
        if title:
            fig.suptitle(title)
    return fig


@checked(histories=Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0, "a non-empty dict {name: TrainResult.history}",
                             bad=[{}, [1]]),
         metric=Instance(str, "a metric column such as 'accuracy'"), split=Instance(str, "a split such as 'valid'"),
         title=TEXT)
def compare_curves(histories: Mapping[str, pd.DataFrame], metric: str = "accuracy", split: str = "valid",
                   title: str = "") -> Figure:
    """One line per run: ``metric`` on ``split`` per epoch, for runs given as ``{name: history}``.

    >>> import pandas as pd
    >>> h = pd.DataFrame({"epoch": [1, 2], "split": ["valid", "valid"], "accuracy": [0.5, 0.7]})
    >>> len(compare_curves({"plain": h, "batch norm": h.assign(accuracy=[0.8, 0.9])}).axes[0].lines)
    2
    """
    import matplotlib
    import seaborn as sns

    from ._figure import Figure

    func = "compare_curves"
    for name, h in histories.items():
        if not is_pandas(h) or not {"epoch", "split", metric} <= set(h.columns):
            raise fail(func, f"histories[{name!r}]", f"a history with columns epoch, split and {metric!r}",
                       type(h).__name__)
    palette = sns.color_palette("deep", len(histories))
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(6.0, 3.6), layout="constrained")
        ax = fig.add_subplot()
        for color, (name, h) in zip(palette, histories.items()):
            rows = h[h["split"] == split].dropna(subset=[metric])
            ax.plot(rows["epoch"], rows[metric], "o-", color=color, label=str(name), lw=1.8, ms=4)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{split} {metric}")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
        if title:
            ax.set_title(title, fontsize=10)
    return fig
