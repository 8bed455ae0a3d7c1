"""Pictures of augmentations: `preview` (random draws of one), `gallery` (several side by side),
`soft_label_grid` (mixed images with their soft labels).

Grey levels are drawn on a fixed [0, 1] scale (not stretched per image, so brightness and
contrast changes show) and light is light.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._checks import COUNT, SEED, Function, Instance, Rule, checked, fail, shown
from ..data.datasets import FASHION_MEAN_STD
from .base import MEAN_STD, STEP_KINDS, run_step, stats

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    from ..plots._figure import Figure


def _pixels(batch: torch.Tensor, mean_std) -> np.ndarray:
    mean, std = stats("preview", mean_std, batch.float())
    return (batch.float() * std + mean).clamp(0, 1).cpu().numpy()


def _show(ax, image: np.ndarray) -> None:
    ax.imshow(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


IMAGES_ALLOWED = "a float tensor N x C x H x W of images (e.g. data.train[0])"
AUGMENTS_ALLOWED = f"a dict of row label -> augmentation, each one of: {STEP_KINDS}"
LABELS_ALLOWED = "a tensor of labels: integers (N,) or N x num_classes soft labels"


def check_images(func: str, name: str, x) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        tensor = isinstance(x, torch.Tensor)
        hint = "Add the channel axis with x.unsqueeze(1) or convert with x.float()." if tensor else ""
        raise fail(func, name, IMAGES_ALLOWED, tuple(x.shape) if isinstance(x, torch.Tensor) else shown(x), hint)


def _check_images(func: str, x) -> None:  # for preview_panel
    check_images(func, "x", x)


def check_augments(func: str, name: str, augments) -> None:
    if not isinstance(augments, Mapping):
        raise fail(func, name, AUGMENTS_ALLOWED, shown(augments))
    for label, augment in augments.items():
        if isinstance(augment, type):
            raise fail(func, name, AUGMENTS_ALLOWED, augments, f"`{name}[{label!r}]` is the class {augment.__name__}: "
                                                               f"make one, e.g. {augment.__name__}().")
        if not callable(augment):
            raise fail(func, name, AUGMENTS_ALLOWED, augments,
                       f"`{name}[{label!r}]` is {shown(augment)!r}, which is not callable.")


def check_labels(func: str, name: str, y) -> None:
    if not isinstance(y, torch.Tensor) or y.ndim not in (1, 2):
        raise fail(func, name, LABELS_ALLOWED, tuple(y.shape) if isinstance(y, torch.Tensor) else shown(y),
                   "Convert them with torch.as_tensor(y)." if isinstance(y, (list, tuple)) else "")


IMAGES = Rule(check_images, IMAGES_ALLOWED, bad=["images", 3, None])
AUGMENT = Function(f"one of: {STEP_KINDS}")


@checked(x=IMAGES, augment=AUGMENT, n=COUNT, versions=COUNT, mean_std=MEAN_STD, seed=SEED)
def preview(x: torch.Tensor, augment: Callable, *, n: int = 8, versions: int = 3, mean_std=FASHION_MEAN_STD,
            seed: int = 0) -> Figure:
    """A grid: the first ``n`` images of ``x`` in the top row, ``versions`` augmented copies below.

    Grey levels are drawn on a fixed [0, 1] scale (not stretched per image, so brightness
    and contrast changes show) and light is light, unlike `show_images`' inverted map.
    ``seed`` fixes this package's random draws, so the same seed shows the same draws.

    >>> import torch
    >>> from nbhelpers import pipeline
    >>> fig = preview(torch.rand(4, 1, 28, 28), pipeline(rotate=30), n=4, mean_std=None)
    >>> len(fig.axes)
    16
    """
    from ..plots._figure import Figure

    images = x[:n].detach()
    generator = torch.Generator(device=images.device).manual_seed(int(seed))
    rows = [images] + [run_step(augment, images, None, generator)[0] for _ in range(versions)]
    fig = Figure(figsize=(1.1 * len(images), 1.15 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), len(images), squeeze=False)
    for r, batch in enumerate(rows):
        for c, image in enumerate(_pixels(batch, mean_std)):
            _show(axes[r, c], image)
        axes[r, 0].set_ylabel("original" if r == 0 else f"augmented {r}", fontsize=8)
    return fig


@checked(x=IMAGES, augments=Rule(check_augments, AUGMENTS_ALLOWED, bad=["rotate", 3, {"rotate": 3}]), n=COUNT,
         mean_std=MEAN_STD, seed=SEED)
def gallery(x: torch.Tensor, augments: Mapping[str, Callable], *, n: int = 8, mean_std=FASHION_MEAN_STD,
            seed: int = 0) -> Figure:
    """The first ``n`` images of ``x`` on top, then one row per augmentation of ``augments``.

    Every row shows the same images, so the augmentations can be compared at a glance (where
    `preview` shows several random draws of one). Grey levels are on a fixed [0, 1] scale.

    >>> import torch
    >>> from nbhelpers import pipeline
    >>> fig = gallery(torch.rand(4, 1, 28, 28), {"rotate 30": pipeline(rotate=30)}, n=4, mean_std=None)
    >>> len(fig.axes)
    8
    """
    from ..plots._figure import Figure

    images = x[:n].detach()
    rows = [("original", images)]
    for label, augment in augments.items():
        generator = torch.Generator(device=images.device).manual_seed(int(seed))
        rows.append((str(label), run_step(augment, images, None, generator)[0]))
    fig = Figure(figsize=(0.95 * len(images) + 1.1, 1.0 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), len(images), squeeze=False)
    for r, (label, batch) in enumerate(rows):
        for c, image in enumerate(_pixels(batch, mean_std)):
            _show(axes[r, c], image)
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    return fig


@checked(x=IMAGES, y=Rule(check_labels, LABELS_ALLOWED, bad=["labels", 3, None]),
         classes=Instance((list, tuple), "a list of class names"), n=COUNT, mean_std=MEAN_STD)
def soft_label_grid(x: torch.Tensor, y: torch.Tensor, classes: Sequence[str], *, n: int = 8,
                    mean_std=FASHION_MEAN_STD) -> Figure:
    """Images titled with their soft labels: the two largest shares, e.g. ``'62% Bag / 38% Coat'``.

    ``y`` is ``N x num_classes`` (rows sum to 1, as MixUp and CutMix return) or integer labels.

    >>> import torch
    >>> y = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])
    >>> fig = soft_label_grid(torch.rand(2, 1, 8, 8), y, ["a", "b", "c"], mean_std=None)
    >>> [ax.get_title() for ax in fig.axes]
    ['70% a\\n30% b', '100% c']
    """
    from ..plots._figure import Figure

    func = "soft_label_grid"  # y against x and classes: the table checks each one alone
    if len(y) != len(x):
        raise fail(func, "y", f"labels for the {len(x)} images: integers or N x num_classes soft labels",
                   tuple(y.shape))
    if y.ndim == 2 and y.shape[1] != len(classes):
        raise fail(func, "y", f"N x {len(classes)} soft labels (one column per class)", tuple(y.shape))
    soft = y.float() if y.ndim == 2 else torch.nn.functional.one_hot(y.long(), len(classes)).float()
    images, soft = x[:n].detach(), soft[:n].detach().cpu()
    columns = min(len(images), 8)
    rows = -(-len(images) // columns)
    fig = Figure(figsize=(1.35 * columns, 1.75 * rows), layout="constrained")
    for i, image in enumerate(_pixels(images, mean_std)):
        ax = fig.add_subplot(rows, columns, i + 1)
        _show(ax, image)
        shares, top = soft[i].topk(min(2, len(classes)))
        ax.set_title("\n".join(f"{s:.0%} {classes[k]}" for s, k in zip(shares.tolist(), top.tolist()) if s >= 0.005),
                     fontsize=7)
    return fig
