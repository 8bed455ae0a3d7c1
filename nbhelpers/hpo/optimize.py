"""`search`: your train function, a search space, a strategy and a budget; Optuna does the searching.

Your function is called like `sweep` calls it: ``train_fn(**params, seed=seed,
callbacks=callbacks)`` (``seed`` and ``callbacks`` only if it takes them), and returns a dict
of metrics or `fit`'s `TrainResult`. Pass ``callbacks`` on to `fit`: through them each
epoch's validation metric reaches the trial (a learning curve per trial in the dashboard),
a pruner can stop a poor trial early, and the epochs each trial consumed are counted.

A study is kept in a storage (`open_storage`), so running the same cell again resumes it:
trials already finished are never run again, and ``trials`` is the number the study should
hold when the call returns. A trial cut short by Ctrl-C, or whose worker died, is run again
with the same parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import multiprocessing
import os
import signal
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._checks import COUNT, FLAG, SEED, Instance, Optional, Rule, checked, fail
from ..training.fit_arguments import FIT_ARGUMENTS
from ..device import quick_mode
from ..evaluation.seeds import better_for
from ..runs import NOT_SERVED, TRAIN_FN, check_names, function_identity, run_once
from .pruning import PruningCallback
from .space import Range, check_space, describe_space, grid_of, grid_size, suggest
from .storage import STORAGE, describe_storage, fail_dead_workers, kind_of, open_storage, worker_name
from .strategies import PRUNER, STRATEGY, make_pruner, make_sampler

if TYPE_CHECKING:  # annotations only: optuna loads when a search starts
    import optuna

DEFAULT_TRIALS = 20
SPACE = Rule(lambda f, n, v: check_space(f, v) and None, "a dict of parameter name -> a list of choices or a range, "
             "e.g. {'lr': log_uniform(1e-4, 1e-1), 'width': [32, 64, 128]}", bad=[[1e-3, 1e-2], {"lr": 0.1}, {}])
METRIC = Instance(str, "the name of a metric your function returns, such as 'valid_accuracy'")


@dataclass
class Job:
    """One search's settings: what every worker process needs to run its trials."""

    train_fn: Callable
    space: dict[str, Range | list]
    strategy: Any
    pruner: Any
    metric: str
    seed: int | None
    takes_callbacks: bool
    takes_seed: bool
    name: str
    storage: Any
    callbacks: tuple = ()
    journal: bool = False

    def objective(self, trial: optuna.Trial) -> float:
        """One trial: suggest, train, record epochs, seconds and metrics; pruned or interrupted runs raise."""
        import optuna

        if self.journal:  # a journal file has no heartbeat: a dead worker is told by its process id
            trial.set_user_attr("worker", worker_name())
        params = suggest(trial, self.space)
        pruning = PruningCallback(trial, self.metric) if self.takes_callbacks else None
        callbacks = [pruning, *self.callbacks] if pruning else None
        try:
            _, record = run_once(self.train_fn, function_identity(self.train_fn), params,
                                 self.seed if self.takes_seed else None, None, callbacks, "search")
        except KeyboardInterrupt:  # Ctrl-C outside fit (fit catches its own): run this trial again next time too
            trial.set_user_attr("nbhelpers", {"interrupted": True})
            raise
        interrupted = record["status"] in NOT_SERVED  # Ctrl-C or Stop inside fit
        run = {"epochs": (pruning.epochs if pruning else 0) or epochs_in(record), "seconds": record["seconds"],
               "metrics": record["metrics"], **({"interrupted": True} if interrupted else {})}
        trial.set_user_attr("nbhelpers", run)  # one write: each costs a commit
        if interrupted:  # end the search; the next one runs this trial again
            raise KeyboardInterrupt(f"search(): interrupted in trial {trial.number}; the finished trials are stored in "
                                    f"study {self.name!r}, so running it again continues (and runs this one again).")
        if pruning is not None and pruning.pruned:
            raise optuna.TrialPruned(pruning.reason)
        if self.metric not in record["metrics"]:
            raise fail("search", "metric", "a metric your function returns: " + (", ".join(record["metrics"]) or
                       "it returned none"), self.metric)
        return record["metrics"][self.metric]


def epochs_in(record: dict) -> int | None:
    """Epochs trained, from the history a run returned (a `TrainResult`'s), when no callback counted them."""
    rows = [row for row in record.get("history") or [] if row.get("split", "train") == "train"]
    return len(rows) or None


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's per-trial log lines off during a search (a progress bar says it), restored after."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


def finished(study: optuna.Study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def requeue_interrupted(study: optuna.Study) -> list[int]:
    """Queue again, once, each trial that Ctrl-C cut short (its parameters, a new trial number)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    done = {t.user_attrs.get("retry_of") for t in trials}
    again = [t for t in trials if t.state == TrialState.FAIL and t.number not in done
             and (t.user_attrs.get("nbhelpers") or {}).get("interrupted")]
    for trial in again:
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False)
    return [t.number for t in again]


def default_name(job: Job) -> str:
    """``<function>-<strategy>[-<pruner>]-<hash>``: the same cell gives the same study (so it resumes);
    another space, metric, seed or version of the function gives another."""
    strategy = job.strategy if isinstance(job.strategy, str) else type(job.strategy).__name__
    pruner = "" if job.pruner is None else "-" + (job.pruner if isinstance(job.pruner, str) else type(job.pruner).__name__)
    key = hashlib.sha256(repr((function_identity(job.train_fn), describe_space(job.space), job.metric, job.seed,
                               quick_mode())).encode()).hexdigest()[:8]
    return f"{getattr(job.train_fn, '__name__', 'train')}-{strategy}{pruner}-{key}"


def check_study(study: optuna.Study, job: Job) -> None:
    """Record what the study searches; warn when an existing study was made by other code."""
    made = {"function": function_identity(job.train_fn), "space": describe_space(job.space), "metric": job.metric}
    before = study.user_attrs.get("nbhelpers")
    if before is None:
        study.set_user_attr("nbhelpers", made)
    elif before != made:
        changed = [k if k != "function" else "version of your function" for k in made if before.get(k) != made[k]]
        warnings.warn(f"search(): study {job.name!r} was made with another {' and '.join(changed)}; its trials and "
                      "the new ones are mixed in one table. Give `study` a new name to start afresh.", stacklevel=3)


def run_trials(job: Job, storage: Any, target: int, started_at: int, worker: int = 0,
               bar: Any = None) -> optuna.Study:
    """Run trials in this process until the study holds ``target`` finished ones (with other workers)."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    study = optuna.load_study(study_name=job.name, storage=storage,
                              sampler=make_sampler(job.strategy, job.space, job.seed, started_at, worker, target),
                              pruner=make_pruner(job.pruner))
    remaining = target - finished(study)
    if remaining <= 0:
        return study
    callbacks: list = [MaxTrialsCallback(target, states=(TrialState.COMPLETE, TrialState.PRUNED))]
    if bar is not None:
        callbacks.append(lambda study, trial: show_progress(bar, study))
    study.optimize(job.objective, n_trials=remaining, callbacks=callbacks, gc_after_trial=False)
    return study


def show_progress(bar: Any, study: optuna.Study) -> None:
    bar.update(finished(study) - bar.n)
    with contextlib.suppress(ValueError):  # no finished trial yet
        bar.set_postfix_str(f"best {study.best_value:.4g}", refresh=False)


def _worker(job: Job, target: int, started_at: int, worker: int) -> None:
    """A forked worker process: one thread, its own connection to the storage, its own seed."""
    import torch

    torch.set_num_threads(1)
    with quiet_optuna():
        run_trials(job, open_storage(job.storage), target, started_at, worker)


def run_workers(job: Job, study: optuna.Study, target: int, started_at: int, workers: int, bar: Any) -> None:
    """``workers`` processes forked from this one run trials on the study; this one shows progress."""
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_worker, args=(job, target, started_at, i), name=f"search-worker-{i}")
                 for i in range(workers)]
    for process in processes:
        process.start()
    try:
        while any(p.is_alive() for p in processes):
            time.sleep(0.5)
            if bar is not None:
                show_progress(bar, study)
    except KeyboardInterrupt:
        for process in processes:  # let each worker's fit end its trial cleanly, then make sure they are gone
            if process.is_alive():
                os.kill(process.pid, signal.SIGINT)
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
        raise KeyboardInterrupt(f"search(): interrupted; the finished trials are stored in study {job.name!r}, so "
                                "running it again continues.") from None
    broken = [f"worker {i} (exit code {p.exitcode})" for i, p in enumerate(processes) if p.exitcode != 0]
    if broken:
        raise RuntimeError(f"search(): {', '.join(broken)} stopped with an error (its traceback is printed above); "
                           f"the trials finished are stored in study {job.name!r}.")


@checked(train_fn=TRAIN_FN, space=SPACE, strategy=STRATEGY, trials=Optional(COUNT), pruner=PRUNER, metric=METRIC,
         study=Optional(Instance(str, "a study name")), storage=STORAGE, seed=Optional(SEED), workers=COUNT,
         callbacks=Optional(FIT_ARGUMENTS["callbacks"]), progress=FLAG)
def search(train_fn: Callable, space: Mapping[str, Any], *, strategy: str | Any = "tpe", trials: int | None = None,
           pruner: str | Any | None = None, metric: str = "valid_accuracy", study: str | None = None,
           storage: Any = None, seed: int | None = 0, workers: int = 1, callbacks: Sequence | None = None,
           progress: bool = True) -> optuna.Study:
    """Search ``space`` for the parameters of ``train_fn`` that give the best ``metric``; return the Optuna study.

    ``space``: ``{"lr": log_uniform(1e-4, 1e-1), "width": [32, 64, 128]}``, a list being a set
    of choices (`uniform`, `log_uniform`, `integers` are ranges). ``strategy``: ``"grid"``
    (lists only), ``"random"``, ``"sobol"``, ``"tpe"``, ``"hyperopt"`` or an Optuna sampler.
    ``trials``: how many finished trials the study should hold (default: the whole grid, else
    20). ``pruner``: ``"median"``, ``"halving"``, ``"hyperband"`` or an Optuna pruner; it
    needs ``train_fn`` to pass its ``callbacks`` on to `fit`. ``metric``: higher is better
    unless its name ends in loss or error (`better_for`). ``seed`` goes to every trial's
    ``train_fn`` and seeds the strategy.

    ``study`` names the study (default: made from the function, strategy, pruner and a hash
    of the space, metric, seed and the function's code, so the same cell resumes). ``storage``:
    None (an SQLite file in the course cache), a journal file (``"study.log"``, for several
    processes), a database URL (``"postgresql+psycopg://user@host/db"``, for many machines)
    or anything `open_storage` takes. ``workers`` > 1 forks that many processes on this
    machine (Linux, macOS) that share the study; on other machines run the same call with
    the same ``study`` and ``storage`` (and each its own ``seed``). ``callbacks``: more `fit`
    callbacks for every trial, beside the pruner's (a panel's Stop button ends the trial in
    progress through one); they too need ``train_fn`` to pass its ``callbacks`` on.

    See `trials_table` for the results and `plot_history` for the picture.

    >>> from nbhelpers import log_uniform
    >>> def train(lr, width=32):   # your function: fit a model, return its metrics
    ...     return {"valid_accuracy": 1 - abs(math.log10(lr) + 2) / 10 + width / 1e4}
    >>> study = search(train, {"lr": log_uniform(1e-4, 1e-1), "width": [32, 64]}, strategy="random",
    ...                trials=8, storage=":memory:", progress=False)
    >>> len(study.trials), sorted(study.best_params)
    (8, ['lr', 'width'])
    """
    space = check_space("search", space)
    takes_callbacks, takes_seed = check_names("search", train_fn, list(space), "space", "search")
    if strategy == "grid":
        space = grid_of("search", space)
    for name, value, words in (("pruner", pruner, "pruning needs"), ("callbacks", callbacks, "callbacks need")):
        if value is not None and not takes_callbacks:
            raise fail("search", name, f"None: {words} {getattr(train_fn, '__name__', 'train_fn')}() to take "
                       "`callbacks` and pass them on to fit", value)
    kind = kind_of(storage)
    if workers > 1:
        _check_workers(kind, storage, workers)
    target = trials or DEFAULT_TRIALS
    if strategy == "grid":
        target = min(trials or math.inf, grid_size(space))
    job = Job(train_fn, space, strategy, pruner, metric, seed, takes_callbacks, takes_seed, study or "", storage,
              tuple(callbacks or ()))
    job.name = study or default_name(job)
    import optuna

    with quiet_optuna():
        handle = open_storage(storage)
        job.journal = isinstance(handle, optuna.storages.JournalStorage)
        direction = "maximize" if better_for(metric) == "higher" else "minimize"
        the_study = optuna.create_study(study_name=job.name, storage=handle, direction=direction, load_if_exists=True)
        check_study(the_study, job)
        optuna.storages.fail_stale_trials(the_study)  # a database's trials whose heartbeat stopped
        if job.journal:
            fail_dead_workers(the_study)  # a journal file has no heartbeat: look for the worker's process
        requeue_interrupted(the_study)
        started_at = len(the_study.get_trials(deepcopy=False))
        from tqdm.auto import tqdm

        bar = tqdm(total=target, initial=min(finished(the_study), target), desc=f"search {job.name}", unit="trial",
                   disable=not progress)
        try:
            if workers == 1:
                the_study = run_trials(job, handle, target, started_at, bar=bar)
            elif finished(the_study) < target:
                run_workers(job, the_study, target, started_at, workers, bar)
            show_progress(bar, the_study)
        finally:
            bar.close()
    return the_study


def _check_workers(kind: str, storage: Any, workers: int) -> None:
    if kind == "sqlite":
        raise fail("search", "workers", "1 with an SQLite file (Optuna advises against concurrent writers: "
                   "'database is locked', optuna#820)", workers, "For several workers give `storage` a journal "
                   "file, e.g. storage='study.log', or a database URL.")
    if kind in ("memory", "object"):
        raise fail("search", "workers", f"1 with {describe_storage(storage) if kind == 'object' else ':memory:'} "
                   "(each worker opens the storage itself, so it must be a file or a URL)", workers)
    if "fork" not in multiprocessing.get_all_start_methods():
        raise fail("search", "workers", "1 here: worker processes are forked, which this system cannot do", workers,
                   "Run the same search(...) call in several terminals instead, with the same study and storage.")
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        raise fail("search", "workers", "1 once CUDA is in use in this process (a forked process cannot use it)",
                   workers, "Run the same search(...) call from several scripts, one per GPU.")
