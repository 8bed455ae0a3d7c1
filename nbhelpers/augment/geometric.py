"""Batched geometric augmentations on the device: flips, crops, shifts, rotation, shear, zoom, elastic.

The affine ones (`Flip`, `Crop`, `Shift`, `Rotate`, `Shear`, `Zoom`) each draw a batch of
3 x 3 matrices; a `Pipeline` multiplies consecutive ones and resamples once (an affine
grid, then ``F.grid_sample``), so rotation + shift + zoom cost one interpolation.
Empty space is filled as in Keras' ``fill_mode``: ``"constant"`` (the pixel value ``cval``,
0 = black), ``"nearest"``, ``"reflect"`` (abcd|dcba) or ``"wrap"`` (abcd|abcd). ``mean_std``
is the normalization of ``x`` (default: Fashion-MNIST's), so that ``cval`` is a pixel value.

>>> import torch
>>> from nbhelpers import Rotate
>>> x = torch.randn(16, 1, 28, 28)
>>> Rotate(15)(x).shape, Rotate(0)(x) is x
(torch.Size([16, 1, 28, 28]), True)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import FLAG, FRACTION, Optional, Real, checked
from ..data.datasets import FASHION_MEAN_STD
from .base import (FILL, SHIFT, ZOOM, ZOOM_LIMITS, AffineAugmentation, Augmentation, _store_fill, affine_grid, matrix,
                   sample, span, uniform)

# ---------------------------------------------------------------- the affine augmentations

class Flip(AffineAugmentation):
    """Mirror each image left-right (``horizontal``) and/or up-down (``vertical``), each with probability ``p``.

    Alone it flips exactly (no interpolation); in a `Pipeline` it joins the fused resampling.
    """

    @checked(horizontal=FLAG, vertical=FLAG, p=FRACTION, **FILL)
    def __init__(self, horizontal: bool = True, vertical: bool = False, p: float = 0.5, *,
                 fill_mode: str = "constant", cval: float = 0.0, mean_std=FASHION_MEAN_STD) -> None:
        self.horizontal, self.vertical, self.p = horizontal, vertical, p
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return self.p == 0 or not (self.horizontal or self.vertical)

    def _signs(self, x, generator):
        n = len(x)
        def draw(on: bool) -> torch.Tensor:
            if not on:
                return torch.ones(n, device=x.device, dtype=x.dtype)
            flip = torch.rand(n, device=x.device, generator=generator) < self.p
            return torch.where(flip, -1.0, 1.0).to(x.dtype)

        return draw(self.horizontal), draw(self.vertical)

    def matrices(self, x, generator):
        sx, sy = self._signs(x, generator)
        return matrix(sx, 0.0, 0.0, 0.0, sy, 0.0)

    def apply(self, x, y, generator):
        sx, sy = self._signs(x, generator)
        x = torch.where(sx.view(-1, 1, 1, 1) < 0, x.flip(-1), x)
        return torch.where(sy.view(-1, 1, 1, 1) < 0, x.flip(-2), x), y


class Crop(AffineAugmentation):
    """Random crop with padding (as on CIFAR): shift each image by a whole number of pixels in
    ``[-padding, padding]`` along each axis, filling the uncovered border by ``fill_mode``."""

    @checked(padding=Real(low=0, integer=True), **FILL)
    def __init__(self, padding: int = 2, *, fill_mode: str = "constant", cval: float = 0.0,
                 mean_std=FASHION_MEAN_STD) -> None:
        self.padding = padding
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return self.padding == 0

    def matrices(self, x, generator):
        t = torch.randint(-self.padding, self.padding + 1, (2, len(x)), device=x.device, generator=generator)
        t = t.to(x.dtype)
        return matrix(1.0, 0.0, t[0], 0.0, 1.0, t[1])


class Shift(AffineAugmentation):
    """Shift each image by up to ``width`` of its width and ``height`` of its height (fractions,
    drawn uniformly in ``[-f, f]``; Keras' ``width_shift_range`` / ``height_shift_range``).
    ``height=None`` means the same as ``width``."""

    @checked(width=SHIFT, height=Optional(SHIFT), **FILL)
    def __init__(self, width: float = 0.1, height: float | None = None, *, fill_mode: str = "constant",
                 cval: float = 0.0, mean_std=FASHION_MEAN_STD) -> None:
        self.width, self.height = width, height
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return self.width == 0 and (self.height or 0) == 0

    def matrices(self, x, generator):
        h, w = x.shape[-2:]
        fh = self.width if self.height is None else self.height
        tx = uniform(len(x), -self.width, self.width, x, generator) * w
        ty = uniform(len(x), -fh, fh, x, generator) * h
        return matrix(1.0, 0.0, tx, 0.0, 1.0, ty)


class Rotate(AffineAugmentation):
    """Rotate each image by an angle drawn uniformly in ``[-degrees, degrees]`` (Keras' ``rotation_range``)."""

    @checked(degrees=Real(low=0, high=180), **FILL)
    def __init__(self, degrees: float = 15.0, *, fill_mode: str = "constant", cval: float = 0.0,
                 mean_std=FASHION_MEAN_STD) -> None:
        self.degrees = degrees
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return self.degrees == 0

    def matrices(self, x, generator):
        a = torch.deg2rad(uniform(len(x), -self.degrees, self.degrees, x, generator))
        cos, sin = torch.cos(a), torch.sin(a)
        return matrix(cos, -sin, 0.0, sin, cos, 0.0)


class Shear(AffineAugmentation):
    """Shear each image by an angle drawn uniformly in ``[-degrees, degrees]``, as Keras' ``shear_range``
    (degrees, so Keras' ``shear_range=0.2`` is a barely visible 0.2 degrees)."""

    @checked(degrees=Real(low=0, high=89), **FILL)
    def __init__(self, degrees: float = 10.0, *, fill_mode: str = "constant", cval: float = 0.0,
                 mean_std=FASHION_MEAN_STD) -> None:
        self.degrees = degrees
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return self.degrees == 0

    def matrices(self, x, generator):
        s = torch.deg2rad(uniform(len(x), -self.degrees, self.degrees, x, generator))
        return matrix(1.0, -torch.sin(s), 0.0, 0.0, torch.cos(s), 0.0)


class Zoom(AffineAugmentation):
    """Zoom each image by a factor drawn uniformly in ``[1 - zoom, 1 + zoom]`` or ``zoom = (lo, hi)``.

    As in Keras' ``zoom_range`` the factor scales the sampling coordinates: below 1 zooms in
    (the object grows), above 1 zooms out. ``per_axis=True`` draws the width and height
    factors independently, as Keras' ``ImageDataGenerator`` does (it stretches the image).
    """

    @checked(zoom=ZOOM, per_axis=FLAG, **FILL)
    def __init__(self, zoom: float | tuple[float, float] = 0.1, *, per_axis: bool = False,
                 fill_mode: str = "constant", cval: float = 0.0, mean_std=FASHION_MEAN_STD) -> None:
        self.zoom, self.per_axis = zoom, per_axis
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return span(self.zoom, ZOOM_LIMITS["center"]) == (1.0, 1.0)

    def matrices(self, x, generator):
        lo, hi = span(self.zoom, ZOOM_LIMITS["center"])
        zx = uniform(len(x), lo, hi, x, generator)
        zy = uniform(len(x), lo, hi, x, generator) if self.per_axis else zx
        return matrix(zx, 0.0, 0.0, 0.0, zy, 0.0)


# ---------------------------------------------------------------- elastic deformation

class Elastic(Augmentation):
    """Elastic deformation (Simard et al. 2003): a random displacement field, uniform in [-1, 1]
    per pixel, smoothed by a Gaussian of ``sigma`` pixels and scaled by ``alpha`` pixels.
    Simard's values for 28 x 28 digits are ``alpha=34, sigma=4``."""

    @checked(alpha=Real(low=0), sigma=Real(low=0, low_open=True), **FILL)
    def __init__(self, alpha: float = 34.0, sigma: float = 4.0, *, fill_mode: str = "constant", cval: float = 0.0,
                 mean_std=FASHION_MEAN_STD) -> None:
        self.alpha, self.sigma = alpha, sigma
        _store_fill(self, fill_mode, cval, mean_std)

    def is_identity(self) -> bool:
        return self.alpha == 0

    def apply(self, x, y, generator):
        n, _, h, w = x.shape
        field = torch.rand(n * 2, 1, h, w, device=x.device, dtype=x.dtype, generator=generator) * 2 - 1
        r = max(1, min(math.ceil(4 * self.sigma), max(h, w)))  # scipy's truncate=4, capped at the image size
        t = torch.arange(-r, r + 1, device=x.device, dtype=x.dtype)
        kernel = torch.exp(-0.5 * (t / self.sigma) ** 2)
        kernel = kernel / kernel.sum()
        field = F.conv2d(field, kernel.view(1, 1, -1, 1), padding=(r, 0))  # separable Gaussian, zero padding
        field = F.conv2d(field, kernel.view(1, 1, 1, -1), padding=(0, r)).view(n, 2, h, w) * self.alpha
        identity = torch.eye(2, 3, device=x.device, dtype=x.dtype).expand(n, 2, 3)
        grid = affine_grid(identity, h, w) + torch.stack([field[:, 0] * (2 / w), field[:, 1] * (2 / h)], -1)
        return sample(x, grid, self.fill_mode, self.cval, self.mean_std, "Elastic"), y


AFFINE = (Flip, Crop, Shift, Rotate, Shear, Zoom)
__all__ = ["Augmentation", "AffineAugmentation", "Crop", "Elastic", "Flip", "Rotate", "Shear", "Shift", "Zoom"]

