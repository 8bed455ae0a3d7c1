"""The strategies and pruners `search` names, each made from Optuna (or hyperopt) with the
settings the course uses; an Optuna sampler or pruner of your own is used as it is.

| strategy | what proposes the next trial |
|---|---|
| ``grid`` | every combination of the lists, in a shuffled order (``optuna.samplers.GridSampler``) |
| ``random`` | independent uniform draws (``RandomSampler``) |
| ``sobol`` | a scrambled Sobol' sequence: random-looking points that cover the space evenly (``QMCSampler``) |
| ``tpe`` | Optuna's Tree-structured Parzen Estimator, after a few random trials (``TPESampler``) |
| ``hyperopt`` | hyperopt's TPE (``hyperopt.tpe.suggest``), after a few random trials |

TPE models the trials so far once it has a few: a third of the study's budget, from 3 to 10
(Optuna's default, made for studies of a hundred trials; hyperopt's is 20). With 12 trials,
4 are random and 8 are chosen by the model.

| pruner | stops a trial after an epoch when its validation metric is ... |
|---|---|
| ``median`` | worse than the median of earlier trials at the same epoch (after 5 trials; ``MedianPruner``) |
| ``halving`` | not in the top 1/4 of the trials that reached this rung (successive halving) |
| ``hyperband`` | as ``halving``, over several brackets that trade how many trials for how long (``HyperbandPruner``) |

>>> STRATEGIES, PRUNERS
(('grid', 'random', 'sobol', 'tpe', 'hyperopt'), ('median', 'halving', 'hyperband'))
"""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING, Any

from .._checks import AnyOf, Choice, Satisfies
from .space import Range, distributions

if TYPE_CHECKING:  # annotations only: optuna loads when a search starts
    import optuna

STRATEGIES = ("grid", "random", "sobol", "tpe", "hyperopt")
PRUNERS = ("median", "halving", "hyperband")


def _optuna_instance(module: str, base: str):
    def test(value: Any) -> bool:
        loaded = sys.modules.get(module)
        return loaded is not None and isinstance(value, getattr(loaded, base))
    return test


STRATEGY = AnyOf(Choice(*STRATEGIES), Satisfies(_optuna_instance("optuna.samplers", "BaseSampler"),
                                                "an Optuna sampler", bad=[3]))
PRUNER = AnyOf(Choice(*PRUNERS), Satisfies(_optuna_instance("optuna.pruners", "BasePruner"), "an Optuna pruner",
                                           bad=[3]), None)


def derived_seed(seed: int | None, *parts: Any) -> int | None:
    """A seed for one run of a sampler: ``seed`` mixed with what makes the run different (how many
    trials the study held when it started, which worker), so a resumed study or a second worker
    does not draw the same random points again."""
    if seed is None:
        return None
    text = ":".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def startup_trials(budget: int) -> int:
    """Random trials before TPE models the others: a third of the budget, from 3 to 10.

    >>> startup_trials(9), startup_trials(20), startup_trials(100)
    (3, 6, 10)
    """
    return min(10, max(3, budget // 3))


def make_sampler(strategy: str | optuna.samplers.BaseSampler, space: dict[str, Range | list], seed: int | None,
                 started_at: int = 0, worker: int = 0, budget: int = 30) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of ``strategy`` for ``space``.

    Grid and Sobol' keep their place in the study's storage (the points run so far), so every
    worker and every resumed run uses the seed as given; the others draw afresh, from a seed
    derived from it, the study's size and the worker's number (`derived_seed`). Hyperopt seeds
    each proposal with the seed plus the trial's number, unique in a study.
    """
    import optuna

    if not isinstance(strategy, str):
        return strategy
    fresh = derived_seed(seed, started_at, worker)
    if strategy == "grid":
        return optuna.samplers.GridSampler({name: list(values) for name, values in space.items()}, seed=seed)
    if strategy == "random":
        return optuna.samplers.RandomSampler(seed=fresh)
    if strategy == "sobol":
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=0 if seed is None else seed,
                                          warn_independent_sampling=False)
    if strategy == "tpe":
        return optuna.samplers.TPESampler(seed=fresh, n_startup_trials=startup_trials(budget))
    from .hyperopt_sampler import HyperoptSampler  # imports hyperopt (and scipy): only when asked for

    return HyperoptSampler(distributions(space), seed=0 if seed is None else seed,  # + each trial's number
                           n_startup_trials=startup_trials(budget))


def make_pruner(pruner: str | optuna.pruners.BasePruner | None) -> optuna.pruners.BasePruner:
    """The Optuna pruner ``pruner`` names (``None``: never prune)."""
    import optuna

    if pruner is None:
        return optuna.pruners.NopPruner()
    if not isinstance(pruner, str):
        return pruner
    return {"median": optuna.pruners.MedianPruner,
            "halving": optuna.pruners.SuccessiveHalvingPruner,
            "hyperband": optuna.pruners.HyperbandPruner}[pruner]()
