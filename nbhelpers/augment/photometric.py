"""Batched photometric augmentations and label mixing on the device.

Brightness, contrast, histogram equalization (global and CLAHE), noise and erasing act on
pixel values: ``x`` is taken back to [0, 1] with ``mean_std`` (default: Fashion-MNIST's),
changed, clamped to [0, 1] and normalized again, so ``Brightness(0.2)`` means +-20% of
brightness whatever the normalization. MixUp and CutMix mix each image with another one of
the batch and turn integer labels into soft labels ``N x num_classes`` whose rows sum to 1
(`fit` computes accuracy from their argmax; ``cross_entropy`` accepts them as targets).

Like the geometric ones (see `nbhelpers.augment.geometric`), each is a small object called
on a whole batch, ``aug(x)`` or ``aug(x, y)``, with per-image random parameters drawn on the
device (``generator=`` optional); strength 0 or ``p=0`` returns ``x`` itself.

>>> import torch
>>> x, y = torch.randn(8, 1, 28, 28), torch.arange(8)
>>> xm, ym = MixUp(0.4, num_classes=10)(x, y)
>>> ym.shape, bool(torch.allclose(ym.sum(1), torch.ones(8)))
(torch.Size([8, 10]), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .._checks import FRACTION, Real, Satisfies, checked, fail
from ..data.datasets import FASHION_MEAN_STD
from .base import (
    FACTOR,
    FACTOR_LIMITS,
    MEAN_STD,
    MIX,
    SOME_STEPS,
    TILES,
    Augmentation,
    _real,
    check_batch,
    check_tiles,  # fmt: skip
    pair_within,
    run_step,
    span,
    stats,
    uniform,
)

BINS = 256  # grey levels for histogram equalization, as for 8-bit images
ERASE_VALUE = Satisfies(lambda v: (isinstance(v, str) and v == "random") or (_real(v) and 0 <= v <= 1),
                        "'random' or a pixel value in [0, 1]", bad=["black", True, math.nan, -0.5, 2])


class PixelAugmentation(Augmentation):
    """An augmentation of pixel values in [0, 1]: subclasses define ``pixels(p, generator)``."""

    mean_std: tuple | None

    def apply(self, x, y, generator):
        mean, std = stats(type(self).__name__, self.mean_std, x)
        p = self.pixels(x * std + mean, generator).clamp(0, 1)
        return (p - mean) / std, y

    def pixels(self, p: torch.Tensor, generator) -> torch.Tensor:
        raise NotImplementedError


def _per_image(p: torch.Tensor, chance: float, new: torch.Tensor, generator) -> torch.Tensor:
    """``new`` for a random fraction ``chance`` of the images, ``p`` for the others."""
    pick = torch.rand(len(p), device=p.device, generator=generator) < chance
    return torch.where(pick.view(-1, 1, 1, 1), new, p)


class Brightness(PixelAugmentation):
    """Multiply pixel values by a factor drawn in ``[1 - factor, 1 + factor]``, or in
    ``factor = (lo, hi)`` as Keras' ``brightness_range`` (PIL's ``ImageEnhance.Brightness``)."""

    @checked(factor=FACTOR, mean_std=MEAN_STD)
    def __init__(self, factor: float | tuple[float, float] = 0.2, *, mean_std=FASHION_MEAN_STD) -> None:
        self.factor, self.mean_std = factor, mean_std

    def is_identity(self) -> bool:
        return span(self.factor, FACTOR_LIMITS["center"]) == (1.0, 1.0)

    def pixels(self, p, generator):
        lo, hi = span(self.factor, FACTOR_LIMITS["center"])
        return p * uniform(len(p), lo, hi, p, generator).view(-1, 1, 1, 1)


class Contrast(PixelAugmentation):
    """Scale each image's deviations from its mean pixel value by a factor drawn in
    ``[1 - factor, 1 + factor]`` or ``(lo, hi)`` (0 gives a flat grey image)."""

    @checked(factor=FACTOR, mean_std=MEAN_STD)
    def __init__(self, factor: float | tuple[float, float] = 0.2, *, mean_std=FASHION_MEAN_STD) -> None:
        self.factor, self.mean_std = factor, mean_std

    def is_identity(self) -> bool:
        return span(self.factor, FACTOR_LIMITS["center"]) == (1.0, 1.0)

    def pixels(self, p, generator):
        lo, hi = span(self.factor, FACTOR_LIMITS["center"])
        mean = p.mean((1, 2, 3), keepdim=True)
        return (p - mean) * uniform(len(p), lo, hi, p, generator).view(-1, 1, 1, 1) + mean


def _levels(p: torch.Tensor) -> torch.Tensor:
    return (p.clamp(0, 1) * (BINS - 1)).round()


def equalize(p: torch.Tensor) -> torch.Tensor:
    """Global histogram equalization of every image and channel of ``p`` (values in [0, 1]) at once:
    one ``scatter_add`` builds all histograms, their cumulative sums are the mappings.
    Constant images are left as they are."""
    n, c, h, w = p.shape
    q = _levels(p).long().view(n * c, h * w)
    hist = torch.zeros(n * c, BINS, device=p.device, dtype=p.dtype)
    hist.scatter_add_(1, q, torch.ones_like(p).view(n * c, -1))
    cdf = hist.cumsum(1)
    cdf_min = torch.where(hist > 0, cdf, torch.inf).amin(1, keepdim=True)  # pixels at the darkest level present
    spread = h * w - cdf_min
    lut = (cdf - cdf_min) / spread.clamp_min(1)
    return torch.where((spread > 0).view(n, c, 1, 1), lut.gather(1, q).view(n, c, h, w), p)


def clahe(p: torch.Tensor, clip_limit: float, tiles: tuple[int, int]) -> torch.Tensor:
    """Contrast-limited adaptive histogram equalization of all images at once.

    The image is cut into ``tiles`` (rows, columns; the last ones padded by repeating the
    edge); each tile's histogram is clipped at ``clip_limit`` times the mean bin height, the
    excess spread evenly over all bins (one pass), and its cumulative sum is the tile's
    mapping. Each pixel blends the mappings of the four nearest tile centres bilinearly.
    """
    n, c, h, w = p.shape
    ty, tx = tiles
    th, tw = -(-h // ty), -(-w // tx)
    m = n * c
    q = _levels(p).view(m, 1, h, w)
    qp = F.pad(q, (0, tx * tw - w, 0, ty * th - h), mode="replicate").long()
    cells = qp.view(m, ty, th, tx, tw).permute(0, 1, 3, 2, 4).reshape(m * ty * tx, th * tw)
    hist = torch.zeros(m * ty * tx, BINS, device=p.device, dtype=p.dtype)
    hist.scatter_add_(1, cells, torch.ones(cells.shape, device=p.device, dtype=p.dtype))
    limit = clip_limit * th * tw / BINS
    excess = (hist - limit).clamp_min(0).sum(1, keepdim=True)
    lut = ((hist.clamp_max(limit) + excess / BINS).cumsum(1) / (th * tw)).clamp(0, 1).view(m, ty, tx, BINS)

    def neighbours(size, tile, count):  # index of the tile centre before and after each pixel, and the weight
        f = (torch.arange(size, device=p.device, dtype=p.dtype) + 0.5) / tile - 0.5
        lo = f.floor().clamp(0, count - 1)
        return lo.long(), (lo + 1).clamp(max=count - 1).long(), (f - lo).clamp(0, 1)

    y0, y1, wy = neighbours(h, th, ty)
    x0, x1, wx = neighbours(w, tw, tx)
    qi, mi = q.view(m, h, w).long(), torch.arange(m, device=p.device).view(m, 1, 1)
    at = lambda yy, xx: lut[mi, yy.view(1, h, 1), xx.view(1, 1, w), qi]  # noqa: E731
    wy, wx = wy.view(1, h, 1), wx.view(1, 1, w)
    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return (top * (1 - wy) + bottom * wy).view(n, c, h, w)


class Equalize(PixelAugmentation):
    """Global histogram equalization of each image (each channel), applied with probability ``p``."""

    @checked(p=FRACTION, mean_std=MEAN_STD)
    def __init__(self, p: float = 1.0, *, mean_std=FASHION_MEAN_STD) -> None:
        self.p, self.mean_std = p, mean_std

    def is_identity(self) -> bool:
        return self.p == 0

    def pixels(self, p, generator):
        return _per_image(p, self.p, equalize(p), generator)


class CLAHE(PixelAugmentation):
    """Adaptive histogram equalization with a clip limit (CLAHE, as OpenCV's ``createCLAHE``) on a
    grid of ``tiles`` (an integer or (rows, columns)), applied with probability ``p``.

    ``clip_limit`` is in units of the mean histogram bin height, as in OpenCV: near 1 the
    mapping is close to the identity, large values approach plain per-tile equalization.
    Simplified from OpenCV: the clipped excess is spread in one pass (OpenCV also spreads the
    rounding residue), the limit is not raised to at least one pixel, and tiles that do not
    divide the image are padded by repeating the edge.
    """

    @checked(clip_limit=Real(low=0, low_open=True), tiles=TILES, p=FRACTION, mean_std=MEAN_STD)
    def __init__(self, clip_limit: float = 2.0, tiles: int | tuple[int, int] = 4, p: float = 1.0, *,
                 mean_std=FASHION_MEAN_STD) -> None:
        self.clip_limit, self.tiles, self.p, self.mean_std = clip_limit, tiles, p, mean_std

    def is_identity(self) -> bool:
        return self.p == 0

    def pixels(self, p, generator):
        return _per_image(p, self.p, clahe(p, float(self.clip_limit), check_tiles("CLAHE", "tiles", self.tiles)),
                          generator)  # check_tiles: the checked tiles as a pair (rows, columns)


class Noise(PixelAugmentation):
    """Add Gaussian noise of standard deviation ``std`` (in pixel values: 0.1 is 10% of the range)."""

    @checked(std=Real(low=0), mean_std=MEAN_STD)
    def __init__(self, std: float = 0.05, *, mean_std=FASHION_MEAN_STD) -> None:
        self.std, self.mean_std = std, mean_std

    def is_identity(self) -> bool:
        return self.std == 0

    def pixels(self, p, generator):
        return p + self.std * torch.randn(p.shape, device=p.device, dtype=p.dtype, generator=generator)


class Erase(Augmentation):
    """Random erasing (Zhong et al. 2020): with probability ``p``, a rectangle covering a fraction
    of the image drawn in ``scale``, with aspect ratio drawn log-uniformly in ``ratio``, is
    replaced by random pixel values (``value="random"``, the paper's choice) or by the pixel
    value ``value``. A rectangle larger than the image is clipped to it rather than redrawn.
    """

    @checked(p=FRACTION, scale=pair_within(0, 1, bad=["small", 0.3, (0.5, 0.1), (0.1, 2)]),
             ratio=pair_within(1e-3, 1e3, bad=["square", 1.0, (3.3, 0.3), (0, 1)]), value=ERASE_VALUE,
             mean_std=MEAN_STD)  # fmt: skip
    def __init__(self, p: float = 0.5, scale: tuple[float, float] = (0.02, 0.33),
                 ratio: tuple[float, float] = (0.3, 3.3), value: float | str = "random", *,
                 mean_std=FASHION_MEAN_STD) -> None:
        self.p, self.scale, self.ratio, self.value, self.mean_std = p, scale, ratio, value, mean_std

    def is_identity(self) -> bool:
        return self.p == 0

    def apply(self, x, y, generator):
        n, c, h, w = x.shape
        area = uniform(n, *self.scale, x, generator) * (h * w)
        ratio = torch.exp(uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), x, generator))
        eh = torch.sqrt(area * ratio).round().clamp(1, h)
        ew = torch.sqrt(area / ratio).round().clamp(1, w)
        top = (uniform(n, 0, 1, x, generator) * (h - eh + 1)).floor().view(-1, 1, 1)
        left = (uniform(n, 0, 1, x, generator) * (w - ew + 1)).floor().view(-1, 1, 1)
        on = (torch.rand(n, device=x.device, generator=generator) < self.p).view(-1, 1, 1)
        rows = torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1)
        cols = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w)
        inside = (rows >= top) & (rows < top + eh.view(-1, 1, 1)) & (cols >= left) & (cols < left + ew.view(-1, 1, 1))
        mean, std = stats("Erase", self.mean_std, x)
        if self.value == "random":
            fill = torch.rand(x.shape, device=x.device, dtype=x.dtype, generator=generator)
        else:
            fill = torch.full_like(x, float(self.value))
        return torch.where((inside & on).unsqueeze(1), (fill - mean) / std, x), y


# ---------------------------------------------------------------- label mixing

def beta(alpha: float, n: int, like: torch.Tensor, generator) -> torch.Tensor:
    """``n`` draws from Beta(alpha, alpha) on ``like``'s device, from ``generator`` if given.

    ``torch.distributions.Beta`` cannot take a generator, so: Beta = G1 / (G1 + G2) with
    Gamma draws by Marsaglia and Tsang (2000), 16 proposals per draw in parallel (each is
    accepted with probability > 0.95) and the first accepted one kept; alpha < 1 uses
    Gamma(a) = Gamma(a + 1) * U^(1/a). Done in log space, as sigmoid(log G1 - log G2).
    """
    a = alpha + 1 if alpha < 1 else alpha
    d = a - 1 / 3
    c = 1 / math.sqrt(9 * d)
    opts = dict(device=like.device, dtype=torch.float32, generator=generator)
    z, u = torch.randn(2, n, 16, **opts), torch.rand(2, n, 16, **opts)
    v = (1 + c * z) ** 3
    log_v = torch.log(v.clamp_min(1e-30))
    ok = (v > 0) & (torch.log(u) < 0.5 * z**2 + d - d * v + d * log_v)
    first = ok.to(torch.uint8).argmax(-1, keepdim=True)  # the first accepted proposal
    log_g = torch.where(ok.any(-1), log_v.gather(-1, first).squeeze(-1), 0.0) + math.log(d)
    if alpha < 1:
        log_g = log_g + torch.log(torch.rand(2, n, **opts).clamp_min(1e-30)) / alpha
    return torch.sigmoid(log_g[0] - log_g[1]).to(like.dtype)


def soft_labels(func: str, y: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    """``y`` as float32 ``N x num_classes`` probabilities (soft labels pass through)."""
    if y.is_floating_point() and y.ndim == 2:
        return y
    if y.ndim != 1 or y.is_floating_point():
        raise fail(func, "y", "integer class labels (N,) or soft labels N x num_classes", tuple(y.shape))
    if num_classes is None:
        raise fail(func, "num_classes", "an integer >= 2 to turn integer labels into soft labels", None,
                   "Pass num_classes=data.num_classes (10 for Fashion-MNIST).")
    return F.one_hot(y, num_classes).float()


class _Mix(Augmentation):
    def __init__(self, alpha: float = 1.0, num_classes: int | None = None, p: float = 1.0) -> None:
        self.alpha, self.num_classes, self.p = alpha, num_classes, p  # checked by the subclasses' MIX table

    def is_identity(self) -> bool:
        return self.alpha == 0 or self.p == 0

    def _draw(self, x, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Per image: the weight of its own pixels (1 for images left alone) and its partner."""
        n = len(x)
        lam = beta(float(self.alpha), n, x, generator)
        lam = torch.where(torch.rand(n, device=x.device, generator=generator) < self.p, lam, 1.0)
        return lam, torch.randperm(n, device=x.device, generator=generator)

    def _labels(self, y, own, partner):
        if y is None:
            return None
        ys = soft_labels(type(self).__name__, y, self.num_classes)
        own = own.to(ys.dtype).view(-1, 1)
        return own * ys + (1 - own) * ys[partner]


class MixUp(_Mix):
    """MixUp (Zhang et al. 2018): each image becomes ``lam * x + (1 - lam) * x[partner]`` with
    ``lam ~ Beta(alpha, alpha)`` drawn per image (for a fraction ``p`` of them) and a partner
    from a random permutation of the batch; labels mix with the same weights.
    ``num_classes`` turns integer labels into soft labels."""

    @checked(**MIX)
    def __init__(self, alpha: float = 0.2, num_classes: int | None = None, p: float = 1.0) -> None:
        super().__init__(alpha, num_classes, p)

    def apply(self, x, y, generator):
        lam, partner = self._draw(x, generator)
        mixed = lam.view(-1, 1, 1, 1) * x + (1 - lam).view(-1, 1, 1, 1) * x[partner]
        return mixed, self._labels(y, lam, partner)


class CutMix(_Mix):
    """CutMix (Yun et al. 2019): a rectangle of each image is replaced by the same rectangle of
    its partner. The rectangle's area is ``1 - lam`` of the image, ``lam ~ Beta(alpha, alpha)``,
    centred uniformly and clipped at the border; labels are mixed by the area actually pasted."""

    @checked(**MIX)
    def __init__(self, alpha: float = 1.0, num_classes: int | None = None, p: float = 1.0) -> None:
        super().__init__(alpha, num_classes, p)

    def apply(self, x, y, generator):
        n, _, h, w = x.shape
        lam, partner = self._draw(x, generator)
        cut = torch.sqrt(1 - lam)
        half_h, half_w = (cut * h / 2).floor(), (cut * w / 2).floor()  # the paper's cut_h // 2
        cy = (uniform(n, 0, 1, x, generator) * h).floor()
        cx = (uniform(n, 0, 1, x, generator) * w).floor()
        y1, y2 = (cy - half_h).clamp(0, h), (cy + half_h).clamp(0, h)
        x1, x2 = (cx - half_w).clamp(0, w), (cx + half_w).clamp(0, w)
        rows = torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1)
        cols = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w)
        box = ((rows >= y1.view(-1, 1, 1)) & (rows < y2.view(-1, 1, 1))
               & (cols >= x1.view(-1, 1, 1)) & (cols < x2.view(-1, 1, 1)))  # fmt: skip
        own = 1 - (y2 - y1) * (x2 - x1) / (h * w)
        return torch.where(box.unsqueeze(1), x[partner], x), self._labels(y, own, partner)


class OneOf(Augmentation):
    """For each image, one of ``steps`` chosen uniformly at random, e.g. MixUp or CutMix.

    Every step runs on the whole batch (cost: one pass per step) and each image keeps the
    result of its own choice; integer labels become one-hot when another step made soft ones.
    """

    @checked(steps=SOME_STEPS)
    def __init__(self, steps: Sequence) -> None:
        self.steps = tuple(steps)

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None, *, generator: torch.Generator | None = None):
        check_batch("OneOf", x, y, generator)
        outs = [run_step(step, x, y, generator) for step in self.steps]
        n = len(x)
        pick = torch.randint(len(outs), (n,), device=x.device, generator=generator)
        rows = torch.arange(n, device=x.device)
        x_out = torch.stack([o[0] for o in outs])[pick, rows]
        if y is None:
            return x_out
        ys = [o[1] for o in outs]
        soft = next((t for t in ys if t.is_floating_point() and t.ndim == 2), None)
        if soft is not None:
            ys = [t if t.ndim == 2 else F.one_hot(t, soft.shape[1]).to(soft.dtype) for t in ys]
        return x_out, torch.stack(ys)[pick, rows]

    def __repr__(self) -> str:
        return f"OneOf([{', '.join(map(repr, self.steps))}])"


__all__ = ["CLAHE", "Brightness", "Contrast", "CutMix", "Equalize", "Erase", "MixUp", "Noise", "OneOf", "beta", "clahe",
           "equalize"]
