"""`trials_table`: a study's trials as a tidy table, one row per trial.

>>> import optuna
>>> from nbhelpers import search
>>> study = search(lambda lr: {"valid_accuracy": 1 - lr}, {"lr": [0.1, 0.2]}, strategy="grid",
...                storage=":memory:", progress=False)
>>> trials_table(study).sort_values("lr")[["lr", "value", "state"]].to_string(index=False)
' lr  value    state\\n0.1    0.9 complete\\n0.2    0.8 complete'
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

from .._checks import Satisfies, checked

if TYPE_CHECKING:  # annotations only: pandas and optuna load when first used
    import optuna
    import pandas as pd


def is_study(value: Any) -> bool:
    """An Optuna ``Study``, told without importing optuna."""
    study = sys.modules.get("optuna.study")
    return study is not None and isinstance(value, study.Study)


STUDY = Satisfies(is_study, "an Optuna study (what search returns, or optuna.load_study(...))", bad=["study", 3])
FIXED = ("number", "value", "state", "epochs", "seconds")


def param_names(study: optuna.Study) -> list[str]:
    """The parameters searched, in the order the trials first asked for them."""
    names: dict[str, None] = {}
    for trial in study.get_trials(deepcopy=False):
        names.update(dict.fromkeys(trial.params))
    return list(names)


def epochs_of(trial: optuna.trial.FrozenTrial) -> int:
    """Epochs a trial consumed: as `search` counted them, else one per reported value."""
    return (trial.user_attrs.get("nbhelpers") or {}).get("epochs") or len(trial.intermediate_values)


def trial_row(trial: optuna.trial.FrozenTrial, names: list[str], metric: str | None) -> dict[str, Any]:
    run = trial.user_attrs.get("nbhelpers") or {}  # what search recorded
    seconds = run.get("seconds")
    if seconds is None and trial.duration is not None:
        seconds = trial.duration.total_seconds()
    epochs = run.get("epochs") or len(trial.intermediate_values) or None  # by Optuna directly: one report per epoch
    row = {"number": trial.number, **{n: trial.params.get(n) for n in names},
           "value": math.nan if trial.value is None else trial.value, "state": trial.state.name.lower(),
           "epochs": epochs, "seconds": seconds}
    metrics = run.get("metrics") or {}
    row.update({k: v for k, v in metrics.items() if k != metric and k not in row})
    return row


@checked(study=STUDY)
def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: ``number``, the parameters, ``value`` (the metric searched; for a
    pruned trial its last reported epoch's), ``state`` (``complete``, ``pruned``, ``fail``,
    ``running``, ``waiting``), ``epochs`` consumed, ``seconds``, then the other metrics your
    function returned (``test_accuracy``, ``train_loss``, ...).

    The cost of a search is ``trials_table(study)["epochs"].sum()``.

    >>> table = trials_table(study)                                 # doctest: +SKIP
    >>> table.groupby("state")["epochs"].sum()                      # doctest: +SKIP
    """
    import pandas as pd

    names = param_names(study)
    metric = (study.user_attrs.get("nbhelpers") or {}).get("metric")
    rows = [trial_row(trial, names, metric) for trial in study.get_trials(deepcopy=False)]
    table = pd.DataFrame(rows, columns=None if rows else ["number", *names, *FIXED[1:]])
    table["epochs"] = table["epochs"].astype("Int64") if len(table) else table["epochs"]
    return table
