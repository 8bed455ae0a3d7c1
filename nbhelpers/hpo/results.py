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

from .._checks import COLUMN, Frame, Satisfies, checked, fail

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


@checked(study=STUDY)
def param_importances(study: optuna.Study) -> pd.Series:
    """How much of the variation in the value each parameter explains, largest first (Optuna's
    fANOVA on the complete trials, seeded, so the same study gives the same shares; they add up to 1).

    >>> param_importances(study).round(2).to_dict()                 # doctest: +SKIP
    {'lr': 0.83, 'width': 0.11, 'dropout': 0.06}
    """
    import optuna
    import pandas as pd
    from optuna.trial import TrialState

    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        raise fail("param_importances", "study", "a study with at least 2 complete trials", study.study_name)
    found = optuna.importance.get_param_importances(study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    return pd.Series(found, name="importance", dtype=float)


RUNS_TABLE = Frame("a DataFrame with one row per run (what sweep or trials_table returns)")
NUISANCE = Satisfies(lambda v: isinstance(v, str) or (isinstance(v, (list, tuple)) and len(v) > 0
                                                      and all(isinstance(n, str) for n in v)),
                     "a column name or a list of column names", bad=[3, []])


@checked(runs=RUNS_TABLE, scientific=COLUMN, nuisance=NUISANCE, metric=COLUMN)
def isolation(runs: pd.DataFrame, scientific: str, nuisance: str | list[str], metric: str = "valid_accuracy"
              ) -> pd.DataFrame:
    """For each value of the ``scientific`` parameter, the best setting of the ``nuisance`` ones:
    the comparison the Deep Learning Tuning Playbook asks for (each value at its own best
    nuisance settings, not all at one shared setting).

    ``runs``: one row per run (`sweep`'s table, several seeds per setting, or `trials_table`).
    Runs of one setting are averaged first (over seeds); the best mean wins (higher is better
    unless the metric's name says loss or error). One row per ``scientific`` value: its best
    nuisance values, ``mean`` of the metric there, ``n`` runs behind it, and ``settings``, how
    many nuisance settings were tried.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"width": [8, 8, 64, 64], "lr": [0.1, 0.01] * 2, "valid_accuracy": [0.7, 0.8, 0.9, 0.6]})
    >>> isolation(runs, "width", "lr")[["width", "lr", "mean"]].values.tolist()
    [[8.0, 0.01, 0.8], [64.0, 0.1, 0.9]]
    """
    from ..evaluation.seeds import better_for

    names = [nuisance] if isinstance(nuisance, str) else list(nuisance)
    for name, column in [("scientific", scientific), *(("nuisance", n) for n in names), ("metric", metric)]:
        if column not in runs.columns:
            raise fail("isolation", name, "a column of `runs`: " + ", ".join(map(str, runs.columns)), column)
    done = runs[runs[metric].notna()]
    if "state" in done.columns:  # a trials_table: pruned trials stopped early, their values are not comparable
        done = done[done["state"] == "complete"]
    means = done.groupby([scientific, *names], sort=True)[metric].agg(["mean", "size"]).reset_index()
    means = means.rename(columns={"size": "n"})
    pick = means.groupby(scientific)["mean"].idxmax() if better_for(metric) == "higher" else \
        means.groupby(scientific)["mean"].idxmin()
    best = means.loc[pick.to_numpy()].reset_index(drop=True)
    best["settings"] = means.groupby(scientific).size().to_numpy()
    return best
