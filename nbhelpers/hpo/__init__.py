"""Hyperparameter optimization: grid, random, Sobol', TPE and hyperopt over one train function,
with pruning, studies that resume and scale out, their tables and figures, and a
scikit-learn estimator around `fit` for ``GridSearchCV``.

    space = {"lr": log_uniform(1e-4, 1e-1), "width": [32, 64, 128]}
    study = search(train, space, strategy="tpe", trials=30, pruner="median")
    trials_table(study)                # one row per trial: params, value, state, epochs, seconds
    plot_history(study)

Optuna (and hyperopt, for ``strategy="hyperopt"``) do the searching; this package is the glue:
the space, the `fit` callback that reports and prunes, storages by name, the table, the figures.
"""

from .figures import plot_history, plot_importance, plot_isolation, plot_parallel, plot_points, plot_slices
from .optimize import search
from .pruning import PruningCallback
from .results import isolation, param_importances, trials_table
from .space import integers, log_uniform, uniform
from .storage import open_storage

__all__ = ["PruningCallback", "TorchClassifier", "integers", "isolation", "log_uniform", "open_storage",
           "param_importances", "plot_history", "plot_importance", "plot_isolation", "plot_parallel", "plot_points",
           "plot_slices", "search", "trials_table", "uniform"]


def __getattr__(name: str):
    # TorchClassifier subclasses scikit-learn's BaseEstimator (1.5 s to import): made on first use.
    if name == "TorchClassifier":
        from .estimator import TorchClassifier

        return TorchClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
