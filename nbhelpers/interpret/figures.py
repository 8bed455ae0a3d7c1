"""The interpretation figures: maps over their images, the randomization check, a layer's
channels, t-SNE of features or pixels, the confidently wrong images; all on the course `Figure`.

>>> import torch
>>> from nbhelpers import CNN, attribute, plot_attributions
>>> model, x = CNN(channels=(4, 8)), torch.randn(2, 1, 28, 28)
>>> fig = plot_attributions(x, {"saliency": attribute(model, x), "Grad-CAM": attribute(model, x, method="grad_cam")})
>>> len(fig.axes)   # 2 rows: the image, then each map over it
6
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import torch

from .._checks import COUNT, FRACTION, TEXT, AnyOf, DictOf, Frame, Optional, Satisfies, checked, fail
from ..evaluation.metrics import CLASSES
from ._common import IMAGES

if TYPE_CHECKING:  # annotations only: matplotlib and pandas load when first used
    import pandas as pd

    from ..plots._figure import Figure

MAPS = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 3, "a tensor of maps, N x H x W",
                 bad=[torch.zeros(3)])
LABELS = Optional(Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 1 and not v.is_floating_point(),
                            "a tensor of class numbers", bad=["cat", torch.zeros(2)]))
MEAN_STD = Optional(Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2, "a pair (mean, std)", bad=[0.5]))


def _figure(width: float, height: float) -> Figure:
    from ..plots._figure import figure_class

    return figure_class()(figsize=(width, height), layout="constrained")


def _picture(image: torch.Tensor, mean_std) -> tuple:
    """An image as imshow takes it, and its colour map: grey for one channel, RGB for three."""
    image = image.detach().float().cpu()
    if mean_std is not None:
        image = image * mean_std[1] + mean_std[0]
    if image.shape[0] == 1:
        return image[0].numpy(), "gray"
    image = (image - image.min()) / (image.max() - image.min()).clamp_min(1e-12)
    return image[:3].permute(1, 2, 0).numpy(), None


def _overlay(values: torch.Tensor, alpha: float):
    """RGBA of a map scaled to its largest absolute value: the colour from "inferno" (a non-negative
    map) or "bwr" (a signed one), the opacity ``alpha`` times the magnitude, so where the map
    is near 0 the image shows through."""
    from matplotlib import colormaps

    values = values.detach().float().cpu()
    scaled = values / (float(values.abs().max()) or 1.0)
    signed = bool((values < 0).any())
    rgba = colormaps["bwr" if signed else "inferno"]((scaled.numpy() + 1) / 2 if signed else scaled.numpy())
    rgba[..., 3] = alpha * scaled.abs().numpy()
    return rgba


def _name(label: int, classes) -> str:
    return classes[label] if classes is not None and label < len(classes) else str(label)


@checked(images=IMAGES, maps=AnyOf(MAPS, DictOf(MAPS, "a dict {method name: maps N x H x W}")), labels=LABELS,
         classes=CLASSES, n=COUNT, mean_std=MEAN_STD, alpha=FRACTION, title=Optional(TEXT))
def plot_attributions(images: torch.Tensor, maps: torch.Tensor | Mapping[str, torch.Tensor],
                      labels: torch.Tensor | None = None, classes: Sequence[str] | None = None, *, n: int = 6,
                      mean_std: tuple[float, float] | None = None, alpha: float = 0.6,
                      title: str | None = None) -> Figure:
    """One row per image (the first ``n``): the image, then each method's map laid over it.

    ``maps`` is one tensor ``N x H x W`` (from `attribute`) or a dict ``{name: maps}`` for
    several methods side by side. Each map is scaled to its own largest absolute value
    (only where it points matters in the picture, not its units) and drawn over the image
    with an opacity that grows with its magnitude (``alpha`` at the largest): a non-negative
    map in "inferno", a signed one (integrated gradients) in blue (against the class) and red
    (for it). ``labels`` name the rows (with ``classes``); ``mean_std`` undoes the
    normalization for the picture of the image.

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(3, 1, 28, 28)
    >>> fig = plot_attributions(x, {"a": x[:, 0].abs(), "b": x[:, 0]}, torch.tensor([0, 1, 2]), ["x", "y", "z"], n=2)
    >>> len(fig.axes)
    6
    """
    maps = {"map": maps} if isinstance(maps, torch.Tensor) else dict(maps)
    for name, m in maps.items():
        if len(m) < min(n, len(images)) or tuple(m.shape[1:]) != tuple(images.shape[2:]):
            raise fail("plot_attributions", "maps", f"maps shaped like the images, N x {images.shape[2]} x "
                       f"{images.shape[3]}, for the first {min(n, len(images))} images", f"{name!r}: {tuple(m.shape)}")
    rows = min(n, len(images))
    cols = 1 + len(maps)
    fig = _figure(1.7 * cols, 1.75 * rows + (0.3 if title else 0))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i in range(rows):
        picture, cmap = _picture(images[i], mean_std)
        axes[i, 0].imshow(picture, cmap=cmap)
        if labels is not None:
            axes[i, 0].set_ylabel(_name(int(labels[i]), classes), fontsize=9)
        for j, (name, m) in enumerate(maps.items(), 1):
            axes[i, j].imshow(picture, cmap=cmap)
            axes[i, j].imshow(_overlay(m[i], alpha))
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    for j, name in enumerate(["image", *maps]):
        axes[0, j].set_title(name, fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


RANDOMIZATION_TABLE = Frame("the table randomization_check returns")


@checked(table=RANDOMIZATION_TABLE, title=Optional(TEXT))
def plot_randomization(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Similarity to the trained model's maps against the number of layers randomized, one line per method.

    ``table`` is `randomization_check`'s. The x axis names the layer randomized at each step
    (from the output down); a band shows one standard deviation over the images. A method
    that explains the model falls toward 0; one that stays high shows the input.

    Examples
    --------
    >>> import torch
    >>> from nbhelpers import CNN, randomization_check
    >>> table = randomization_check(CNN(channels=(4, 8)), torch.randn(2, 1, 28, 28), method=["saliency", "grad_cam"])
    >>> len(plot_randomization(table).axes[0].lines) >= 2
    True
    """
    missing = [c for c in ("step", "layer", "method", "similarity") if c not in table.columns]
    if missing:
        raise fail("plot_randomization", "table", "the table randomization_check returns", f"one without {missing}")
    fig = _figure(max(5.0, 0.45 * table["step"].nunique() + 2.5), 3.8)
    ax = fig.add_subplot()
    for method, rows in table.groupby("method", sort=False):
        rows = rows.sort_values("step")
        line, = ax.plot(rows["step"], rows["similarity"], marker="o", ms=4, label=method)
        if "similarity_sd" in rows:
            ax.fill_between(rows["step"], rows["similarity"] - rows["similarity_sd"],
                            rows["similarity"] + rows["similarity_sd"], color=line.get_color(), alpha=0.15)
    steps = table.drop_duplicates("step").sort_values("step")
    ax.set_xticks(steps["step"].tolist(), steps["layer"].tolist(), rotation=60, ha="right", fontsize=8)
    ax.axhline(0, color="0.5", lw=0.8)
    low = table["similarity"] - (table["similarity_sd"] if "similarity_sd" in table else 0)
    ax.set_ylim(max(-1.05, min(-0.2, float(low.min()) - 0.05)), 1.05)
    ax.set_xlabel("layers randomized, from the output down (cumulative)")
    ax.set_ylabel("similarity to the trained maps\n(Spearman's rho)")
    ax.legend(fontsize=8)
    ax.set_title(title or "Do the maps change when the weights are randomized?", fontsize=10)
    return fig


ACTIVATIONS = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim in (3, 4) and len(v) > 0,
                        "a tensor of activation maps, N x C x h x w or C x h x w", bad=[torch.zeros(3)])


@checked(maps=ACTIVATIONS, image=Optional(Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim in (2, 3),
                                                    "one image, C x H x W", bad=[torch.zeros(3)])),
         channels=COUNT, columns=COUNT, mean_std=MEAN_STD, title=Optional(TEXT))
def plot_activation_maps(maps: torch.Tensor, image: torch.Tensor | None = None, channels: int = 16, *,
                         columns: int = 8, mean_std: tuple[float, float] | None = None,
                         title: str | None = None) -> Figure:
    """The ``channels`` most active channels of one image's activation maps, each titled by its number.

    ``maps`` is `activation_maps`' output (its first image is drawn) or one image's ``C x h x w``.
    "Most active" is the largest mean activation; the maps share one colour scale, so a
    weak channel looks weak. ``image``, if given, is drawn first.

    Examples
    --------
    >>> import torch
    >>> fig = plot_activation_maps(torch.rand(2, 8, 7, 7), image=torch.rand(1, 28, 28), channels=4)
    >>> len(fig.axes)
    5
    """
    one = (maps[0] if maps.ndim == 4 else maps).detach().float().cpu()
    chosen = torch.argsort(one.mean((1, 2)), descending=True)[:channels].tolist()
    panels = len(chosen) + (image is not None)
    cols = min(columns, panels)
    rows = -(-panels // cols)
    fig = _figure(1.35 * cols, 1.45 * rows + (0.3 if title else 0))
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    if image is not None:
        picture, cmap = _picture(image if image.ndim == 3 else image[None], mean_std)
        axes[0].imshow(picture, cmap=cmap)
        axes[0].set_title("image", fontsize=8)
    low, high = float(one.min()), float(one.max())
    for ax, c in zip(axes[image is not None:], chosen):
        ax.imshow(one[c].numpy(), cmap="viridis", vmin=low, vmax=high)
        ax.set_title(f"channel {c}", fontsize=8)
    for ax in axes:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig
