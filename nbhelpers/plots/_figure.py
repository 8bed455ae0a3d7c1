"""The course's `Figure`: a matplotlib figure built without pyplot that Jupyter shows as a PNG.

Figures are built without pyplot, so nothing is registered globally: a figure made in a
callback or a loop never pops up later in another cell. Jupyter shows a returned figure
as a PNG; ``fig.savefig`` works as usual. The class is made when it is first used, so that
``import nbhelpers`` does not pay for matplotlib (0.5 s).

>>> from nbhelpers import Figure
>>> fig = Figure(figsize=(2, 1))
>>> figure_png(fig)[:4]
b'\x89PNG'
"""

from __future__ import annotations

import functools
import io
from typing import Any

SPLIT_COLORS = {"train": "#1f77b4", "valid": "#ff7f0e", "test": "#2ca02c"}


@functools.cache
def figure_class() -> type:
    """The `Figure` class, a subclass of ``matplotlib.figure.Figure`` (made once, on first use)."""
    import matplotlib.figure

    class Figure(matplotlib.figure.Figure):
        """A matplotlib ``Figure`` that Jupyter shows as a PNG without pyplot.

        IPython's inline backend registers its PNG formatter only once pyplot is imported;
        ``_repr_png_`` makes our figures show up whether or not a reader ever does.
        """

        def _repr_png_(self) -> bytes:
            return figure_png(self)

    Figure.__module__, Figure.__qualname__ = __name__, "Figure"  # so it pickles and prints as nbhelpers' Figure
    return Figure


def __getattr__(name: str) -> Any:
    if name == "Figure":
        return figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def figure_png(fig: Any) -> bytes:
    """PNG bytes of ``fig``: for ``ipywidgets.Image`` and ``IPython.display.Image``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
