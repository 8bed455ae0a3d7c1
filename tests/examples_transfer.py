"""Valid calls of the public names of chapter 07 (transfer learning), for tests/test_arguments.py: each
is a function returning the keyword arguments of one cheap call."""

import functools
import tempfile
from pathlib import Path

import torch

from nbhelpers import ResNet


@functools.cache
def resnet18_file() -> Path:
    """A randomly initialised torchvision resnet18's state dict, saved once per session: the offline
    stand-in for torchvision's ImageNet file."""
    import torchvision

    path = Path(tempfile.mkdtemp(prefix="nbh-weights-")) / "resnet18-random.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    return path


EXAMPLES = {
    "freeze": lambda: dict(model=ResNet(widths=(8, 16)), prefixes=["stem", "stage1"], but_last=None),
    "unfreeze": lambda: dict(model=ResNet(widths=(8, 16)), prefixes=None, last=1),
    "replace_head": lambda: dict(model=ResNet(widths=(4,)), num_classes=3),
    "trainable_table": lambda: dict(model=ResNet(widths=(4,)), lr=1e-3, param_groups={"head": {"lr": 1e-2}}, depth=1),
    "pretrained_resnet": lambda: dict(num_classes=3),
    "imagenet_weights": lambda: dict(name="vgg16"),
    "InputAdapter": lambda: dict(size=32, mean_std=(0.2860, 0.3530)),
    "imagenet_model": lambda: dict(name="resnet18", num_classes=3, weights=resnet18_file(), download=False, size=32,
                                   mean_std=(0.2860, 0.3530)),
}
