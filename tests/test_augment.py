"""Batched augmentations: properties of every step (shape, dtype, device, range, identity at
strength 0), label mixing, Keras names, fusion, torchvision steps, fit, preview panel, errors."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from torch import nn
from torchvision.transforms import v2

from nbhelpers import Pipeline, fashion_mnist, fit, pipeline, preview, preview_panel
from nbhelpers.augment import geometric as augment_geometric
from nbhelpers.augment.geometric import Crop, Elastic, Flip, Rotate, Shear, Shift, Zoom
from nbhelpers.augment.photometric import (CLAHE, Brightness, Contrast, CutMix, Equalize, Erase, MixUp, Noise, OneOf,
                                           beta)  # fmt: skip
from nbhelpers.data.datasets import FASHION_MEAN_STD

MEAN, STD = FASHION_MEAN_STD
LOW, HIGH = (0 - MEAN) / STD, (1 - MEAN) / STD  # the normalized value of a black and of a white pixel
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
FEW = settings(max_examples=6, deadline=None)

# name: (the augmentation at a real strength, the same at strength 0 or p=0)
AUGMENTATIONS = {
    "flip": (Flip(True, True), Flip(p=0)),
    "crop": (Crop(2, fill_mode="wrap"), Crop(0)),
    "shift": (Shift(0.2, fill_mode="nearest"), Shift(0.0)),
    "rotate": (Rotate(30), Rotate(0)),
    "shear": (Shear(20, fill_mode="reflect"), Shear(0)),
    "zoom": (Zoom((0.7, 1.4), per_axis=True), Zoom(0)),
    "elastic": (Elastic(8, 2), Elastic(0)),
    "brightness": (Brightness(0.5), Brightness(0)),
    "contrast": (Contrast((0.2, 1.8)), Contrast(0)),
    "equalize": (Equalize(0.7), Equalize(p=0)),
    "clahe": (CLAHE(3.0, tiles=(2, 3)), CLAHE(p=0)),
    "noise": (Noise(0.2), Noise(0)),
    "erase": (Erase(1.0, value=0.5), Erase(p=0)),
    "mixup": (MixUp(0.4, num_classes=5), MixUp(0, num_classes=5)),
    "cutmix": (CutMix(1.0, num_classes=5, p=0.8), CutMix(1.0, num_classes=5, p=0)),
    "oneof": (OneOf([MixUp(0.4, 5), CutMix(1.0, 5)]), Pipeline([])),
    "pipeline": (pipeline(rotate=10, shift=0.1, zoom=0.1, hflip=True, elastic=4, equalize=0.5, clahe=2, brightness=0.2,
                          contrast=0.2, noise=0.05, erase=0.5, mixup=0.2, cutmix=1.0, num_classes=5), pipeline()),
}

batches = st.fixed_dictionaries({
    "n": st.integers(1, 5), "c": st.integers(1, 3), "h": st.integers(3, 12), "w": st.integers(3, 12),
    "dtype": st.sampled_from([torch.float32, torch.float64, torch.bfloat16]), "seed": st.integers(0, 2**16),
})  # fmt: skip


def images(n, c, h, w, dtype=torch.float32, seed=0, device="cpu"):
    """A batch of valid normalized images (pixels uniform in [0, 1]) and labels in 0..4."""
    g = torch.Generator().manual_seed(seed)
    x = ((torch.rand(n, c, h, w, generator=g) - MEAN) / STD).to(dtype)
    return x.to(device), torch.randint(0, 5, (n,), generator=g).to(device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", AUGMENTATIONS)
@FEW
@given(batch=batches)
def test_every_augmentation_keeps_shape_dtype_device_and_range(name, device, batch):
    aug, off = AUGMENTATIONS[name]
    x, y = images(**batch, device=device)
    before = x.clone()
    generator = torch.Generator(device=device).manual_seed(batch["seed"])
    out = aug(x, generator=generator)
    x_out, y_out = aug(x, y, generator=generator)
    for o in (out, x_out):
        assert o.shape == x.shape and o.dtype == x.dtype and o.device == x.device
        tol = 0.02 if x.dtype == torch.bfloat16 else 1e-5
        assert o.float().min() >= LOW - tol and o.float().max() <= HIGH + tol  # pixels stay in [0, 1]
    assert y_out.device == x.device and len(y_out) == len(y)
    if y_out.ndim == 2:  # soft labels from mixing: probabilities
        assert torch.allclose(y_out.sum(1), torch.ones(len(y), device=device)) and y_out.min() >= 0
    assert torch.equal(x, before)  # the caller's batch is untouched
    assert off(x) is x and off(x, y)[0] is x and off(x, y)[1] is y  # strength 0: the very same tensors


def constant_images(n, h, w):
    """Image i is the constant i + 1 (so a mixed pixel tells which images contributed, and how much)."""
    values = torch.arange(1.0, n + 1)
    return values.view(n, 1, 1, 1).expand(n, 1, h, w).clone(), values


@FEW
@given(n=st.integers(2, 6), alpha=st.floats(0.1, 3.0), p=st.floats(0.2, 1.0), seed=st.integers(0, 1000))
def test_mixup_mixes_images_and_labels_with_the_same_weight(n, alpha, p, seed):
    x, values = constant_images(n, 5, 5)
    x_out, y_out = MixUp(alpha, num_classes=n, p=p)(x, torch.arange(n), generator=torch.Generator().manual_seed(seed))
    assert y_out.shape == (n, n) and torch.allclose(y_out.sum(1), torch.ones(n))
    assert ((y_out > 0).sum(1) <= 2).all()  # each image mixes with one partner at most
    expected = y_out @ values  # lam * v_i + (1 - lam) * v_partner
    assert torch.allclose(x_out, expected.view(n, 1, 1, 1).expand_as(x), atol=1e-5)


@FEW
@given(n=st.integers(2, 6), h=st.integers(2, 16), w=st.integers(2, 16), alpha=st.floats(0.1, 3.0),
       seed=st.integers(0, 1000))
def test_cutmix_label_weight_is_the_pasted_area(n, h, w, alpha, seed):
    x, values = constant_images(n, h, w)
    x_out, y_out = CutMix(alpha, num_classes=n)(x, torch.arange(n), generator=torch.Generator().manual_seed(seed))
    assert torch.allclose(y_out.sum(1), torch.ones(n))
    for i in range(n):
        fractions = torch.stack([(x_out[i] == v).float().mean() for v in values])
        assert torch.allclose(fractions, y_out[i], atol=1e-6)  # each pixel is its own or its partner's
        pasted = x_out[i, 0] != x[i, 0]
        if pasted.any():  # and the pasted pixels form one rectangle
            rows, cols = pasted.any(1), pasted.any(0)
            assert torch.equal(pasted, rows[:, None] & cols[None, :])


def test_mixing_soft_labels_and_the_beta_draws():
    x, values = constant_images(4, 3, 3)
    soft = torch.full((4, 3), 1 / 3)
    assert torch.allclose(MixUp(1.0)(x, soft)[1], soft)  # soft labels need no num_classes
    g = torch.Generator().manual_seed(0)
    for alpha in (0.2, 1.0, 3.0):
        draws = beta(alpha, 4000, x, g).double().numpy()
        assert scipy_stats.kstest(draws, scipy_stats.beta(alpha, alpha).cdf).pvalue > 0.001


def test_same_generator_same_draws_and_keras_names_equal_native_ones():
    x, y = images(6, 1, 12, 12)
    keras = pipeline(rotation_range=20, width_shift_range=0.2, height_shift_range=0.1, shear_range=5, zoom_range=0.2,
                     horizontal_flip=True, vertical_flip=True, fill_mode="nearest", brightness_range=(0.8, 1.2))
    native = pipeline(rotate=20, shift=(0.2, 0.1), shear=5, zoom=0.2, zoom_per_axis=True, hflip=True, vflip=True,
                      fill_mode="nearest", brightness=(0.8, 1.2))
    assert repr(keras) == repr(native)
    a = keras(x, generator=torch.Generator().manual_seed(3))
    b = native(x, generator=torch.Generator().manual_seed(3))
    c = native(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_affine_steps_are_fused_into_one_resampling(monkeypatch):
    calls = []
    original = F.grid_sample
    monkeypatch.setattr(F, "grid_sample", lambda *a, **k: calls.append(1) or original(*a, **k))
    x, _ = images(4, 1, 10, 10)
    pipeline(rotate=15, shift=0.1, shear=5, zoom=0.1, crop=1, hflip=True, vflip=0.3)(x)
    assert len(calls) == 1


def test_affine_grid_matches_torch():
    theta = torch.randn(4, 2, 3, dtype=torch.float64)
    ours = augment_geometric.affine_grid(theta, 7, 9)
    assert torch.allclose(ours, F.affine_grid(theta, [4, 1, 7, 9], align_corners=False), atol=1e-12)


def test_geometry_conventions(monkeypatch):
    x, _ = images(3, 2, 9, 7)
    assert torch.equal(Flip(p=1.0)(x), x.flip(-1))  # alone, a flip is exact
    fused = Pipeline([Flip(p=1.0), Flip(False, True, p=1.0)])(x)
    assert torch.allclose(fused, x.flip(-1).flip(-2), atol=1e-5)
    out = Crop(2, fill_mode="wrap")(x, generator=torch.Generator().manual_seed(1))
    for i in range(3):  # a whole-pixel shift: some roll of the input, no interpolation
        rolls = [x[i].roll((dy, dx), (1, 2)) for dy in range(-2, 3) for dx in range(-2, 3)]
        assert any(torch.allclose(out[i], r, atol=1e-5) for r in rolls)
    white = torch.full((1, 1, 16, 16), HIGH)
    # the corner leaves the image only for large angles: draw the extreme angle every time
    monkeypatch.setattr(augment_geometric, "uniform", lambda n, low, high, x, g: torch.full((n,), high, dtype=x.dtype))
    corner = lambda fill: Rotate(45, fill_mode=fill)(white)[0, 0, 0, 0].item()  # noqa: E731
    assert corner("constant") == pytest.approx(LOW, abs=1e-4)  # cval=0: a black pixel, not the normalized 0
    assert corner("nearest") == pytest.approx(HIGH, abs=1e-4)
    square = torch.full((1, 1, 20, 20), LOW)
    square[..., 8:12, 8:12] = HIGH
    area = lambda z: (Zoom(z)(square) > 0).sum().item()  # noqa: E731
    assert area((0.5, 0.5)) > 16 > area((2.0, 2.0))  # as in Keras: a factor < 1 zooms in, > 1 zooms out


def test_photometric_steps_act_on_pixel_values():
    x, _ = images(4, 1, 16, 16, seed=1)
    pixels = lambda t: t * STD + MEAN  # noqa: E731
    assert torch.allclose(pixels(Brightness((2.0, 2.0))(x)), (2 * pixels(x)).clamp(0, 1), atol=1e-5)
    flat = pixels(Contrast((0.0, 0.0))(x))
    assert torch.allclose(flat, pixels(x).mean((1, 2, 3), keepdim=True).expand_as(x), atol=1e-5)
    eq = pixels(Equalize()(x))
    assert torch.allclose(eq.amin((1, 2, 3)), torch.zeros(4)) and torch.allclose(eq.amax((1, 2, 3)), torch.ones(4))
    constant = torch.full((2, 1, 8, 8), 0.5)
    assert torch.allclose(Equalize()(constant), constant)  # nothing to spread
    near_identity = pixels(CLAHE(clip_limit=1e-6, tiles=4)(x))  # clipped flat: the mapping is ~ the identity
    assert (near_identity - pixels(x)).abs().max() < 2 / 255
    q = (pixels(x) * 255).round().flatten(1)  # one tile, no clipping: each level maps to its cumulative share
    expected = (q[:, None, :] <= q[:, :, None]).float().mean(-1)
    assert torch.allclose(pixels(CLAHE(1e9, tiles=1)(x)).flatten(1), expected, atol=1e-5)
    dull = (0.4 + 0.2 * torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(0)) - MEAN) / STD
    assert pixels(CLAHE(40.0, tiles=2)(dull)).std() > 2 * pixels(dull).std()  # a low-contrast image spreads out
    grey = torch.full((8, 1, 32, 32), (0.5 - MEAN) / STD)
    noisy = pixels(Noise(0.05)(grey, generator=torch.Generator().manual_seed(0)))
    assert noisy.std().item() == pytest.approx(0.05, rel=0.1)
    erased = Erase(1.0, value=0.0)(x, generator=torch.Generator().manual_seed(2))
    for i in range(4):  # one rectangle of black pixels, at most a third of the image
        mask = erased[i, 0] != x[i, 0]
        assert torch.equal(mask, mask.any(1)[:, None] & mask.any(0)[None, :]) and mask.float().mean() <= 0.34
        assert torch.allclose(erased[i, 0][mask], torch.tensor(LOW))


def test_torchvision_transforms_and_callables_inside_a_pipeline():
    x, y = images(5, 1, 12, 12)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    out = Pipeline([Rotate(10), v2.RandomHorizontalFlip(p=1.0)])(x, generator=g1)
    assert torch.allclose(out, Rotate(10)(x, generator=g2).flip(-1))
    x_out, y_out = Pipeline([v2.RandomHorizontalFlip(p=1.0), lambda t: t * 1.0])(x, y)  # labels pass through
    assert torch.equal(x_out, x.flip(-1)) and torch.equal(y_out, y)
    x_out, y_out = pipeline(rotate=5, extra=[v2.MixUp(num_classes=5)])(x, y)  # v2's own batch MixUp
    assert y_out.shape == (5, 5)
    both = pipeline(extra=[lambda xb, yb: (xb + 0, yb + 1)])(x, y)  # a callable taking (x, y) receives the labels
    assert torch.equal(both[1], y + 1)


def test_fit_runs_the_pipeline_on_every_training_batch():
    data = fashion_mnist(quick=True).subset(256)
    data = replace(data, valid=(data.valid[0][:128], data.valid[1][:128]), test=None)
    calls = []
    counter = lambda xb: calls.append(len(xb)) or xb  # noqa: E731
    aug = pipeline(rotate=10, shift=0.1, erase=0.5, mixup=0.2, cutmix=1.0, num_classes=10, extra=[counter])
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    result = fit(model, data, epochs=1, lr=1e-3, batch_size=64, augment=aug, progress=False, seed=0, device="cpu")
    assert calls == [64, 64, 64, 64]
    assert result.history["loss"].notna().all() and "Pipeline" in result.config["augment"]


def test_preview_grid_and_panel_redraws_when_a_control_changes():
    x, _ = images(6, 1, 28, 28)
    fig = preview(x, pipeline(rotate=30), n=4, versions=2)
    assert len(fig.axes) == 12
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == ["original", "augmented 1", "augmented 2"]
    assert fig.get_figwidth() < 6  # without pyplot: nothing registered globally
    assert fig._repr_png_().startswith(b"\x89PNG")  # Jupyter shows it even where pyplot was never imported
    panel = preview_panel(x, n=4, versions=1, debounce=0.1)
    first, draws = bytes(panel.image.value), panel.draws
    assert first.startswith(b"\x89PNG") and panel.code.value == "<code>pipeline()</code>"
    panel.controls["rotate"][0].value = True  # three quick changes ...
    panel.controls["rotate"][1].value = 40
    panel.fill_mode.value = "reflect"
    deadline = time.monotonic() + 10
    while panel.draws == draws and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert panel.draws == draws + 1  # ... one redraw (debounced)
    assert bytes(panel.image.value) != first
    assert panel.code.value == "<code>pipeline(rotate=40, fill_mode='reflect')</code>"
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()


@pytest.mark.parametrize("call, message", [
    (lambda: pipeline(rotaton=10), r"pipeline\(\): `keyword` must be one of .*; got 'rotaton'. Did you mean 'rotate"),
    (lambda: pipeline(rotation_rang=10), r"Did you mean 'rotation_range'\?"),
    (lambda: pipeline(rescale=1 / 255), r"`rescale` must be left out: .*fashion_mnist\(\) returns normalized tensors"),
    (lambda: pipeline(rotate=10, rotation_range=20), r"`rotation_range` must be left out when `rotate` is given"),
    (lambda: pipeline(width_shift_range=5), r"`width_shift_range` must be .*; got 5. Keras' pixel counts"),
    (lambda: pipeline(fill_mode="wrapp"), r"`fill_mode` must be one of 'constant', .*Did you mean 'wrap'\?"),
    (lambda: pipeline(zoom_range=(1.2, 0.8)), r"`zoom_range` must be a number r in \[0, 0.99\]"),
    (lambda: pipeline(extra=[3]), r"pipeline\(\): `extra` must be a list of .*; got \[3\]. `extra\[0\]` is 3"),
    (lambda: pipeline(mean_std=(0.5, 0)), r"`mean_std` must be None .* std > 0"),
    (lambda: Rotate(-1), r"Rotate\(\): `degrees` must be a real number >= 0 and <= 180; got -1"),
    (lambda: CLAHE(tiles=0), r"CLAHE\(\): `tiles` must be an integer >= 1"),
    (lambda: Erase(scale=(0.5, 0.1)), r"Erase\(\): `scale` must be a pair \(lo, hi\)"),
    (lambda: Erase(value="black"), r"Erase\(\): `value` must be 'random' or a pixel value in \[0, 1\]; got 'black'"),
    (lambda: Flip(p=2), r"Flip\(\): `p` must be a real number >= 0 and <= 1; got 2"),
    (lambda: Rotate(10)(torch.rand(28, 28)), r"Rotate\(\): `x` must be a float tensor N x C x H x W .*unsqueeze"),
    (lambda: Rotate(10)(torch.rand(2, 1, 4, 4), torch.arange(3)), r"`y` must be None or a tensor of 2 labels"),
    (lambda: Rotate(10)(torch.rand(2, 1, 4, 4), generator=0), r"`generator` must be None or a torch.Generator"),
    (lambda: MixUp(0.2)(torch.rand(2, 1, 4, 4), torch.arange(2)), r"MixUp\(\): `num_classes` must be an integer >= 2"),
    (lambda: preview(torch.rand(2, 1, 4, 4), 3), r"preview\(\): `augment` must be one of"),
])  # fmt: skip
def test_errors_name_the_argument_and_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()
