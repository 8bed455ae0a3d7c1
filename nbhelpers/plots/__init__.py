"""Plots: DataFrames and tensors in, `Figure`s out (built without pyplot, shown as PNG in Jupyter)."""

from ._figure import SPLIT_COLORS, figure_png
from .curves import compare_curves, learning_curves
from .images import show_images
from .intervals import plot_ci

__all__ = ["SPLIT_COLORS", "Figure", "compare_curves", "figure_png", "learning_curves", "plot_ci", "show_images"]


def __getattr__(name: str):
    if name == "Figure":  # made on first use: matplotlib costs 0.5 s at import
        from ._figure import figure_class

        return figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
