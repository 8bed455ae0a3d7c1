"""What every batched augmentation shares: the base classes, argument checks, sampling and warping.

Every augmentation is a small object: the constructor checks and stores its arguments, and
``aug(x)`` or ``aug(x, y)`` transforms a whole batch ``N x C x H x W`` at once, drawing one
set of random parameters per image on ``x``'s device (from ``generator=`` when given). No
Python loop runs over images and nothing syncs with the device. Strength 0 returns ``x``
itself, bit for bit, without doing any work. `run_step` runs any step (ours, a torchvision
transform, a plain callable) on a batch.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers

import torch
import torch.nn.functional as F

from .._checks import FRACTION, Choice, Optional, Real, Rule, Satisfies, fail, shown
from ..data.loader import as_batch_augment

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
PADDING = {"constant": "zeros", "nearest": "border", "reflect": "reflection", "wrap": "border"}
ZOOM_LIMITS = dict(center=1.0, r_max=0.99, lo_min=0.01)  # factors stay positive
FACTOR_LIMITS = dict(center=1.0, r_max=1.0, lo_min=0.0)  # brightness and contrast: 0 is black or flat grey
MEAN_STD_ALLOWED = ("None (x holds pixel values in [0, 1]) or a pair (mean, std) of numbers, or of "
                    "per-channel sequences, with every std > 0")
TILES_ALLOWED = "an integer >= 1 or a pair (rows, columns) of them"
STEP_KINDS = "augmentations, torchvision transforms or callables f(x) -> x / f(x, y) -> (x, y)"


# ---------------------------------------------------------------- argument checks shared by the ops

def _real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _validate(check):
    """A `Rule` check from a check that returns a converted value: the argument keeps the value as
    given (a step's repr shows what the reader typed); the step converts it where it uses it."""
    def rule(func: str, name: str, value) -> None:
        check(func, name, value)

    return rule


def check_mean_std(func: str, mean_std, name: str = "mean_std"):
    """``mean_std`` as given if valid: None, or (mean, std) numbers or per-channel sequences."""
    if mean_std is None:
        return None
    ok = isinstance(mean_std, (tuple, list)) and len(mean_std) == 2
    parts = [p if isinstance(p, (tuple, list)) else (p,) for p in mean_std] if ok else []
    if not ok or not all(p and all(_real(v) for v in p) for p in parts) or min(parts[1]) <= 0:
        raise fail(func, name, MEAN_STD_ALLOWED, mean_std)
    return mean_std


def range_words(center: float, r_max: float, lo_min: float) -> str:
    return f"a number r in [0, {r_max:g}] (the range {center:g} +- r) or a pair (lo, hi) with {lo_min:g} <= lo <= hi"


def check_range(func: str, name: str, value, *, center: float, r_max: float, lo_min: float):
    """A number ``r`` in ``[0, r_max]`` (the range ``[center - r, center + r]``) or a pair ``(lo, hi)``
    with ``lo_min <= lo <= hi``; returns the pair as floats."""
    if _real(value) and 0 <= value <= r_max:
        return span(value, center)
    if (isinstance(value, (tuple, list)) and len(value) == 2 and all(_real(v) for v in value)
            and lo_min <= value[0] <= value[1]):
        return span(value, center)
    raise fail(func, name, range_words(center, r_max, lo_min), value)


def span(value, center: float) -> tuple[float, float]:
    """A checked range (r or (lo, hi)) as the pair (lo, hi)."""
    if isinstance(value, (tuple, list)):
        return float(value[0]), float(value[1])
    return center - value, center + value


def as_prob(value, true_means: float = 1.0) -> float:
    """A checked probability in [0, 1] as a float; True means ``true_means`` and False 0."""
    if isinstance(value, bool):
        return true_means if value else 0.0
    return float(value)


def check_tiles(func: str, name: str, tiles) -> tuple[int, int]:
    """A tile grid: an integer >= 1 or a pair (rows, columns) of them; returns the pair."""
    pair = tuple(tiles) if isinstance(tiles, (tuple, list)) else (tiles, tiles)
    if len(pair) != 2 or not all(isinstance(t, numbers.Integral) and not isinstance(t, bool) and t >= 1 for t in pair):
        raise fail(func, name, TILES_ALLOWED, tiles)
    return int(pair[0]), int(pair[1])


def check_steps(func: str, name: str, steps, *, empty: bool = True) -> None:
    """A list (or tuple) of steps, each callable (an instance, not a class); the message points at the
    first step that is not."""
    allowed = f"a {'' if empty else 'non-empty '}list of {STEP_KINDS}"
    if not isinstance(steps, (list, tuple)) or not (empty or steps):
        raise fail(func, name, allowed, steps if isinstance(steps, (list, tuple)) else shown(steps))
    for i, step in enumerate(steps):
        if isinstance(step, type):
            raise fail(func, name, allowed, steps, f"`{name}[{i}]` is the class {step.__name__}: "
                                                   f"make one, e.g. {step.__name__}().")
        if not callable(step):
            raise fail(func, name, allowed, steps, f"`{name}[{i}]` is {shown(step)!r}, which is not callable.")


# ---------------------------------------------------------------- what the arguments may be (tables for `checked`)

MEAN_STD = Rule(_validate(lambda f, n, v: check_mean_std(f, v, n)), MEAN_STD_ALLOWED,
                bad=["fashion", 3, (0.5, 0), (0.5,)])
FILL = dict(fill_mode=Choice(*FILL_MODES), cval=Real(low=0, high=1), mean_std=MEAN_STD)  # cval: a pixel value


def range_of(center: float, r_max: float, lo_min: float) -> Rule:
    """r (the range center +- r) or a pair (lo, hi): Zoom's ``zoom``, Brightness' ``factor``..."""
    return Rule(_validate(lambda f, n, v: check_range(f, n, v, center=center, r_max=r_max, lo_min=lo_min)),
                range_words(center, r_max, lo_min), bad=["wide", True, math.nan, -0.1, r_max + 1, (1.2, 0.8),
                                                         (lo_min - 1, 1.0)])  # fmt: skip


def pair_within(lo_min: float, hi_max: float, bad: list) -> Satisfies:
    """A pair (lo, hi) with ``lo_min <= lo <= hi <= hi_max`` (Erase's ``scale`` and ``ratio``)."""
    return Satisfies(lambda v: (isinstance(v, (tuple, list)) and len(v) == 2 and all(_real(x) for x in v)
                                and lo_min <= v[0] <= v[1] <= hi_max),
                     f"a pair (lo, hi) with {lo_min:g} <= lo <= hi <= {hi_max:g}", bad=bad)  # fmt: skip


def flag_or_prob(true_means: str) -> Satisfies:
    """True, False or a probability: ``pipeline``'s ``hflip``, ``vflip``, ``equalize``."""
    return Satisfies(lambda v: isinstance(v, bool) or FRACTION.ok(v),
                     f"True ({true_means}), False or a probability in [0, 1]", bad=["yes", math.nan, -0.5, 2])


ZOOM = range_of(**ZOOM_LIMITS)
FACTOR = range_of(**FACTOR_LIMITS)
TILES = Rule(_validate(check_tiles), TILES_ALLOWED, bad=["many", 0, True, 1.5, (2, 0), (1, 2, 3)])
STEPS = Rule(_validate(check_steps), f"a list of {STEP_KINDS}", bad=["rotate", 3, [3], [float]])
SOME_STEPS = Rule(_validate(lambda f, n, v: check_steps(f, n, v, empty=False)), f"a non-empty list of {STEP_KINDS}",
                  bad=["rotate", [], [3], [float]])
SHIFT = Satisfies(lambda v: _real(v) and 0 <= v < 1,
                  "a fraction of the image in [0, 1) (Keras' pixel counts >= 1: divide them by the size)",
                  bad=["many", True, math.nan, -0.1, 1, 5])
MIX = dict(alpha=Real(low=0), num_classes=Optional(Real(low=2, integer=True)), p=FRACTION)  # MixUp, CutMix


def check_batch(func: str, x, y, generator) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise fail(func, "x", "a float tensor N x C x H x W (a batch of images)",
                   tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__,
                   "Add the channel axis with x.unsqueeze(1) or convert with x.float().")
    if y is not None and (not isinstance(y, torch.Tensor) or y.ndim == 0 or len(y) != len(x)):
        raise fail(func, "y", f"None or a tensor of {len(x)} labels (one per image)",
                   tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__)
    if generator is not None and (not isinstance(generator, torch.Generator)
                                  or generator.device.type != x.device.type):  # fmt: skip
        raise fail(func, "generator", f"None or a torch.Generator on x's device ({x.device.type})", generator,
                   f"Make one with torch.Generator(device='{x.device.type}').manual_seed(0).")


# ---------------------------------------------------------------- helpers on the device

@functools.lru_cache(maxsize=64)
def _channel_tensor(values: tuple, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(values, device=device, dtype=dtype).view(1, -1, 1, 1)  # cached: copied once per device


def stats(func: str, mean_std, x: torch.Tensor):
    """``(mean, std)`` of ``mean_std`` ready to broadcast against ``x``: Python floats when scalar
    (no host-to-device copy per batch), cached per-channel tensors otherwise."""
    if mean_std is None:
        return 0.0, 1.0
    out = []
    for part in mean_std:
        if not isinstance(part, (tuple, list)):
            out.append(float(part))
        elif len(part) == 1 or len(part) == x.shape[1]:
            out.append(_channel_tensor(tuple(float(v) for v in part), x.device, x.dtype))
        else:
            raise fail(func, "mean_std", f"numbers or sequences of {x.shape[1]} values (one per channel of x)",
                       mean_std)
    return tuple(out)


def uniform(n: int, low: float, high: float, x: torch.Tensor, generator) -> torch.Tensor:
    """``n`` draws from U(low, high) on x's device, in x's dtype."""
    return torch.rand(n, device=x.device, dtype=x.dtype, generator=generator) * (high - low) + low


def matrix(m00, m01, m02, m10, m11, m12) -> torch.Tensor:
    """A batch ``N x 3 x 3`` of affine matrices from per-image entries (tensors of N, or numbers)."""
    ref = next(m for m in (m00, m01, m02, m10, m11, m12) if isinstance(m, torch.Tensor))
    full = lambda v: v if isinstance(v, torch.Tensor) else torch.full_like(ref, v)  # noqa: E731
    entries = [full(v) for v in (m00, m01, m02, m10, m11, m12, 0.0, 0.0, 1.0)]
    return torch.stack(entries, -1).view(-1, 3, 3)


def sample(x: torch.Tensor, grid: torch.Tensor, fill_mode: str, cval: float, mean_std, func: str) -> torch.Tensor:
    """``F.grid_sample`` (bilinear) with Keras' fill modes; ``cval`` is a pixel value in [0, 1]."""
    if fill_mode == "wrap":  # pad one pixel circularly, wrap the grid into [-1, 1) and rescale it to the padding
        h, w = x.shape[-2:]
        grid = torch.remainder(grid + 1, 2) - 1
        grid = torch.stack([grid[..., 0] * (w / (w + 2)), grid[..., 1] * (h / (h + 2))], -1)
        x = F.pad(x, (1, 1, 1, 1), mode="circular")
    if fill_mode == "constant":  # grid_sample fills with 0; shift so that 0 is the normalized cval
        mean, std = stats(func, mean_std, x)
        fill = (cval - mean) / std
        return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=PADDING[fill_mode], align_corners=False)


def warp(x: torch.Tensor, matrices: torch.Tensor, fill_mode: str, cval: float, mean_std, func: str) -> torch.Tensor:
    """Resample ``x`` by per-image 3 x 3 matrices that map output to input pixel coordinates
    (origin at the image centre). One ``affine_grid`` + ``grid_sample`` for the whole batch."""
    h, w = x.shape[-2:]
    m = matrices.to(x.dtype)
    # Pixel coordinates -> affine_grid's [-1, 1] coordinates: theta = D^-1 M D with D = diag(w/2, h/2, 1).
    theta = torch.stack([torch.stack([m[:, 0, 0], m[:, 0, 1] * (h / w), m[:, 0, 2] * (2 / w)], -1),
                         torch.stack([m[:, 1, 0] * (w / h), m[:, 1, 1], m[:, 1, 2] * (2 / h)], -1)], 1)
    return sample(x, affine_grid(theta, h, w), fill_mode, cval, mean_std, func)


def affine_grid(theta: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``F.affine_grid(theta, (N, C, h, w), align_corners=False)``, computed by broadcasting.

    Same numbers; ``F.affine_grid`` multiplies ``N x hw x 3`` by ``N x 3 x 2`` matrices, which
    took 1.8 ms for a batch of 128 images of 28 x 28 on one CPU core here (half of the whole
    pipeline), these six multiply-adds per pixel 0.2 ms.
    """
    xs = (torch.arange(w, device=theta.device, dtype=theta.dtype) * 2 + 1) / w - 1  # pixel centres in [-1, 1]
    ys = ((torch.arange(h, device=theta.device, dtype=theta.dtype) * 2 + 1) / h - 1).view(h, 1)
    t = theta.reshape(-1, 2, 3, 1, 1)
    return (t[:, :, 0] * xs + t[:, :, 1] * ys + t[:, :, 2]).permute(0, 2, 3, 1)  # N x h x w x 2, a strided view


# ---------------------------------------------------------------- base classes

class Augmentation:
    """Base of the batched augmentations: ``aug(x, y=None, *, generator=None)``.

    Checks the batch, returns ``x`` itself when `is_identity` (strength 0), computes in
    float32 for half-precision input and gives the result back in ``x``'s dtype, and returns
    ``x`` alone when ``y`` is None, else ``(x, y)``. Subclasses define `is_identity` and `apply`.
    """

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None, *, generator: torch.Generator | None = None):
        check_batch(type(self).__name__, x, y, generator)
        if self.is_identity():
            return x if y is None else (x, y)
        work = x if x.dtype in (torch.float32, torch.float64) else x.float()
        out, y_out = self.apply(work, y, generator)
        out = out.to(x.dtype)
        return out if y is None else (out, y_out)

    def is_identity(self) -> bool:
        raise NotImplementedError

    def apply(self, x: torch.Tensor, y: torch.Tensor | None, generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def __repr__(self) -> str:  # the strengths always, keyword-only options where they differ from the default
        params = list(inspect.signature(type(self).__init__).parameters.values())[1:]
        shown = [f"{p.name}={getattr(self, p.name)!r}" for p in params
                 if p.kind != p.KEYWORD_ONLY or getattr(self, p.name) != p.default]
        return f"{type(self).__name__}({', '.join(shown)})"


class AffineAugmentation(Augmentation):
    """An augmentation given by a batch of affine matrices (`matrices`), so that a `Pipeline` can fuse it."""

    fill_mode: str
    cval: float
    mean_std: tuple | None

    def matrices(self, x: torch.Tensor, generator) -> torch.Tensor:
        """``N x 3 x 3`` matrices, output -> input pixel coordinates about the image centre."""
        raise NotImplementedError

    def apply(self, x, y, generator):
        return warp(x, self.matrices(x, generator), self.fill_mode, self.cval, self.mean_std, type(self).__name__), y


def _store_fill(self, fill_mode, cval, mean_std) -> None:
    self.fill_mode, self.cval, self.mean_std = fill_mode, cval, mean_std  # checked by FILL


# ---------------------------------------------------------------- running any step: ours, torchvision's, a callable

def _is_torchvision(step) -> bool:
    return type(step).__module__.startswith("torchvision.transforms")


def run_step(step, x, y, generator):
    """One step on the batch, as ``(x, y)``; ``y`` stays None when it came in as None."""
    if isinstance(step, Augmentation):  # this package's steps, Pipeline and OneOf included
        out = step(x, y, generator=generator)
    elif _is_torchvision(step):  # v2 passes labels through (and mixes them in its MixUp / CutMix)
        out = step(x) if y is None or not type(step).__module__.startswith("torchvision.transforms.v2") else step(x, y)
    elif as_batch_augment(step) is step:  # a callable taking (x, y)
        out = step(x, y)
    else:
        return step(x), y
    if y is None:
        return (out[0] if isinstance(out, tuple) else out), None
    return out
