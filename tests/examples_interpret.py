"""Valid calls of the public names in interpret/ (chapter 08's interpretation), for
tests/test_arguments.py: a two-layer conv net on a few 8 x 8 images, so each call is cheap."""

import torch
from torch import nn


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2))


def images(n=2):
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def split(n=8):
    return images(n), torch.arange(n) % 2


def randomization_table():
    from nbhelpers import randomization_check
    return randomization_check(net(), images(), method=["saliency", "grad_cam"])


def wrong_table():
    from nbhelpers import confidently_wrong
    return confidently_wrong(net(), split(), k=3)


EXAMPLES = {
    "attribute": lambda: dict(model=net(), images=images(), method="grad_cam", target=torch.tensor([0, 1]), layer="0",
                              steps=4),
    "randomization_check": lambda: dict(model=net(), images=images(), method=["saliency", "grad_cam"], target=1,
                                        layer="0", steps=4, seed=0),
    "plot_randomization": lambda: dict(table=randomization_table(), title="t"),
    "plot_attributions": lambda: dict(images=images(), maps={"a": images()[:, 0]}, labels=torch.tensor([0, 1]),
                                      classes=["a", "b"], n=2, mean_std=(0.5, 0.25), alpha=0.5, title="t"),
    "activation_maps": lambda: dict(model=net(), images=images(), layer="1"),
    "plot_activation_maps": lambda: dict(maps=torch.rand(2, 3, 4, 4), image=torch.rand(1, 8, 8), channels=2, columns=2,
                                         mean_std=None, title="t"),
    "embeddings": lambda: dict(model=net(), data_split=split(), layer="4", batch_size=4),
    "plot_tsne": lambda: dict(features=torch.randn(12, 3), labels=torch.arange(12) % 2, classes=["a", "b"], seed=0,
                              ax_title="t", max_points=10, perplexity=2.0),
    "confidently_wrong": lambda: dict(model=net(), data_split=split(), k=3, classes=["a", "b"]),
    "plot_confidently_wrong": lambda: dict(data_split=split(), table=wrong_table(), classes=["a", "b"], columns=2,
                                           mean_std=None, title="t"),
}
