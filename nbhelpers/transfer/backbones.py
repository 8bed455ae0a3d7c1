"""Pretrained backbones: the course's own, shipped with the package, and ImageNet's, for readers who are online.

`pretrained_resnet` loads the small `ResNet` that ``datasets/pretrain_backbone.py`` trained on
five Fashion-MNIST classes: a file of package data, checked against its SHA-256 in the shipped
``MANIFEST`` and read with ``torch.load(..., weights_only=True)`` (tensors and plain values
only: a checkpoint cannot run code when it is loaded). `imagenet_model` builds torchvision's
``resnet18``, ``resnet34``, ``resnet50`` or ``vgg16`` by name with ImageNet weights from a
local file or torchvision's cache, behind an `InputAdapter` that turns the course's 1-channel
28 x 28 images into what the net was trained on, with a new head. It downloads only when
asked (``download=True``); without the file it says where to get it and where to put it.

>>> model = pretrained_resnet(num_classes=5)
>>> model.pretraining["classes"], model.config["num_classes"]
(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat'], 5)
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import COUNT, FLAG, Choice, Optional, Real, Satisfies, checked, fail
from ..data import DataIntegrityError, DataNotFoundError
from ..data.datasets import FASHION_MEAN_STD, _sha256, shipped_file
from ..models import ResNet
from .layers import replace_head

BACKBONE = "backbones/resnet-fashion-mnist-5.pt"  # under nbhelpers/data/shipped/, as MANIFEST names it
FORMAT = "nbhelpers.backbone/1"
SCRIPT = "python datasets/pretrain_backbone.py"
IMAGENET_MEAN_STD = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # every torchvision ImageNet classifier's
# name -> (torchvision's weights enum, its head's child): the nets the *Myths* guide names, and two more ResNets
IMAGENET = {"resnet18": ("ResNet18_Weights", "fc"), "resnet34": ("ResNet34_Weights", "fc"),
            "resnet50": ("ResNet50_Weights", "fc"), "vgg16": ("VGG16_Weights", "classifier")}
MEAN_STD = Optional(Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2 and all(
    isinstance(u, (int, float)) and not isinstance(u, bool) for u in v) and v[1] > 0,
    "a pair (mean, std) with std > 0: the normalization of the inputs", bad=[0.5, (0.5, 0)]))
WEIGHTS = Optional(Satisfies(lambda v: isinstance(v, (str, os.PathLike)), "a path to a .pth file", bad=[3]))


@checked(num_classes=Optional(COUNT))
def pretrained_resnet(num_classes: int | None = None) -> ResNet:
    """The course's pretrained backbone: a `ResNet` trained on five Fashion-MNIST classes.

    The checkpoint ships inside the package (``nbhelpers/data/shipped/backbones/``); it is
    checked against its SHA-256 in the shipped ``MANIFEST`` and loaded with
    ``torch.load(..., weights_only=True)``. A missing file is a `DataNotFoundError`, one
    with another SHA-256 a `DataIntegrityError`; both say how to restore it or to make it
    again (``python datasets/pretrain_backbone.py`` in a clone of the course). The model keeps
    the source task's head (five classes) unless ``num_classes`` asks for a new one
    (`replace_head`); ``model.pretraining`` records the source classes, the seed, the
    epochs and the source test accuracy the script measured, the file and its SHA-256.

    >>> model = pretrained_resnet()
    >>> model.config["widths"], model.pretraining["seed"]
    ((16, 32, 64), 0)
    """
    path = shipped_file(BACKBONE, "pretrained backbone", SCRIPT)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise DataIntegrityError(f"{path} is not a checkpoint of the format {FORMAT}. Make it again with `{SCRIPT}`.")
    model = ResNet(**checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    model.pretraining = {**checkpoint["record"], "file": str(path), "sha256": _sha256(path)}
    return model if num_classes is None else replace_head(model, num_classes)


class InputAdapter(nn.Module):
    """Turn the course's images into an ImageNet net's input: ``N x 1 x H x W`` -> ``N x 3 x size x size``.

    Undo the data's normalization (``mean_std``; None for pixels already in [0, 1]), repeat
    the one channel three times, resize (bilinear) to ``size`` (ImageNet nets were trained
    at 224; 64 is 12 times cheaper and often enough for 28 x 28 images), and normalize with
    ImageNet's mean and std. It has no parameters, so it adds nothing to a state dict.

    >>> import torch
    >>> InputAdapter(size=32)(torch.randn(2, 1, 28, 28)).shape
    torch.Size([2, 3, 32, 32])
    """

    @checked(size=Real(low=8, integer=True), mean_std=MEAN_STD)
    def __init__(self, size: int = 224, mean_std: Sequence[float] | None = FASHION_MEAN_STD) -> None:
        super().__init__()
        self.size = int(size)
        self.data_mean, self.data_std = (0.0, 1.0) if mean_std is None else (float(mean_std[0]), float(mean_std[1]))
        mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in IMAGENET_MEAN_STD)
        self.register_buffer("mean", mean, persistent=False)  # not in the state dict: torchvision's keys stay as they are
        self.register_buffer("std", std, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise fail("InputAdapter.forward", "x", "images N x 1 x H x W (or N x 3 x H x W)", tuple(x.shape))
        x = x * self.data_std + self.data_mean
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"size={self.size}, data mean/std=({self.data_mean:g}, {self.data_std:g}) -> ImageNet's"


@checked(name=Choice(*IMAGENET))
def imagenet_weights(name: str) -> tuple[str, Path]:
    """``(url, path)``: where torchvision publishes the ImageNet weights of ``name`` and where its
    cache keeps them (``$TORCH_HOME/hub/checkpoints/``), which `imagenet_model` reads. Nothing is
    downloaded; ``path.is_file()`` says whether they are on this machine.

    >>> url, path = imagenet_weights("vgg16")
    >>> url, path.name
    ('https://download.pytorch.org/models/vgg16-397923af.pth', 'vgg16-397923af.pth')
    """
    import torchvision

    url = getattr(torchvision.models, IMAGENET[name][0]).DEFAULT.url
    return url, Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[1]


def _weights_file(name: str, weights, download: bool) -> Path:
    """The weights file to load: the one given, torchvision's cached copy, or a download asked for."""
    url, cached = imagenet_weights(name)
    if weights is not None:
        path = Path(weights).expanduser()
        if path.is_file():
            return path
        where = f"{path} does not exist"
    elif cached.is_file():
        return cached
    else:
        where = f"no {cached.name} in torchvision's cache, {cached.parent}"
    todo = (f"Nothing is downloaded unless you ask. Online: pass download=True (it fetches {url} into "
            f"{cached.parent}). Offline: download {url} elsewhere, then put {cached.name} in {cached.parent} "
            f"(or set TORCH_HOME), or pass weights='path/to/{cached.name}'.")
    if not download or weights is not None:
        raise DataNotFoundError(f"imagenet_model(): ImageNet weights for {name!r} not found: {where}. {todo}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    prefix = re.search(r"-([a-f0-9]+)\.", cached.name)  # torchvision names a file by its SHA-256's first digits
    try:
        torch.hub.download_url_to_file(url, str(cached), hash_prefix=prefix.group(1) if prefix else None)
    except (OSError, RuntimeError) as error:  # offline, refused, or a copy whose SHA-256 does not match
        raise DataNotFoundError(f"imagenet_model(): downloading {url} failed ({type(error).__name__}: {error}). "
                                f"{todo}") from None
    return cached


@checked(name=Choice(*IMAGENET), num_classes=COUNT, weights=WEIGHTS, download=FLAG, size=Real(low=8, integer=True),
         mean_std=MEAN_STD)
def imagenet_model(name: str, num_classes: int, *, weights: str | os.PathLike | None = None, download: bool = False,
                   size: int = 224, mean_std: Sequence[float] | None = FASHION_MEAN_STD) -> nn.Sequential:
    """torchvision's ``name`` (``resnet18``, ``resnet34``, ``resnet50``, ``vgg16``) with ImageNet weights,
    adapted to 1-channel images and given a new head of ``num_classes``.

    The weights come from ``weights`` (a ``.pth`` state dict), else torchvision's cache
    (``$TORCH_HOME/hub/checkpoints/``, where ``torchvision.models.resnet18(weights=...)``
    keeps them), else, only with ``download=True``, from torchvision's URL into that cache
    (checked against the SHA-256 prefix in the file's name). Without them it raises a
    `DataNotFoundError` that names the URL, the file and the folder. The file is read with
    ``torch.load(..., weights_only=True)``. The model is an ``nn.Sequential``: an
    `InputAdapter` (``size``, ``mean_std``), the net's own layers under torchvision's names
    (so its state dict loads as torchvision's), and the new head (``fc`` or
    ``classifier.6``); `freeze`, `unfreeze` and `trainable_table` work on it as on the
    course's models.

    >>> model = imagenet_model("resnet18", 5, weights="resnet18-f37072fd.pth", size=64)  # doctest: +SKIP
    """
    import torchvision

    path = _weights_file(name, weights, download)
    net = torchvision.models.get_model(name, weights=None)
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise DataIntegrityError(f"imagenet_model(): {path} does not hold the weights of {name}: "
                                 f"{str(error).splitlines()[0]}") from None
    head = IMAGENET[name][1]
    body = [(child, module) for child, module in net.named_children() if child != head]
    model = nn.Sequential(OrderedDict([("adapter", InputAdapter(size, mean_std)), *body, ("flatten", nn.Flatten()),
                                       (head, getattr(net, head))]))
    return replace_head(model, num_classes)
