"""The course's models for images and tables: MLP, CNN, a small ResNet, every knob a keyword.

Sequence models (GRU, RNN, AttentionPooling) are in `nbhelpers.sequence`.

Each model keeps its constructor arguments in ``model.config`` (plain, JSON-ready values)
so a training run can record them, and ``type(model)(**model.config)`` builds the same
architecture again (an activation given as a module is recorded as its ``repr``). Every
model names its last layer ``head``, so transfer learning can swap it. Wrong input shapes
fail in ``forward`` with a message that says what to do.

Examples
--------
>>> import torch
>>> from nbhelpers.models import CNN, MLP, count_parameters
>>> MLP(784, 10)(torch.randn(8, 1, 28, 28)).shape
torch.Size([8, 10])
>>> CNN(dim=1)(torch.randn(8, 1, 40)).shape
torch.Size([8, 10])
>>> count_parameters(MLP(784, 10, depth=0))
7850
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import OrderedDict
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from ._checks import check_choice, check_number, check_type, fail

# Read-only, so no notebook can change what a name means for every later call.
ACTIVATIONS: MappingProxyType[str, type[nn.Module]] = MappingProxyType({
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU, "swish": nn.SiLU,
    "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
})
_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_MAX_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_AVG_POOL = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}


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
    return _activation("make_activation", name)


def _activation(func: str, name: str | nn.Module) -> nn.Module:
    if isinstance(name, nn.Module):
        return copy.deepcopy(name)
    if not isinstance(name, str):
        names = ", ".join(repr(n) for n in ACTIVATIONS)
        raise fail(func, "activation", f"one of {names} or an nn.Module instance", name)
    return ACTIVATIONS[check_choice(func, "activation", name, ACTIVATIONS)]()


def _activation_config(func: str, activation: str | nn.Module) -> str:
    """Validate ``activation`` now (before any layer is built) and return how config records it."""
    module = _activation(func, activation)
    return activation.lower() if isinstance(activation, str) else repr(module)


def _norm(func: str, norm: str | None, allowed: tuple[str, ...]) -> str | None:
    # "none" is accepted as a string too, because widget drop-downs only hold strings.
    if norm is None:
        return None
    name = check_choice(func, "norm", norm, (*allowed, "none"))
    return None if name == "none" else name


def _make_norm(norm: str | None, size: int, dim: int = 1) -> nn.Module:
    if norm == "batch":
        return _BATCH_NORM[dim](size)
    if norm == "layer":
        return nn.LayerNorm(size)
    if norm == "group":
        # Up to 8 groups: 32 (the paper's default) leaves one channel per group in our small nets.
        return nn.GroupNorm(math.gcd(size, 8), size)
    return nn.Identity()


def _positive(func: str, name: str, value: Any) -> int:
    return int(check_number(func, name, value, integer=True, low=1))


def _dropout(func: str, p: Any) -> float:
    # p = 1 zeroes every activation, so the open upper bound is not covered by check_number.
    ok = isinstance(p, numbers.Real) and not isinstance(p, bool) and 0 <= p < 1
    if not ok:
        raise fail(func, "dropout", "a real number >= 0 and < 1", p)
    return float(p)


def _sizes(func: str, name: str, value: Any) -> tuple[int, ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
    if not ok or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in value):
        raise fail(func, name, "a non-empty sequence of integers >= 1", value)
    return tuple(int(v) for v in value)


def _flag(func: str, name: str, value: Any) -> bool:
    return check_type(func, name, value, bool, "True or False")


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


class MLP(nn.Sequential):
    """A multilayer perceptron: ``depth`` hidden layers of ``width``, then a linear head.

    Any input shape is flattened (``N x 1 x 28 x 28`` works). A hidden layer is Linear ->
    norm (``"batch"``, ``"layer"`` or None) -> activation -> Dropout (if ``dropout > 0``).
    ``depth=0`` is a linear model. ``skip=True`` wraps every hidden layer after the first
    in a residual connection (they all have ``width`` units). ``num_classes=1`` gives an
    ``N x 1`` output for regression.

    Examples
    --------
    >>> import torch
    >>> model = MLP(784, 10, depth=3, activation="gelu", norm="layer", skip=True)
    >>> model(torch.randn(4, 1, 28, 28)).shape
    torch.Size([4, 10])
    >>> model.config["depth"], model.config["norm"]
    (3, 'layer')
    """

    def __init__(self, in_features: int, num_classes: int, *, width: int = 256, depth: int = 2,
                 activation: str | nn.Module = "relu", norm: str | None = None, dropout: float = 0.0,
                 skip: bool = False) -> None:
        f = "MLP"
        c: dict[str, Any] = dict(
            in_features=_positive(f, "in_features", in_features),
            num_classes=_positive(f, "num_classes", num_classes),
            width=_positive(f, "width", width),
            depth=int(check_number(f, "depth", depth, integer=True, low=0)),
            activation=_activation_config(f, activation),
            norm=_norm(f, norm, ("batch", "layer")),
            dropout=_dropout(f, dropout),
            skip=_flag(f, "skip", skip),
        )
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        size = c["in_features"]
        for i in range(1, c["depth"] + 1):
            block = [nn.Linear(size, c["width"], bias=c["norm"] is None)]
            if c["norm"] is not None:
                block.append(_make_norm(c["norm"], c["width"]))
            block.append(make_activation(activation))
            if c["dropout"] > 0:
                block.append(nn.Dropout(c["dropout"]))
            body = nn.Sequential(*block)
            layers.append((f"layer{i}", _Residual(body) if c["skip"] and i > 1 else body))
            size = c["width"]
        layers.append(("head", nn.Linear(size, c["num_classes"])))
        super().__init__(OrderedDict(layers))
        self.config = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.config["in_features"]
        if x.dim() < 2 or x.shape[1:].numel() != n:
            raise fail("MLP.forward", "x", f"a batch N x ... with {n} features per sample", x.shape)
        return super().forward(x)


class _ConvNet(nn.Sequential):
    """CNN and ResNet: a stack of layers whose input layout is checked first."""

    config: dict[str, Any]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(f"{type(self).__name__}.forward", x, self.config["dim"], self.config["in_channels"])
        return super().forward(x)


class CNN(_ConvNet):
    """A plain convolutional net: one stage per entry of ``channels``, then a linear head.

    A stage is conv (``kernel_size``, same padding) -> norm -> act -> conv -> norm -> act,
    then max-pool 2; ``skip=True`` adds the stage input back before the last activation
    (through a 1x1 convolution where the channel count changes). After the stages: global
    average pool, Dropout (if ``dropout > 0``), Linear. ``dim=2`` takes images
    ``N x C x H x W``, ``dim=1`` sequences ``N x C x L``. ``norm`` is ``"batch"``,
    ``"group"`` or None.

    Examples
    --------
    >>> import torch
    >>> CNN(channels=(16, 32, 64))(torch.randn(4, 1, 28, 28)).shape
    torch.Size([4, 10])
    >>> CNN(dim=1, skip=True, norm="group")(torch.randn(4, 1, 40)).shape
    torch.Size([4, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, channels: Sequence[int] = (32, 64),
                 dim: int = 2, kernel_size: int = 3, activation: str | nn.Module = "relu",
                 norm: str | None = "batch", dropout: float = 0.0, skip: bool = False) -> None:
        f = "CNN"
        c: dict[str, Any] = dict(
            in_channels=_positive(f, "in_channels", in_channels),
            num_classes=_positive(f, "num_classes", num_classes),
            channels=_sizes(f, "channels", channels),
            dim=int(check_number(f, "dim", dim, integer=True, low=1, high=2)),
            kernel_size=_positive(f, "kernel_size", kernel_size),
            activation=_activation_config(f, activation),
            norm=_norm(f, norm, ("batch", "group")),
            dropout=_dropout(f, dropout),
            skip=_flag(f, "skip", skip),
        )
        if c["kernel_size"] % 2 == 0:
            # An even kernel cannot pad symmetrically, so the residual sum would not line up.
            raise fail(f, "kernel_size", "an odd integer >= 1", kernel_size)
        layers, c_in = [], c["in_channels"]
        for i, c_out in enumerate(c["channels"], start=1):
            block = _ConvBlock(c_in, c_out, dim=c["dim"], kernel_size=c["kernel_size"], stride=1,
                               activation=activation, norm=c["norm"], residual=c["skip"])
            # ceil_mode: a size-1 map stays size 1, so extra stages never shrink it to nothing.
            pool = _MAX_POOL[c["dim"]](2, ceil_mode=True)
            layers.append((f"stage{i}", nn.Sequential(OrderedDict(block=block, pool=pool))))
            c_in = c_out
        super().__init__(OrderedDict(layers + _conv_head(c_in, c["num_classes"], c["dim"], c["dropout"])))
        self.config = c


class ResNet(_ConvNet):
    """A small ResNet: stem conv, stages of BasicBlocks, global average pool, head.

    A BasicBlock is two 3x3 convolutions with a shortcut: the identity, or a strided 1x1
    convolution and norm where the size changes. Each stage after the first halves the
    resolution (stride 2). ``dim=1`` gives the same net for sequences ``N x C x L``.

    Examples
    --------
    >>> import torch
    >>> ResNet(widths=(16, 32), blocks_per_stage=2)(torch.randn(4, 1, 28, 28)).shape
    torch.Size([4, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, widths: Sequence[int] = (32, 64, 128),
                 blocks_per_stage: int = 1, dim: int = 2, activation: str | nn.Module = "relu",
                 norm: str | None = "batch", dropout: float = 0.0) -> None:
        f = "ResNet"
        c: dict[str, Any] = dict(
            in_channels=_positive(f, "in_channels", in_channels),
            num_classes=_positive(f, "num_classes", num_classes),
            widths=_sizes(f, "widths", widths),
            blocks_per_stage=_positive(f, "blocks_per_stage", blocks_per_stage),
            dim=int(check_number(f, "dim", dim, integer=True, low=1, high=2)),
            activation=_activation_config(f, activation),
            norm=_norm(f, norm, ("batch", "group")),
            dropout=_dropout(f, dropout),
        )
        dim, width = c["dim"], c["widths"][0]
        stem_conv = _CONV[dim](c["in_channels"], width, 3, padding=1, bias=c["norm"] is None)
        stem = nn.Sequential(stem_conv, _make_norm(c["norm"], width, dim), make_activation(activation))
        layers: list[tuple[str, nn.Module]] = [("stem", stem)]
        for i, c_out in enumerate(c["widths"], start=1):
            blocks = []
            for b in range(c["blocks_per_stage"]):
                stride = 2 if i > 1 and b == 0 else 1
                blocks.append(_ConvBlock(width, c_out, dim=dim, kernel_size=3, stride=stride,
                                         activation=activation, norm=c["norm"], residual=True))
                width = c_out
            layers.append((f"stage{i}", nn.Sequential(*blocks)))
        super().__init__(OrderedDict(layers + _conv_head(width, c["num_classes"], dim, c["dropout"])))
        self.config = c


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of parameters of ``model`` (only those with ``requires_grad`` by default).

    Examples
    --------
    >>> count_parameters(MLP(784, 10, depth=0))  # 784 * 10 weights + 10 biases
    7850
    """
    check_type("count_parameters", "model", model, nn.Module, "a torch.nn.Module")
    _flag("count_parameters", "trainable_only", trainable_only)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def width_for_budget(in_features: int, num_classes: int, depth: int, budget: int) -> int:
    """The width whose ``MLP(in_features, num_classes, depth=depth, width=w)`` (``norm=None``)
    has the parameter count closest to ``budget``: for comparing deep-narrow with
    shallow-wide nets of the same size.

    The count is ``(depth-1) w^2 + (in + classes + depth) w + classes`` (first layer,
    ``depth-1`` square layers, head, all with biases); the positive root of
    ``count = budget`` is rounded to whichever neighbour lands closer, and is at least 1.

    Examples
    --------
    >>> w = width_for_budget(784, 10, depth=4, budget=100_000)
    >>> w, count_parameters(MLP(784, 10, width=w, depth=4))
    (93, 100171)
    """
    f = "width_for_budget"
    in_features = _positive(f, "in_features", in_features)
    num_classes = _positive(f, "num_classes", num_classes)
    depth = _positive(f, "depth", depth)
    budget = _positive(f, "budget", budget)
    a, b, c = depth - 1, in_features + num_classes + depth, num_classes - budget
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(candidates, key=lambda w: (abs(a * w * w + b * w + c), w))
