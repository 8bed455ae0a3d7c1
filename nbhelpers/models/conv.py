"""Convolutional nets for images (``dim=2``) and sequences (``dim=1``): a plain CNN and a small ResNet.

>>> import torch
>>> from nbhelpers import CNN
>>> CNN(dim=1)(torch.randn(8, 1, 40)).shape
torch.Size([8, 10])
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .._checks import COUNT, FLAG, Satisfies, checked
from ._blocks import (_CONV, _MAX_POOL, ACTIVATION, DIM, DROPOUT, SIZES, _activation_config, _check_input, _conv_head,
                      _ConvBlock, _make_norm, _norm_config, make_activation, norm_choice)

# An even kernel cannot pad symmetrically, so the residual sum would not line up.
ODD_KERNEL = Satisfies(lambda v: COUNT.ok(v) and v % 2 == 1, "an odd integer >= 1", bad=[4, 0, 2.5, "3", True])


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

    @checked(in_channels=COUNT, num_classes=COUNT, channels=SIZES, dim=DIM, kernel_size=ODD_KERNEL,
             activation=ACTIVATION, norm=norm_choice("batch", "group"), dropout=DROPOUT, skip=FLAG)
    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, channels: Sequence[int] = (32, 64),
                 dim: int = 2, kernel_size: int = 3, activation: str | nn.Module = "relu",
                 norm: str | None = "batch", dropout: float = 0.0, skip: bool = False) -> None:
        c: dict[str, Any] = dict(in_channels=int(in_channels), num_classes=int(num_classes),
                                 channels=tuple(int(v) for v in channels), dim=int(dim), kernel_size=int(kernel_size),
                                 activation=_activation_config(activation), norm=_norm_config(norm),
                                 dropout=float(dropout), skip=skip)
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

    @checked(in_channels=COUNT, num_classes=COUNT, widths=SIZES, blocks_per_stage=COUNT, dim=DIM,
             activation=ACTIVATION, norm=norm_choice("batch", "group"), dropout=DROPOUT)
    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, widths: Sequence[int] = (32, 64, 128),
                 blocks_per_stage: int = 1, dim: int = 2, activation: str | nn.Module = "relu",
                 norm: str | None = "batch", dropout: float = 0.0) -> None:
        c: dict[str, Any] = dict(in_channels=int(in_channels), num_classes=int(num_classes),
                                 widths=tuple(int(v) for v in widths), blocks_per_stage=int(blocks_per_stage),
                                 dim=int(dim), activation=_activation_config(activation), norm=_norm_config(norm),
                                 dropout=float(dropout))
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


