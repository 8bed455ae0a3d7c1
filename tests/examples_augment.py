"""Valid calls of the public names in augment/, for tests/test_arguments.py: each is a function
returning the keyword arguments of one cheap call (constructing a step; drawing a tiny figure)."""

import torch

from nbhelpers import Flip, Rotate


def images(n=4):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0))


FILL = dict(fill_mode="reflect", cval=0.5, mean_std=(0.5, 0.25))

EXAMPLES = {
    # geometric
    "Flip": lambda: dict(horizontal=True, vertical=True, p=0.5, **FILL),
    "Crop": lambda: dict(padding=2, **FILL),
    "Shift": lambda: dict(width=0.1, height=0.2, **FILL),
    "Rotate": lambda: dict(degrees=15, **FILL),
    "Shear": lambda: dict(degrees=10, **FILL),
    "Zoom": lambda: dict(zoom=(0.9, 1.1), per_axis=True, **FILL),
    "Elastic": lambda: dict(alpha=8.0, sigma=2.0, **FILL),
    # photometric
    "Brightness": lambda: dict(factor=0.2, mean_std=None),
    "Contrast": lambda: dict(factor=(0.8, 1.2), mean_std=None),
    "Equalize": lambda: dict(p=0.5, mean_std=None),
    "CLAHE": lambda: dict(clip_limit=2.0, tiles=(2, 3), p=1.0, mean_std=None),
    "Noise": lambda: dict(std=0.05, mean_std=None),
    "Erase": lambda: dict(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, mean_std=None),
    "MixUp": lambda: dict(alpha=0.2, num_classes=10, p=1.0),
    "CutMix": lambda: dict(alpha=1.0, num_classes=10, p=0.5),
    "OneOf": lambda: dict(steps=[Flip(), Rotate(10)]),
    # pipeline
    "Pipeline": lambda: dict(steps=[Rotate(10), Flip()]),
    "pipeline": lambda: dict(hflip=True, vflip=0.2, rotate=10, shift=(0.1, 0.05), shear=5, zoom=0.1, zoom_per_axis=True,
                             crop=1, elastic=4.0, elastic_sigma=3.0, equalize=0.5, clahe=2.0, clahe_tiles=2,
                             brightness=0.2, contrast=(0.8, 1.2), noise=0.05, erase=0.5, mixup=0.2, cutmix=1.0,
                             num_classes=10, fill_mode="nearest", cval=0.0, mean_std=None, extra=[torch.nn.Identity()]),
    # pictures
    "preview": lambda: dict(x=images(), augment=Flip(p=1.0), n=2, versions=1, mean_std=None, seed=0),
    "gallery": lambda: dict(x=images(), augments={"flip": Flip(p=1.0)}, n=2, mean_std=None, seed=0),
    "soft_label_grid": lambda: dict(x=images(2), y=torch.tensor([[0.7, 0.3], [0.0, 1.0]]), classes=["a", "b"], n=2,
                                    mean_std=None),
}
