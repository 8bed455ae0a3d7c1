"""Hyperopt's TPE proposing the trials of an Optuna study: the glue, not a sampler of our own.

Each new trial hands the study's finished trials (complete and pruned, with their values) to
``hyperopt.tpe.suggest`` as a ``hyperopt.Trials`` history, and takes the point it proposes.
The searching is hyperopt's; the study, its storage, pruning and parallel workers are
Optuna's, so ``strategy="hyperopt"`` resumes and runs on many machines like the others.
Hyperopt seeds each proposal with the sampler's seed plus the trial's number, which is unique
in a study, so workers sharing a study never draw the same random numbers.

This module subclasses Optuna's ``BaseSampler`` and imports hyperopt (about 1 s with scipy),
so `search` loads it only for ``strategy="hyperopt"``.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
from hyperopt import base, hp, tpe
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

N_STARTUP = 10  # random proposals before TPE takes over (hyperopt's own default is 20); search sets its own


def hyperopt_space(space: dict[str, BaseDistribution]) -> dict[str, Any]:
    """Each Optuna distribution as the hyperopt expression that draws the same values."""
    expressions: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            expressions[name] = hp.choice(name, list(range(len(dist.choices))))  # hyperopt keeps the index
        elif isinstance(dist, IntDistribution):
            low, high = dist.low - 0.5, dist.high + 0.5  # each integer gets a bin of width 1
            expressions[name] = (hp.qloguniform(name, math.log(max(low, 0.5)), math.log(high), 1) if dist.log
                                 else hp.quniform(name, low, high, 1))
        elif isinstance(dist, FloatDistribution):
            expressions[name] = (hp.loguniform(name, math.log(dist.low), math.log(dist.high)) if dist.log
                                 else hp.uniform(name, dist.low, dist.high))
        else:
            raise TypeError(f"hyperopt cannot search a {type(dist).__name__}")
    return expressions


def to_hyperopt(dist: BaseDistribution, value: Any) -> float:
    """A trial's parameter as hyperopt stores it: a choice's index, else the number."""
    return dist.to_internal_repr(value) if isinstance(dist, CategoricalDistribution) else float(value)


def from_hyperopt(dist: BaseDistribution, value: float) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(value)]
    if isinstance(dist, IntDistribution):
        return int(min(max(round(value), dist.low), dist.high))
    return float(min(max(value, dist.low), dist.high))


class HyperoptSampler(optuna.samplers.BaseSampler):
    """Optuna trials proposed by ``hyperopt.tpe.suggest`` over a fixed ``space`` of Optuna distributions."""

    def __init__(self, space: dict[str, BaseDistribution], seed: int = 0, n_startup_trials: int = N_STARTUP):
        self.space, self.seed, self.n_startup_trials = dict(space), int(seed), n_startup_trials
        self.domain = base.Domain(lambda params: 0.0, hyperopt_space(self.space))
        self.fallback = optuna.samplers.RandomSampler(seed=seed)  # a parameter outside `space`

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return dict(self.space)

    def history(self, study: optuna.Study) -> base.Trials:
        """The finished trials as hyperopt's record: loss = the value, negated when higher is better."""
        sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
        finished = [t for t in study._get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
                    if t.value is not None and math.isfinite(t.value) and all(n in t.params for n in self.space)]
        docs = []
        for tid, t in enumerate(finished):
            vals = {name: [to_hyperopt(dist, t.params[name])] for name, dist in self.space.items()}
            docs.append({"state": base.JOB_STATE_DONE, "tid": tid, "spec": None,
                         "result": {"status": base.STATUS_OK, "loss": sign * t.value},
                         "misc": {"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
                                  "idxs": {name: [tid] for name in vals}, "vals": vals},
                         "exp_key": None, "owner": None, "version": 0, "book_time": None, "refresh_time": None})
        trials = base.Trials()
        trials.insert_trial_docs(docs)
        trials.refresh()
        return trials

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        trials = self.history(study)
        proposal = tpe.suggest([len(trials.trials)], self.domain, trials, self.seed + trial.number,
                               n_startup_jobs=self.n_startup_trials, verbose=False)
        vals = proposal[0]["misc"]["vals"]
        return {name: from_hyperopt(dist, vals[name][0]) for name, dist in search_space.items()}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self.fallback.sample_independent(study, trial, param_name, param_distribution)


