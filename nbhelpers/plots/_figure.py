"""The course's `Figure`: a matplotlib figure built without pyplot that Jupyter shows as a PNG.

Figures are built without pyplot, so nothing is registered globally: a figure made in a
callback or a loop never pops up later in another cell. Jupyter shows a returned figure
as a PNG; ``fig.savefig`` works as usual.
"""

from __future__ import annotations

import io

import matplotlib.figure

SPLIT_COLORS = {"train": "#1f77b4", "valid": "#ff7f0e", "test": "#2ca02c"}


class Figure(matplotlib.figure.Figure):
    """A matplotlib ``Figure`` that Jupyter shows as a PNG without pyplot.

    IPython's inline backend registers its PNG formatter only once pyplot is imported;
    ``_repr_png_`` makes our figures show up whether or not a reader ever does.
    """

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig``: for ``ipywidgets.Image`` and ``IPython.display.Image``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
