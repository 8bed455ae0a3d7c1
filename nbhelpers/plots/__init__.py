"""Plots: DataFrames and tensors in, `Figure`s out (built without pyplot, shown as PNG in Jupyter)."""

from ._figure import SPLIT_COLORS, Figure, figure_png
from .curves import compare_curves, learning_curves
from .images import show_images
from .intervals import plot_ci

__all__ = ["SPLIT_COLORS", "Figure", "compare_curves", "figure_png", "learning_curves", "plot_ci", "show_images"]
