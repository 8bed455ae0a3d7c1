"""`search_panel`: pick a strategy, a pruner and a budget, press Run, watch the history fill in.

A thin view over `search`: each press runs a study kept for that strategy and pruner (in
memory unless ``storage`` is given) one trial at a time, in a `LatestWins` worker thread,
and redraws `plot_history` after every trial. Pressing Run again with a larger budget
continues the same study (finished trials are never run again); Stop ends the search inside
the trial in progress when the train function takes ``callbacks`` (that trial runs again on the
next Run), else after it. No training code here: `search` trains, `plot_history` draws.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .._checks import COUNT, SEED, Choice, checked
from ..hpo.figures import plot_history
from ..hpo.optimize import METRIC, SPACE, search
from ..hpo.results import trials_table
from ..hpo.space import Range, check_space
from ..hpo.storage import STORAGE, open_storage
from ..hpo.strategies import PRUNERS, STRATEGIES
from ..plots import figure_png
from ..runs import TRAIN_FN, check_names
from ._worker import LatestWins
from .panel import StopOnEvent


class SearchPanel:
    """The widget panel of `search_panel`: ``strategy``, ``pruner``, ``trials``, ``x`` (the
    controls), ``run_button``, ``stop_button``, ``image`` (the history PNG), ``status``.

    ``run()`` searches with the current controls in this thread and returns the study;
    ``start()`` (the Run button) does it in the worker thread, ``stop()`` ends it (inside the
    trial in progress when ``train_fn`` passes ``callbacks`` on to `fit`, else after it). ``studies`` holds every study run so far, by ``(strategy, pruner)``.
    """

    def __init__(self, train_fn: Callable, space: Mapping[str, Any], *, strategies: list[str], pruners: list,
                 takes_callbacks: bool, trials: int, metric: str, seed: int, storage: Any, x: str) -> None:
        import ipywidgets as w

        self.train_fn, self.space, self.metric, self.seed = train_fn, space, metric, seed
        self.storage = open_storage(storage if storage is not None else ":memory:")
        self.studies: dict[tuple, Any] = {}
        self.draws, self.last_error, self._lock = 0, None, threading.Lock()
        self._worker = LatestWins(self._search, name="nbh-search")
        self._stop_inside = [StopOnEvent(self._worker.stop_event)] if takes_callbacks else None
        wide = dict(style={"description_width": "initial"}, layout=w.Layout(width="300px"))
        self.strategy = w.Dropdown(options=strategies, value="tpe" if "tpe" in strategies else strategies[0],
                                   description="strategy", **wide)
        self.pruner = w.Dropdown(options=[("none", None), *((p, p) for p in pruners)], value=None,
                                 description="pruner", **wide)
        self.trials = w.IntSlider(value=trials, min=1, max=max(3 * trials, 30), description="trials",
                                  continuous_update=False, **wide)
        self.x = w.ToggleButtons(options=[("by trial", "trial"), ("by epochs spent", "epochs")], value=x)
        self.run_button = w.Button(description="Run", icon="play", button_style="primary")
        self.stop_button = w.Button(description="Stop", icon="stop")
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.x.observe(lambda _: self.draw(), names="value")
        self.image, self.status = w.Image(format="png"), w.HTML("press Run")
        controls = w.VBox([self.strategy, self.pruner, self.trials, self.x,
                           w.HBox([self.run_button, self.stop_button])])
        self.widget = w.VBox([w.HBox([controls, self.image]), self.status])

    def choice(self) -> tuple[str, str | None, int]:
        """``(strategy, pruner, trials)`` as the controls say now."""
        return self.strategy.value, self.pruner.value, int(self.trials.value)

    def run(self) -> Any:
        """Search with the current controls in this thread (after any search in progress); return the study."""
        return self._worker.run_now(self.choice())

    def start(self) -> None:
        """Search with the current controls in the worker thread (what Run does)."""
        self._worker.submit(self.choice())

    def stop(self) -> None:
        """End the search in progress (what Stop does): inside its current trial if it can, else after it."""
        if self._worker.stop() is not None:
            self._write("stopping the trial in progress..." if self._stop_inside else
                        "stopping after the trial in progress...")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker is idle; False if ``timeout`` seconds ran out first."""
        return self._worker.wait(timeout)

    def _search(self, choice: tuple[str, str | None, int]) -> Any:
        strategy, pruner, trials = choice
        label = strategy + (f" + {pruner}" if pruner else "")
        study = self.studies.get((strategy, pruner))
        done = 0 if study is None else len(trials_table(study))
        try:
            for target in range(done + 1, trials + 1):  # one trial per call: the picture after each
                if self._worker.stop_event.is_set():
                    break
                try:
                    study = search(self.train_fn, self.space, strategy=strategy, pruner=pruner, trials=target,
                                   metric=self.metric, study=f"panel {label}", storage=self.storage, seed=self.seed,
                                   callbacks=self._stop_inside, progress=False)
                except KeyboardInterrupt:  # Stop inside a trial: search keeps the finished ones and ends
                    if not self._worker.stop_event.is_set():
                        raise
                    self._write(f"{label}: stopped in trial {target}; Run again continues (that trial runs again)")
                    break
                self.studies[(strategy, pruner)] = study
                self.draw()
            if study is None and not self._worker.stop_event.is_set():
                self._write(f"{label}: nothing to run")
            return study
        except Exception as error:  # shown in the panel: the worker thread has nowhere else to report
            self.last_error = error
            self._write(f"<b>error:</b> {html.escape(f'{type(error).__name__}: {error}')}")
            raise

    def draw(self) -> None:
        """Redraw the history of the study the controls select, with a line of words under it."""
        with self._lock:
            study = self.studies.get((self.strategy.value, self.pruner.value))
            if study is None:
                return
            self.image.value = figure_png(plot_history(study, x=self.x.value, title=self.label()))
            self.draws += 1
            self._write(self.summary())

    def label(self) -> str:
        return self.strategy.value + (f" + {self.pruner.value}" if self.pruner.value else "")

    def summary(self) -> str:
        """``tpe + median: 12 trials (3 pruned), 86 epochs, best valid_accuracy 0.8421 (trial 9)``."""
        study = self.studies.get((self.strategy.value, self.pruner.value))
        if study is None:
            return f"{self.label()}: not run"
        table = trials_table(study)
        complete = table[table["state"] == "complete"]
        best = "no complete trial yet" if complete.empty else (
            f"best {self.metric} {study.best_value:.4g} (trial {study.best_trial.number})")
        pruned = int((table["state"] == "pruned").sum())
        return (f"{self.label()}: {len(table)} trials ({pruned} pruned), {int(table['epochs'].fillna(0).sum())} "
                f"epochs, {best}")

    def _write(self, text: str) -> None:
        self.status.value = text

    def __repr__(self) -> str:
        return "search_panel: " + "; ".join(f"{s}{' + ' + p if p else ''}" for s, p in self.studies) + \
            (f"\n{self.summary()}" if self.studies else " (nothing run yet)")

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        return bundle


@checked(train_fn=TRAIN_FN, space=SPACE, trials=COUNT, metric=METRIC, seed=SEED, storage=STORAGE,
         x=Choice("trial", "epochs"))
def search_panel(train_fn: Callable, space: Mapping[str, Any], *, trials: int = 20, metric: str = "valid_accuracy",
                 seed: int = 0, storage: Any = None, x: str = "trial") -> SearchPanel:
    """A panel over `search`: choose the strategy, the pruner and the number of trials, press
    Run and see the optimization history redrawn after every trial (by trial, or by epochs
    spent: the cost). Studies live in memory unless ``storage`` names one (see `search`).
    Grid search is offered when every entry of ``space`` is a list, pruners when ``train_fn``
    takes ``callbacks``.

    >>> from nbhelpers import log_uniform
    >>> def train(lr, width=8):
    ...     return {"valid_accuracy": 1 - abs(lr - 0.01) + width / 1000}
    >>> panel = search_panel(train, {"lr": log_uniform(1e-4, 1e-1)}, trials=5)
    >>> panel.strategy.value = "random"       # what picking it in the drop-down does
    >>> len(trials_table(panel.run())), panel.draws
    (5, 5)
    """
    space = check_space("search_panel", space)
    takes_callbacks, _ = check_names("search_panel", train_fn, list(space), "space", "search")
    grid = all(not isinstance(values, Range) for values in space.values())
    strategies = [s for s in STRATEGIES if grid or s != "grid"]
    return SearchPanel(train_fn, space, strategies=strategies, pruners=list(PRUNERS) if takes_callbacks else [],
                       takes_callbacks=takes_callbacks, trials=trials, metric=metric, seed=seed, storage=storage, x=x)
