"""`pipeline`: the chapter's augmentations in one call, as one `Pipeline` over whole batches.

``pipeline(**keywords)`` builds the chapter's augmentations in one call, with the course's
names or with Keras' ``ImageDataGenerator`` names, and ``fit(..., augment=...)`` runs it on
every training batch. Each step draws its random parameters per image on the device, so a
batch of 128 images costs a few tensor operations instead of 128 trips through PIL. The
steps themselves live in `nbhelpers.augment.geometric` (flips, crops, shifts, rotation,
shear, zoom, elastic) and `nbhelpers.augment.photometric` (brightness, contrast,
equalization, CLAHE, noise, erasing, MixUp, CutMix); import them from the package, e.g.
``from nbhelpers import Rotate, MixUp`` (their names differ from torchvision's, so both
can be imported side by side).

>>> import torch
>>> from nbhelpers import pipeline
>>> aug = pipeline(rotate=15, shift=0.1, erase=0.5)
>>> aug
Pipeline([
    Rotate(degrees=15),
    Shift(width=0.1, height=None),
    Erase(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value='random'),
])
>>> x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
>>> aug(x).shape
torch.Size([64, 1, 28, 28])
>>> pipeline(rotation_range=20, horizontal_flip=True)  # Keras' names work too
Pipeline([
    Rotate(degrees=20),
    Flip(horizontal=True, vertical=False, p=0.5),
])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch

from .._checks import Real, Rule, check_choice, checked, declared, fail
from ..data.datasets import FASHION_MEAN_STD
from .base import (FACTOR_LIMITS, STEPS, ZOOM_LIMITS, AffineAugmentation, Augmentation, _real, as_prob, check_batch,
                   flag_or_prob, run_step, span, warp)
from .geometric import Crop, Elastic, Flip, Rotate, Shear, Shift, Zoom
from .photometric import CLAHE, Brightness, Contrast, CutMix, Equalize, Erase, MixUp, Noise, OneOf


class Pipeline(Augmentation):
    """Steps applied in order to a whole batch, called as ``pipe(x)`` or ``pipe(x, y)``.

    A step is one of this package's augmentations, a torchvision transform, or any callable
    ``f(x) -> x`` or ``f(x, y) -> (x, y)``. torchvision transforms (v2 or v1) are called on
    the whole batch as torchvision does: they draw ONE set of random parameters per call, so
    every image of the batch gets the same rotation; ours draw one per image. ``generator=``
    reaches this package's steps only. Consecutive affine steps (`Rotate`, `Shift`, `Zoom`...)
    with the same fill options are fused: their matrices are multiplied and the batch is
    resampled once.

    >>> from torchvision.transforms import v2
    >>> from nbhelpers import Rotate
    >>> pipe = Pipeline([Rotate(15), v2.RandomInvert(p=1.0)])
    >>> pipe(torch.rand(8, 1, 28, 28)).shape
    torch.Size([8, 1, 28, 28])
    """

    @checked(steps=STEPS)
    def __init__(self, steps: Sequence = ()) -> None:
        self.steps = tuple(steps)  # a copy: the caller's list is never changed

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None, *, generator: torch.Generator | None = None):
        check_batch("Pipeline", x, y, generator)
        i = 0
        while i < len(self.steps):
            run = [self.steps[i]]
            while (isinstance(run[0], AffineAugmentation) and i + len(run) < len(self.steps)
                   and _fusable(run[0], self.steps[i + len(run)])):  # fmt: skip
                run.append(self.steps[i + len(run)])
            if len(run) > 1:
                x = self._fused(run, x, generator)
            else:
                x, y = run_step(run[0], x, y, generator)
            i += len(run)
        return x if y is None else (x, y)

    @staticmethod
    def _fused(run: list[AffineAugmentation], x: torch.Tensor, generator) -> torch.Tensor:
        """Several affine steps as one resampling: the product of their matrices, in step order."""
        active = [step for step in run if not step.is_identity()]
        if len(active) <= 1:
            return active[0](x, generator=generator) if active else x
        work = x if x.dtype in (torch.float32, torch.float64) else x.float()
        m = active[0].matrices(work, generator)
        for step in active[1:]:
            m = m @ step.matrices(work, generator)  # output -> input: earlier steps act last
        first = active[0]
        return warp(work, m, first.fill_mode, first.cval, first.mean_std, "Pipeline").to(x.dtype)

    def __repr__(self) -> str:
        return "Pipeline([" + "".join(f"\n    {step!r}," for step in self.steps) + ("\n])" if self.steps else "])")


def _fusable(a: AffineAugmentation, b) -> bool:
    return isinstance(b, AffineAugmentation) and (a.fill_mode, a.cval, a.mean_std) == (b.fill_mode, b.cval, b.mean_std)


# ---------------------------------------------------------------- pipeline(**keywords)

KERAS_NAMES = {"rotation_range": "rotate", "width_shift_range": "shift", "height_shift_range": "shift",
               "shear_range": "shear", "zoom_range": "zoom", "horizontal_flip": "hflip", "vertical_flip": "vflip",
               "brightness_range": "brightness"}  # fmt: skip
KERAS_NOT_MAPPED = {
    **dict.fromkeys(("featurewise_center", "samplewise_center", "featurewise_std_normalization", "rescale",
                     "samplewise_std_normalization", "zca_whitening", "zca_epsilon"),
                    "Normalization belongs to loading the data (fashion_mnist() returns normalized tensors); "
                    "pipeline() only augments."),
    "channel_shift_range": "Use brightness= for a random change of intensity.",
    "preprocessing_function": "Pass your function as extra=[f].",
    "data_format": "Batches are N x C x H x W (channels first) here.",
    "validation_split": "Split the data when loading it, e.g. fashion_mnist(valid_size=0.1).",
    "interpolation_order": "Resampling is bilinear.", "dtype": "Batches keep their dtype.",
}
PIXELS_HINT = "Keras' pixel counts >= 1: divide them by the image size."


SHIFT_PAIR = "a fraction in [0, 1) or a pair (width, height) of them"


def _shift_pair(func: str, name: str, value) -> tuple[float, float]:
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(_real(v) and 0 <= v < 1 for v in pair):
        raise fail(func, name, SHIFT_PAIR, value, PIXELS_HINT)
    return float(pair[0]), float(pair[1])


def _fraction(name: str, value) -> float:
    if not (_real(value) and 0 <= value < 1):
        raise fail("pipeline", name, "a fraction of the image size in [0, 1)", value, PIXELS_HINT)
    return float(value)


def _from_keras(keras: dict, native: dict) -> tuple[dict, dict]:
    """Keras' ``ImageDataGenerator`` keywords as the native ones, and the name used for each."""
    used: dict[str, str] = {}
    for name, value in keras.items():
        if name in KERAS_NOT_MAPPED:
            raise fail("pipeline", name, "left out: it is a Keras ImageDataGenerator option pipeline() does not map",
                       value, KERAS_NOT_MAPPED[name])
        if name not in KERAS_NAMES:
            check_choice("pipeline", "keyword", name, (*PIPELINE_DEFAULTS, *KERAS_NAMES))  # raises: did-you-mean
        canon = KERAS_NAMES[name]
        if native[canon] != PIPELINE_DEFAULTS[canon]:
            raise fail("pipeline", name, f"left out when `{canon}` is given (both name the same operation)", value)
        if canon != "shift":  # the native keyword's constraint, under the Keras name (shifts: `_fraction` below)
            PIPELINE_ARGUMENTS[canon].check("pipeline", name, value)
        used[canon] = used.get(canon, name)
    mapped = {KERAS_NAMES[k]: v for k, v in keras.items() if k not in ("width_shift_range", "height_shift_range")}
    if "shift" in used:
        mapped["shift"] = tuple(_fraction(k, keras.get(k, 0.0)) for k in ("width_shift_range", "height_shift_range"))
    if "zoom" in used:
        mapped["zoom_per_axis"] = True  # Keras draws the width and height factors independently
    return mapped, used


# What each keyword may be: the constraint of the step it makes (0 turns a step off here), one home for each.
PIPELINE_ARGUMENTS = dict(
    hflip=flag_or_prob("probability 0.5"), vflip=flag_or_prob("probability 0.5"),
    rotate=declared(Rotate)["degrees"],
    shift=Rule(lambda f, n, v: _shift_pair(f, n, v) and None, SHIFT_PAIR, bad=["many", True, -0.1, 5, (0.1, 2)]),
    shear=declared(Shear)["degrees"], zoom=declared(Zoom)["zoom"], zoom_per_axis=declared(Zoom)["per_axis"],
    crop=declared(Crop)["padding"], elastic=declared(Elastic)["alpha"], elastic_sigma=declared(Elastic)["sigma"],
    equalize=flag_or_prob("always"), clahe=Real(low=0), clahe_tiles=declared(CLAHE)["tiles"],
    brightness=declared(Brightness)["factor"], contrast=declared(Contrast)["factor"], noise=declared(Noise)["std"],
    erase=declared(Erase)["p"], mixup=declared(MixUp)["alpha"], cutmix=declared(CutMix)["alpha"],
    num_classes=declared(MixUp)["num_classes"], fill_mode=declared(Rotate)["fill_mode"],
    cval=declared(Rotate)["cval"], mean_std=declared(Rotate)["mean_std"], extra=STEPS,
)


@checked(**PIPELINE_ARGUMENTS)
def pipeline(*, hflip: bool | float = False, vflip: bool | float = False, rotate: float = 0.0,
             shift: float | tuple[float, float] = 0.0, shear: float = 0.0, zoom: float | tuple[float, float] = 0.0,
             zoom_per_axis: bool = False, crop: int = 0, elastic: float = 0.0, elastic_sigma: float = 4.0,
             equalize: bool | float = 0.0, clahe: float = 0.0, clahe_tiles: int | tuple[int, int] = 4,
             brightness: float | tuple[float, float] = 0.0, contrast: float | tuple[float, float] = 0.0,
             noise: float = 0.0, erase: float = 0.0, mixup: float = 0.0, cutmix: float = 0.0,
             num_classes: int | None = None, fill_mode: str = "constant", cval: float = 0.0,
             mean_std=FASHION_MEAN_STD, extra: Sequence[Callable] = (), **keras) -> Pipeline:
    """One `Pipeline` from keywords; every strength defaults to 0 (off).

    Geometric (fused into one resampling): ``rotate`` degrees (+-); ``shift`` fraction of
    the size (+-), or (width, height); ``shear`` degrees (+-); ``zoom`` r for factors in
    [1 - r, 1 + r] or (lo, hi), Keras' convention (< 1 zooms in), ``zoom_per_axis`` draws
    width and height factors apart; ``crop`` pixels (whole-pixel shifts, as a padded random
    crop); ``hflip`` / ``vflip`` True (probability 0.5) or a probability. Then ``elastic``
    alpha in pixels with ``elastic_sigma`` (Simard: 34 and 4). Empty space: ``fill_mode``
    'constant' (pixel value ``cval``, 0 = black), 'nearest', 'reflect' or 'wrap'.

    Pixel values (in [0, 1] via ``mean_std``, the normalization of x): ``equalize``
    probability of histogram equalization (True = 1); ``clahe`` clip limit of adaptive
    equalization on ``clahe_tiles`` tiles; ``brightness`` / ``contrast`` r for factors in
    [1 - r, 1 + r] or (lo, hi); ``noise`` Gaussian std; ``erase`` probability of random
    erasing. Then the callables of ``extra`` (torchvision transforms, your functions). Last,
    ``mixup`` / ``cutmix`` Beta alpha (both: one of the two per image); they need
    ``num_classes`` for integer labels and return soft labels.

    Keras' ``ImageDataGenerator`` names map onto the same steps: ``rotation_range``,
    ``width_shift_range``, ``height_shift_range``, ``shear_range`` (degrees), ``zoom_range``
    (per axis, as Keras), ``horizontal_flip``, ``vertical_flip``, ``brightness_range``,
    ``fill_mode``, ``cval``. Keras' default fill_mode is 'nearest'; here it is 'constant'.

    >>> pipeline(rotation_range=20, zoom_range=0.1, fill_mode="nearest")
    Pipeline([
        Rotate(degrees=20, fill_mode='nearest'),
        Zoom(zoom=0.1, per_axis=True, fill_mode='nearest'),
    ])
    """
    native = dict(hflip=hflip, vflip=vflip, rotate=rotate, shift=shift, shear=shear, zoom=zoom, brightness=brightness)
    mapped, used = _from_keras(keras, native)
    rotate, shift, shear = mapped.get("rotate", rotate), mapped.get("shift", shift), mapped.get("shear", shear)
    zoom, zoom_per_axis = mapped.get("zoom", zoom), mapped.get("zoom_per_axis", zoom_per_axis)
    brightness = mapped.get("brightness", brightness)
    # every value is checked by now (the table, `_from_keras`): below, only conversions
    p_h, p_v = as_prob(mapped.get("hflip", hflip), true_means=0.5), as_prob(mapped.get("vflip", vflip), true_means=0.5)
    shift = _shift_pair("pipeline", "shift", shift) if "shift" not in used else shift
    zoom_range = span(zoom, ZOOM_LIMITS["center"])
    p_eq = as_prob(equalize)
    b_range, c_range = span(brightness, FACTOR_LIMITS["center"]), span(contrast, FACTOR_LIMITS["center"])

    fill = dict(fill_mode=fill_mode, cval=cval, mean_std=mean_std)
    steps: list = []
    if rotate:
        steps.append(Rotate(rotate, **fill))
    if shift != (0.0, 0.0):
        steps.append(Shift(shift[0], None if shift[1] == shift[0] else shift[1], **fill))
    if shear:
        steps.append(Shear(shear, **fill))
    if zoom_range != (1.0, 1.0):
        steps.append(Zoom(zoom, per_axis=zoom_per_axis, **fill))
    if crop:
        steps.append(Crop(crop, **fill))
    if p_h:
        steps.append(Flip(True, False, p=p_h, **fill))
    if p_v:
        steps.append(Flip(False, True, p=p_v, **fill))
    if elastic:
        steps.append(Elastic(elastic, elastic_sigma, **fill))
    pixel = dict(mean_std=mean_std)
    if p_eq:
        steps.append(Equalize(p_eq, **pixel))
    if clahe:
        steps.append(CLAHE(clahe, clahe_tiles, **pixel))
    if b_range != (1.0, 1.0):
        steps.append(Brightness(brightness, **pixel))
    if c_range != (1.0, 1.0):
        steps.append(Contrast(contrast, **pixel))
    if noise:
        steps.append(Noise(noise, **pixel))
    if erase:
        steps.append(Erase(erase, **pixel))
    steps.extend(extra)
    mixing = [cls(alpha, num_classes) for cls, alpha in ((MixUp, mixup), (CutMix, cutmix)) if alpha]
    if mixing:
        steps.append(mixing[0] if len(mixing) == 1 else OneOf(mixing))
    return Pipeline(steps)


PIPELINE_DEFAULTS = {name: p.default for name, p in inspect.signature(pipeline).parameters.items()
                     if p.kind == p.KEYWORD_ONLY}  # fmt: skip
