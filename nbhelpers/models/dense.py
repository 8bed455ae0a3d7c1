"""A multilayer perceptron for images and tables, and parameter counting.

>>> import torch
>>> from nbhelpers import MLP, count_parameters
>>> MLP(784, 10)(torch.randn(8, 1, 28, 28)).shape
torch.Size([8, 10])
>>> count_parameters(MLP(784, 10, depth=0))
7850
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from .._checks import COUNT, FLAG, MODEL, Real, checked, fail
from ._blocks import (ACTIVATION, DROPOUT, _activation_config, _make_norm, _norm_config, _Residual, make_activation,
                      norm_choice)


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

    @checked(in_features=COUNT, num_classes=COUNT, width=COUNT, depth=Real(low=0, integer=True),
             activation=ACTIVATION, norm=norm_choice("batch", "layer"), dropout=DROPOUT, skip=FLAG)
    def __init__(self, in_features: int, num_classes: int, *, width: int = 256, depth: int = 2,
                 activation: str | nn.Module = "relu", norm: str | None = None, dropout: float = 0.0,
                 skip: bool = False) -> None:
        c: dict[str, Any] = dict(in_features=int(in_features), num_classes=int(num_classes), width=int(width),
                                 depth=int(depth), activation=_activation_config(activation), norm=_norm_config(norm),
                                 dropout=float(dropout), skip=skip)
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


@checked(model=MODEL, trainable_only=FLAG)
def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of parameters of ``model`` (only those with ``requires_grad`` by default).

    Examples
    --------
    >>> count_parameters(MLP(784, 10, depth=0))  # 784 * 10 weights + 10 biases
    7850
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@checked(in_features=COUNT, num_classes=COUNT, depth=COUNT, budget=COUNT)
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
    in_features, num_classes, depth, budget = int(in_features), int(num_classes), int(depth), int(budget)
    a, b, c = depth - 1, in_features + num_classes + depth, num_classes - budget
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(candidates, key=lambda w: (abs(a * w * w + b * w + c), w))
