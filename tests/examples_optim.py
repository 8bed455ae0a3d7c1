"""Valid calls of the public names of chapter 05 (the PID optimizer, the learning-rate finder, the 2-D
surfaces), for tests/test_arguments.py: each is a function returning the keyword arguments of one cheap call."""

import torch

from nbhelpers import trajectory


def pair(n=32, features=4, classes=2):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, features, generator=g), torch.arange(n) % classes


EXAMPLES = {
    "PID": lambda: dict(params=[torch.zeros(2, requires_grad=True)], lr=0.01, momentum=0.9, proportional=1.0,
                        integral=3.0, derivative=100.0, weight_decay=0.0),
    "effective_step": lambda: dict(lr=0.01, momentum=0.9, proportional=1.0, integral=3.0),
    "LRFinder": lambda: dict(start=1e-6, end=1.0, steps=10, smooth=0.9, diverge=4.0),
    "lr_find": lambda: dict(model=torch.nn.Linear(4, 2), data=pair(), start=1e-4, end=1.0, steps=6, optimizer="sgd",
                            loss="cross_entropy", weight_decay=0.0, param_groups=None, batch_size=16, smooth=0.9,
                            diverge=4.0, seed=0, device="cpu"),
    "quadratic": lambda: dict(low=1.0, high=20.0, angle=30.0),
    "rosenbrock": lambda: dict(a=1.0, b=100.0),
    "double_well": lambda: dict(tilt=0.3),
    "trajectory": lambda: dict(surface="quadratic", optimizer="sgd", start=(1.0, 1.0), steps=5, lr=0.01, label="sgd"),
    "stable_lr": lambda: dict(surface="quadratic", optimizer="sgd", low=1e-3, high=1.0, steps=50, tolerance=1.5),
    "plot_paths": lambda: dict(surface="quadratic", paths=[trajectory("quadratic", "sgd", steps=5)], title="t",
                               levels=10),
}
