"""Building blocks and argument checks shared by the course's models (MLP, CNN, ResNet, sequences).

Each model keeps its constructor arguments in ``model.config`` (plain, JSON-ready values)
so a training run can record them, and ``type(model)(**model.config)`` builds the same
architecture again (an activation given as a module is recorded as its ``repr``). Every
model names its last layer ``head``, so transfer learning can swap it. Wrong input shapes
fail in ``forward`` with a message that says what to do.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from .._checks import AnyOf, Choice, Instance, Optional, Real, Rule, checked, fail

# Read-only, so no notebook can change what a name means for every later call.
ACTIVATIONS: MappingProxyType[str, type[nn.Module]] = MappingProxyType({
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU, "swish": nn.SiLU,
    "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
})
_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_MAX_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_AVG_POOL = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}

# ---------------------------------------------------------------- what the models' arguments may be

# A name (case-insensitive, with a did-you-mean) or a module, copied for every layer.
ACTIVATION = AnyOf(Choice(*ACTIVATIONS), Instance(nn.Module, "an nn.Module instance"))
# p = 1 zeroes every activation, so the upper bound is open.
DROPOUT = Real(low=0, high=1, high_open=True)
DIM = Real(low=1, high=2, integer=True)  # 1: sequences N x C x L, 2: images N x C x H x W


def norm_choice(*allowed: str) -> AnyOf:
    """A norm's name or None; "none" is accepted as a string too, because widget drop-downs only hold strings."""
    return Optional(Choice(*allowed, "none"))


def _sizes(func: str, name: str, value: Any) -> tuple[int, ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
    if not ok or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in value):
        raise fail(func, name, "a non-empty sequence of integers >= 1", value)
    return tuple(int(v) for v in value)


SIZES = Rule(_sizes, "a non-empty sequence of integers >= 1", bad=[(), (32, 0), 64, "32", [16, 2.5]])


@checked(name=ACTIVATION)
def make_activation(name: str | nn.Module) -> nn.Module:
    """A fresh activation module from a name in ``ACTIVATIONS`` or a copy of a module.

    Modules are deep-copied, so a learnable activation such as ``nn.PReLU()`` gets its own
    parameters in every layer and the caller's instance is never trained by accident.

    Examples
    --------
    >>> from torch import nn
    >>> make_activation("swish")
    SiLU()
    >>> p = nn.PReLU(); make_activation(p) is p
    False
    """
    if isinstance(name, nn.Module):
        return copy.deepcopy(name)
    return ACTIVATIONS[name.lower()]()


def _activation_config(activation: str | nn.Module) -> str:
    """How ``config`` records a (checked) activation: its name, or a module's ``repr``."""
    return activation.lower() if isinstance(activation, str) else repr(activation)


def _norm_config(norm: str | None) -> str | None:
    """How ``config`` records a (checked) norm: its name, or None for none."""
    return None if norm is None or norm.lower() == "none" else norm.lower()


def _make_norm(norm: str | None, size: int, dim: int = 1) -> nn.Module:
    if norm == "batch":
        return _BATCH_NORM[dim](size)
    if norm == "layer":
        return nn.LayerNorm(size)
    if norm == "group":
        # Up to 8 groups: 32 (the paper's default) leaves one channel per group in our small nets.
        return nn.GroupNorm(math.gcd(size, 8), size)
    return nn.Identity()


def _check_input(func: str, x: torch.Tensor, dim: int, channels: int) -> None:
    """Fail early with a fix, not deep inside a convolution, when the input's layout is wrong."""
    if x.dim() == dim + 2 and x.shape[1] == channels:
        return
    shape = f"N x {channels} x " + ("L" if dim == 1 else "H x W")
    hint = "Add the channel axis with x.unsqueeze(1)." if x.dim() == dim + 1 and channels == 1 else ""
    raise fail(func, "x", f"a tensor of shape {shape}", x.shape, hint)


class _Residual(nn.Module):
    """``x + body(x)``: the body learns a correction to the identity."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _ConvBlock(nn.Module):
    """conv -> norm -> act -> conv -> norm (+ shortcut) -> act; the shortcut is optional."""

    def __init__(self, c_in: int, c_out: int, *, dim: int, kernel_size: int, stride: int,
                 activation: str | nn.Module, norm: str | None, residual: bool) -> None:
        super().__init__()
        conv, pad, bias = _CONV[dim], kernel_size // 2, norm is None  # a norm's shift replaces the bias
        self.conv1 = conv(c_in, c_out, kernel_size, stride=stride, padding=pad, bias=bias)
        self.norm1 = _make_norm(norm, c_out, dim)
        self.act1 = make_activation(activation)
        self.conv2 = conv(c_out, c_out, kernel_size, padding=pad, bias=bias)
        self.norm2 = _make_norm(norm, c_out, dim)
        self.act2 = make_activation(activation)
        self.shortcut: nn.Module | None = None
        if residual:
            same = stride == 1 and c_in == c_out
            self.shortcut = nn.Identity() if same else nn.Sequential(
                conv(c_in, c_out, 1, stride=stride, bias=bias), _make_norm(norm, c_out, dim)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm2(self.conv2(self.act1(self.norm1(self.conv1(x)))))
        if self.shortcut is not None:
            y = y + self.shortcut(x)
        return self.act2(y)


def _conv_head(width: int, num_classes: int, dim: int, dropout: float) -> list[tuple[str, nn.Module]]:
    layers = [("pool", _AVG_POOL[dim](1)), ("flatten", nn.Flatten())]
    if dropout > 0:
        layers.append(("dropout", nn.Dropout(dropout)))
    return layers + [("head", nn.Linear(width, num_classes))]


def weight_parameters(model: nn.Module, trainable_only: bool = False) -> list[tuple[str, nn.Parameter]]:
    """The weight matrices and convolution kernels of ``model`` (parameters with 2 or more
    dimensions; not biases, not norm scales), by name in forward order: what ``fit(l1=...)``
    penalizes and what the weight and gradient diagnostics look at.

    >>> [name for name, _ in weight_parameters(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2)))]
    ['0.weight', '2.weight']
    """
    return [(name, p) for name, p in model.named_parameters() if p.ndim >= 2 and (p.requires_grad or not trainable_only)]

