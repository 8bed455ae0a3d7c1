"""Figures used across chapters. Each returns a plain ``matplotlib.figure.Figure``.

Figures are built without pyplot, so nothing is registered globally: a figure made in a
callback or a loop never pops up later in another cell. Jupyter shows a returned figure
as a PNG; ``fig.savefig`` works as usual.

Examples
--------
>>> import pandas as pd
>>> from nbhelpers.plots import learning_curves
>>> history = pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2,
...                         "loss": [1.0, 1.1, 0.5, 0.7]})
>>> fig = learning_curves(history)
>>> len(fig.axes)
1
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.figure
import pandas as pd
import seaborn as sns
import torch

from ._checks import check_number, fail

SPLIT_COLORS = {"train": "#1f77b4", "valid": "#ff7f0e", "test": "#2ca02c"}


class Figure(matplotlib.figure.Figure):
    """A matplotlib ``Figure`` that Jupyter shows as a PNG without pyplot.

    IPython's inline backend registers its PNG formatter only once pyplot is imported;
    ``_repr_png_`` makes our figures show up whether or not a reader ever does.
    """

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def learning_curves(history: pd.DataFrame, metrics: Sequence[str] | None = None, title: str = "") -> Figure:
    """Loss (and accuracy, if recorded) per epoch, one line per split, side by side."""
    if not isinstance(history, pd.DataFrame) or not {"epoch", "split"} <= set(history.columns):
        raise fail("learning_curves", "history", "a DataFrame with columns 'epoch' and 'split' (TrainResult.history)", type(history).__name__)
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


def compare_curves(histories: Mapping[str, pd.DataFrame], metric: str = "accuracy", split: str = "valid",
                   title: str = "") -> Figure:
    """One line per run: ``metric`` on ``split`` per epoch, for runs given as ``{name: history}``.

    >>> import pandas as pd
    >>> h = pd.DataFrame({"epoch": [1, 2], "split": ["valid", "valid"], "accuracy": [0.5, 0.7]})
    >>> len(compare_curves({"plain": h, "batch norm": h.assign(accuracy=[0.8, 0.9])}).axes[0].lines)
    2
    """
    func = "compare_curves"
    if not isinstance(histories, Mapping) or not histories:
        raise fail(func, "histories", "a non-empty dict {name: TrainResult.history}", type(histories).__name__)
    for name, h in histories.items():
        if not isinstance(h, pd.DataFrame) or not {"epoch", "split", metric} <= set(h.columns):
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


def show_images(
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    classes: Sequence[str] | None = None,
    *,
    n: int = 32,
    columns: int = 8,
    mean_std: tuple[float, float] | None = None,
) -> Figure:
    """A grid of the first ``n`` images of ``x`` (N x C x H x W), titled with class names."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise fail("show_images", "x", "a tensor of shape N x C x H x W", getattr(x, "shape", type(x).__name__))
    check_number("show_images", "n", n, integer=True, low=1)
    check_number("show_images", "columns", columns, integer=True, low=1)
    images = x[:n].detach().float().cpu()
    if mean_std is not None:
        images = images * mean_std[1] + mean_std[0]
    rows = -(-len(images) // columns)
    fig = Figure(figsize=(1.3 * columns, 1.45 * rows), layout="constrained")
    for i, image in enumerate(images):
        ax = fig.add_subplot(rows, columns, i + 1)
        if image.shape[0] == 1:
            ax.imshow(image[0].numpy(), cmap="gray_r")
        else:
            ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy())
        if y is not None:
            label = int(y[i])
            ax.set_title(classes[label] if classes else str(label), fontsize=8)
        ax.axis("off")
    return fig


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig``: for ``ipywidgets.Image`` and ``IPython.display.Image``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
