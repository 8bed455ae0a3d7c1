"""`PruningCallback`: `fit` reports each epoch's validation metric to an Optuna trial and stops
cleanly when the trial's pruner says the run is not worth finishing.

Stopping goes through `StopTraining`, as early stopping does: `fit` restores the best epoch's
weights, calls ``on_fit_end`` and returns its result, so your train function ends normally
and `search` then marks the trial pruned. The callback counts the epochs it saw (all the
`fit` calls of one trial together), the cost a pruned trial saved. With Optuna directly::

    def objective(trial):
        pruning = PruningCallback(trial, "valid_accuracy")
        result = fit(model, data, epochs=20, lr=trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                     callbacks=[pruning])
        if pruning.pruned:
            raise optuna.TrialPruned(pruning.reason)
        return result.final["valid_accuracy"]
"""

from __future__ import annotations

import sys
from typing import Any

from .._checks import Instance, Satisfies, checked, fail
from ..training.callbacks import Callback, StopTraining, TrainState


def is_trial(value: Any) -> bool:
    """An Optuna ``Trial``, told without importing optuna."""
    trial = sys.modules.get("optuna.trial")
    return trial is not None and isinstance(value, trial.Trial)


class PruningCallback(Callback):
    """Report ``metric`` to ``trial`` after every epoch; stop `fit` when the trial should be pruned.

    ``epochs`` counts the epochs reported, over every `fit` call in the trial; once pruned,
    a later `fit` in the same trial stops before its first epoch.

    >>> import optuna, torch
    >>> from nbhelpers import MLP, fit
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> trial = optuna.create_study(direction="maximize").ask()
    >>> x, y = torch.randn(64, 4), torch.arange(64) % 2
    >>> pruning = PruningCallback(trial, "valid_accuracy")
    >>> _ = fit(MLP(4, 2, width=8), ((x, y), (x, y)), epochs=2, lr=0.01, callbacks=[pruning], progress=False)
    >>> pruning.epochs, pruning.pruned, sorted(trial.storage.get_trial(trial._trial_id).intermediate_values)
    (2, False, [1, 2])
    """

    @checked(trial=Satisfies(is_trial, "an optuna.Trial (the one your objective receives)", bad=["trial", 3]),
             metric=Instance(str, "a metric fit records, such as 'valid_accuracy' or 'valid_loss'"))
    def __init__(self, trial: Any, metric: str = "valid_accuracy"):
        self.trial, self.metric = trial, metric
        self.epochs, self.pruned, self.reason = 0, False, ""

    def on_fit_begin(self, state: TrainState) -> None:
        if self.metric not in state.metrics_available:
            raise fail("PruningCallback", "metric", "a metric this run records: " + ", ".join(state.metrics_available),
                       self.metric, "A validation metric needs validation data in fit.")

    def on_epoch_begin(self, state: TrainState) -> None:
        if self.pruned:  # a train function that calls fit again after a pruned run
            raise StopTraining(self.reason)

    def on_epoch_end(self, state: TrainState) -> None:
        self.epochs += 1
        value = state.metrics[self.metric]
        self.trial.report(value, self.epochs)
        if self.trial.should_prune():
            self.pruned = True
            self.reason = f"pruned after epoch {self.epochs}: {self.metric} {value:.4g}"
            raise StopTraining(self.reason)
