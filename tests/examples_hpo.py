"""Valid calls of the public names in hpo/ (chapter 06), for tests/test_arguments.py: cheap ones,
on studies kept in memory, with a train function that returns its score without training."""

import numpy as np

from nbhelpers import MLP, log_uniform, search


def train(lr, width=8):
    return {"valid_accuracy": 1 - lr + width / 1000}


def study(trials=4):
    return search(train, {"lr": log_uniform(1e-3, 1e-1), "width": [8, 16]}, strategy="random", trials=trials,
                  storage=":memory:", progress=False)


def table():
    import pandas as pd

    return pd.DataFrame({"width": [8, 8, 16, 16], "lr": [0.1, 0.01] * 2, "valid_accuracy": [0.7, 0.8, 0.9, 0.6]})


def trial():
    import optuna

    return optuna.create_study(storage=optuna.storages.InMemoryStorage()).ask()


def fit_tiny(made):
    x = np.random.default_rng(0).normal(size=(12, 3))
    made.fit(x, np.arange(12) % 2)


EXAMPLES = {
    "search": lambda: dict(train_fn=train, space={"lr": [0.1, 0.01]}, strategy="grid", trials=None, pruner=None,
                           metric="valid_accuracy", study=None, storage=":memory:", seed=0, workers=1, progress=False),
    "uniform": lambda: dict(low=0.0, high=0.5),
    "log_uniform": lambda: dict(low=1e-4, high=1e-1),
    "integers": lambda: dict(low=1, high=4, log=False),
    "open_storage": lambda: dict(storage=":memory:", heartbeat=5),
    "trials_table": lambda: dict(study=study(2)),
    "plot_history": lambda: dict(studies=study(2), x="epochs", title="t"),
    "plot_importance": lambda: dict(study=study(), title="t"),
    "plot_parallel": lambda: dict(study=study(2), title="t"),
    "plot_slices": lambda: dict(study=study(2), title="t"),
    "param_importances": lambda: dict(study=study()),
    "isolation": lambda: dict(runs=table(), scientific="width", nuisance="lr", metric="valid_accuracy"),
    "plot_isolation": lambda: dict(runs=table(), scientific="width", nuisance=["lr"], metric="valid_accuracy",
                                   title="t"),
    "plot_points": lambda: dict(studies={"a": study(2)}, x="lr", y="width", title="t"),
    "search_panel": lambda: dict(train_fn=train, space={"lr": [0.1, 0.01]}, trials=2, metric="valid_accuracy", seed=0,
                                 storage=":memory:", x="trial"),
    "PruningCallback": lambda: dict(trial=trial(), metric="valid_accuracy"),
    "TorchClassifier": lambda: dict(model=MLP, epochs=1, lr=0.01, optimizer="adam", batch_size=4, seed=0, verbose=0,
                                    device="cpu", width=4),
}

THEN = {"TorchClassifier": fit_tiny}  # scikit-learn estimators check their arguments in fit
