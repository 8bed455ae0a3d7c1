"""Images in a grid, titled with their labels.

>>> import torch
>>> from nbhelpers import show_images
>>> len(show_images(torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])).axes) >= 4
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from .._checks import COUNT, Instance, Optional, Satisfies, checked

if TYPE_CHECKING:  # annotations only: matplotlib loads when first used
    from ._figure import Figure


@checked(x=Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 4, "a tensor of shape N x C x H x W",
                    bad=["images", 3]),
         y=Optional(Instance(torch.Tensor, "a tensor of labels")),
         classes=Optional(Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v),
                                    "a list of class names", bad=["cat"])),
         n=COUNT, columns=COUNT,
         mean_std=Optional(Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2, "a pair (mean, std)",
                                     bad=[0.5])))
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
    from ._figure import Figure

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
