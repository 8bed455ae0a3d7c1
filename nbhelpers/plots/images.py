"""Images in a grid, titled with their labels.

>>> import torch
>>> from nbhelpers import show_images
>>> len(show_images(torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])).axes) >= 4
True
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_number, fail
from ._figure import Figure


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
