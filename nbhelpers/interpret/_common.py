"""What the interpretation helpers share: the argument constraints, finding a layer by name or
kind, and `inspecting`, which leaves a model as it found it (modes, ``requires_grad``, ``.grad``)."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator

import torch
from torch import nn

from .._checks import COUNT, AnyOf, Instance, Optional, Satisfies, fail, shown
from ..training.inference import model_device, model_dtype

METHODS = ("saliency", "integrated_gradients", "grad_cam")

IMAGES = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 4 and len(v) > 0 and v.is_floating_point(),
                   "a float tensor of images, N x C x H x W", bad=["images", 3, torch.zeros(3)])
LAYER = Optional(AnyOf(Instance(nn.Module, "a module of the model"), Instance(str, "its name in model.named_modules()")))
TARGET = Optional(AnyOf(
    Satisfies(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a class number >= 0",
              bad=[-1, True, 1.5]),
    Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 1 and not v.is_floating_point()
              and v.dtype != torch.bool, "a tensor of N class numbers", bad=[torch.zeros(2)])))
STEPS = COUNT


def _split_ok(v) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(t, torch.Tensor) for t in v)
            and v[0].ndim >= 2 and v[1].ndim == 1 and len(v[0]) == len(v[1]) > 0 and not v[1].is_floating_point())


# The course's split: an (x, y) pair of tensors, e.g. data.test (as `per_class_accuracy` and `predict` take it).
SPLIT = Satisfies(_split_ok, "an (x, y) pair of tensors with integer labels, e.g. data.test", bad=["test", (1, 2)])


@contextlib.contextmanager
def inspecting(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode with its parameters frozen, for the time of a look inside; every
    module's mode, every parameter's ``requires_grad`` and ``.grad`` are put back afterwards
    (gradients flow to the inputs, never into the parameters)."""
    modes = [(m, m.training) for m in model.modules()]
    params = list(model.parameters())
    saved = [(p, p.requires_grad, p.grad) for p in params]
    model.eval()
    for p in params:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training
        for p, requires_grad, grad in saved:
            p.requires_grad_(requires_grad)
            p.grad = grad


def on_model(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``images`` on the model's device, in its dtype, detached from any graph of the reader's."""
    return images.detach().to(model_device(model), model_dtype(model))


def find_layer(func: str, model: nn.Module, layer, kind: type = nn.Conv2d, *, last: bool = True) -> tuple[str, nn.Module]:
    """``(name, module)``: ``layer`` given as a module of ``model`` or its name, else the last
    (``last``) module of ``kind``."""
    named = dict(model.named_modules())
    if layer is None:
        found = [(n, m) for n, m in named.items() if isinstance(m, kind)]
        if not found:
            raise fail(func, "layer", f"a layer of the model (it has no {kind.__name__} to use by default)", None,
                       "Pass the module, or its name in model.named_modules().")
        return found[-1] if last else found[0]
    if isinstance(layer, str):
        if layer not in named or layer == "":
            close = difflib.get_close_matches(layer, [n for n in named if n], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else " See model.named_modules() for the names."
            if layer in dict(model.named_parameters()):
                hint = f" {layer!r} is a parameter; its module is {layer.rpartition('.')[0]!r}."
            raise fail(func, "layer", "the name of a module of the model", layer, hint.strip())
        return layer, named[layer]
    for name, module in named.items():
        if module is layer:
            return name, module
    raise fail(func, "layer", "a module of the model", shown(layer), "It is not among model.modules().")


def resolve_target(func: str, model: nn.Module, x: torch.Tensor, target) -> torch.Tensor | int | None:
    """The class each map explains: ``target`` checked against the model's outputs, or the
    predicted class where it is None (0, the one logit, for a one-output model)."""
    with torch.no_grad():
        out = model(x)
    if out.ndim == 1:
        if target not in (None, 0):
            raise fail(func, "target", "None or 0 for a model with one output", shown(target))
        return None
    classes = out.shape[1]
    if target is None:
        return out.argmax(1) if classes > 1 else 0
    if isinstance(target, torch.Tensor):
        if len(target) != len(x):
            raise fail(func, "target", f"one class number per image ({len(x)})", f"a tensor of {len(target)}")
        bad = target[(target < 0) | (target >= classes)]
        if len(bad):
            raise fail(func, "target", f"class numbers in 0..{classes - 1}", int(bad[0]))
        return target.to(x.device).long()
    if target >= classes:
        raise fail(func, "target", f"a class number in 0..{classes - 1}", target)
    return target


def as_method_list(func: str, method) -> list[str]:
    """``method`` (one name or several) as a list of names."""
    return [method] if isinstance(method, str) else list(dict.fromkeys(m.lower() for m in method))
