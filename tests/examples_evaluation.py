"""Valid calls of chapter 08's public names (classification metrics, calibration, thresholds and
costs, resampling, the threshold panel), for tests/test_arguments.py: each is a function
returning the keyword arguments of one cheap call."""

import numpy as np
import torch


def probabilities(n=40, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(classes), n), np.arange(n) % classes


def logits(n=40, classes=3):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, classes, generator=g), torch.arange(n) % classes


def train(train, valid, width=8, seed=0):
    return {"valid_accuracy": float((valid[1] == 0).float().mean()), "width": width}


def outputs():
    p, y = probabilities()
    return {f"run {i}": probabilities(seed=i)[0] for i in range(3)}, y


def bootstrapped():
    from nbhelpers import bootstrap

    p, y = probabilities()
    return bootstrap(p, y, resamples=50)


def prevalence_table():
    from nbhelpers import at_prevalence

    p, y = probabilities()
    return at_prevalence(p, y, [0.01, 0.5])


EXAMPLES = {
    "classification_metrics": lambda: dict(scores=probabilities()[0], y=probabilities()[1], positive=1, threshold=0.4,
                                           logits=False, bins=10),
    "class_report": lambda: dict(scores=logits()[0], y=logits()[1], classes=["a", "b", "c"], positive=None,
                                 threshold=0.5, logits=True),
    "confusion": lambda: dict(scores=logits()[0], y=logits()[1], classes=["a", "b", "c"], positive=None, threshold=0.5,
                              logits=True, normalize="true"),
    "plot_confusion": lambda: dict(scores=logits()[0], y=logits()[1], classes=["a", "b", "c"], positive=None,
                                   threshold=0.5, logits=True, title="t"),
    "expected_calibration_error": lambda: dict(scores=logits()[0], y=logits()[1], bins=10, logits=True),
    "reliability_table": lambda: dict(scores=logits()[0], y=logits()[1], bins=10, logits=True),
    "plot_reliability": lambda: dict(scores={"a": logits()[0]}, y=logits()[1], bins=10, logits=True, title="t"),
    "fit_temperature": lambda: dict(logits=logits()[0], y=logits()[1]),
    "threshold_table": lambda: dict(scores=probabilities()[0], y=probabilities()[1], positive=1, cost_fp=1.0,
                                    cost_fn=5.0, thresholds=[0.2, 0.5], logits=False),
    "best_threshold": lambda: dict(scores=probabilities()[0], y=probabilities()[1], positive=1, cost_fp=1.0,
                                   cost_fn=5.0, logits=False),
    "plot_threshold": lambda: dict(scores=probabilities()[0], y=probabilities()[1], threshold=0.3, positive=1,
                                   cost_fp=1.0, cost_fn=5.0, classes=["no", "yes"], logits=False, title="t"),
    "at_prevalence": lambda: dict(scores=probabilities()[0], y=probabilities()[1], prevalences=[0.01, 0.5], positive=1,
                                  threshold=0.5, logits=False),
    "plot_prevalence": lambda: dict(table=prevalence_table(), title="t"),
    "bootstrap": lambda: dict(scores=probabilities()[0], y=probabilities()[1], metric="accuracy",
                              baseline=probabilities(seed=1)[0], resamples=50, confidence=0.9, seed=0, positive=1,
                              threshold=0.5, logits=False),
    "plot_bootstrap": lambda: dict(result=bootstrapped(), title="t"),
    "cross_validate": lambda: dict(train_fn=train, data=(torch.randn(30, 2), torch.arange(30) % 2), folds=3, seed=0),
    "selection_bias": lambda: dict(outputs=outputs()[0], y=outputs()[1], candidates=(1, 3), valid_size=10, test_size=10,
                                   seed=0, metric="accuracy", logits=False),
    "threshold_panel": lambda: dict(scores=probabilities()[0], y=probabilities()[1], positive=1, cost_fp=1.0,
                                    cost_fn=5.0, threshold=0.4, classes=["no", "yes"], logits=False, debounce=0),
}
