"""`FastNet`: the narrow conv-pool-BN net of the course's fastest recipe (after Keller Jordan's
airbench for CIFAR-10, and David Page's account of training a ResNet fast).

A frozen 2 x 2 *whitening* convolution first (`FastNet.whiten` sets it from the data: the
eigenvectors of the 2 x 2 patches' covariance, each scaled to unit variance, and their
negatives), so the first trained layer sees decorrelated inputs; then one block per entry of
``widths``: conv 3x3 -> max-pool 2 -> batch norm -> GELU -> conv 3x3 -> batch norm -> GELU
(pooling before the norm, so the block's second convolution runs at a quarter of the
pixels); then a global max pool and a linear head.

>>> import torch
>>> net = FastNet(widths=(8, 16))
>>> net.whiten(torch.randn(64, 1, 28, 28)).config["whitened"]
True
>>> net(torch.randn(4, 1, 28, 28)).shape
torch.Size([4, 10])
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .._checks import COUNT, FLAG, checked, fail
from ._blocks import SIZES


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), pool=nn.MaxPool2d(2, ceil_mode=True),
        norm1=nn.BatchNorm2d(c_out), act1=nn.GELU(),
        conv2=nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), norm2=nn.BatchNorm2d(c_out), act2=nn.GELU()))


class FastNet(nn.Sequential):
    """The fastest recipe's net: a whitening layer, conv-pool-BN blocks of ``widths``, max pool, linear.

    ``whitening=True``: the first layer is a 2 x 2 convolution with ``8 * in_channels`` outputs
    whose weights are not trained; call `whiten` with training images to set them (until then
    they are random). ``whitening=False``: a trained 3 x 3 convolution of ``widths[0]`` outputs
    with batch norm, the plain stem the ablation compares with.

    >>> FastNet(widths=(16, 32, 64)).config["widths"]
    (16, 32, 64)
    """

    @checked(in_channels=COUNT, num_classes=COUNT, widths=SIZES, whitening=FLAG)
    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, widths: Sequence[int] = (64, 128, 128),
                 whitening: bool = True) -> None:
        c: dict[str, Any] = dict(in_channels=int(in_channels), num_classes=int(num_classes),
                                 widths=tuple(int(w) for w in widths), whitening=whitening, whitened=False)
        if whitening:
            first = nn.Conv2d(c["in_channels"], 8 * c["in_channels"], 2, bias=True)
            first.weight.requires_grad_(False)
            stem = nn.Sequential(OrderedDict(whiten=first, act=nn.GELU()))
            width = 8 * c["in_channels"]
        else:
            width = c["widths"][0]
            stem = nn.Sequential(OrderedDict(conv=nn.Conv2d(c["in_channels"], width, 3, padding=1, bias=False),
                                             norm=nn.BatchNorm2d(width), act=nn.GELU()))
        layers: list[tuple[str, nn.Module]] = [("stem", stem)]
        for i, c_out in enumerate(c["widths"], start=1):
            layers.append((f"block{i}", _block(width, c_out)))
            width = c_out
        layers += [("pool", nn.AdaptiveMaxPool2d(1)), ("flatten", nn.Flatten()),
                   ("head", nn.Linear(width, c["num_classes"], bias=False))]
        super().__init__(OrderedDict(layers))
        self.config = c

    @torch.no_grad()
    def whiten(self, x: torch.Tensor, eps: float = 5e-4) -> FastNet:
        """Set the whitening layer from images ``x`` (``N x C x H x W``; a few thousand are
        plenty) and return the net. Its bias stays trainable."""
        if not self.config["whitening"]:
            raise fail("FastNet.whiten", "self", "a FastNet built with whitening=True", "whitening=False")
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != self.config["in_channels"]:
            raise fail("FastNet.whiten", "x", f"images N x {self.config['in_channels']} x H x W",
                       tuple(x.shape) if isinstance(x, torch.Tensor) else x)
        conv = self.stem.whiten
        patches = x.float().unfold(2, 2, 1).unfold(3, 2, 1)            # N, C, H-1, W-1, 2, 2
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, conv.weight[0].numel())
        patches = patches - patches.mean(0)
        values, vectors = torch.linalg.eigh(patches.T @ patches / len(patches))
        filters = (vectors.T / (values + eps).sqrt()[:, None]).reshape(-1, *conv.weight.shape[1:])
        conv.weight.copy_(torch.cat([filters, -filters]).to(conv.weight))
        conv.bias.zero_()
        self.config["whitened"] = True
        return self
