"""`explore`: a widget panel over any train function, on the run store that `sweep` fills.

Move a slider and see what a setting does to training: the panel trains in a worker thread
(so Stop and the live curves work while it runs), keeps every run in a table and a plot, and
serves any setting run before from the on-disk cache (`nbhelpers.runs`) at once. `sweep`
fills that cache for a whole grid; ``explore(train, grid=grid)`` then gives sliders that
scrub through exactly the swept values, with no training at all.

`Panel` is the view: it wires the widgets to a `RunStore` (runs and their cache, shared with
`sweep`) and a `LatestWins` worker (`ui/_worker.py`, the thread); `_draw` makes its pictures.

Examples
--------
Any function of keyword arguments works; this one stands in for a call to `fit`:

>>> def train(lr, width=64):
...     return {"valid_accuracy": 0.9 - abs(lr - 0.01) * 10 - 1 / width}
>>> grid = {"lr": [0.001, 0.01], "width": [32, 128]}
>>> from nbhelpers import sweep
>>> sweep(train, grid, progress=False, cache=False)[["lr", "width", "valid_accuracy"]].round(3)
      lr  width  valid_accuracy
0  0.001     32           0.779
1  0.001    128           0.802
2  0.010     32           0.869
3  0.010    128           0.892
>>> panel = explore(train, grid=grid, cache=False)   # in Jupyter, `panel` on its own line shows it
>>> panel.run(lr=0.01, width=128)
{'valid_accuracy': 0.8921875}
>>> print(panel)                                     # what a terminal or nbclient shows
explore(train): 2 controls, 1 run so far (0 from the cache)
  lr    = 0.01      one of 0.001, 0.01
  width = 128       one of 32, 128
best so far: lr=0.01, width=128  valid_accuracy 0.8922
"""

from __future__ import annotations

import difflib
import html
import inspect
import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._checks import FLAG, SEED, Optional, checked, fail
from ..runs import (CACHE_TAG, GRID, NOT_SERVED, TRAIN_FN, CachedResult, RunStore, check_grid, check_names, describe,
                    label, signature_of)
from ..training.callbacks import Callback, StopTraining
from ..training.progress import in_notebook
from ._controls import choices_text, make_control
from ._draw import compare_png, curves_png, headline, pick_metric, placeholder, table_html
from ._worker import LatestWins

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

DEBOUNCE = 0.25      # seconds a slider must rest before an uncached setting starts training
DRAW_EVERY = 0.5     # seconds between live redraws of the curves
WAITING, NOT_RUN = "training starts when the slider rests", "not run yet: press Run"  # curve placeholders


class LiveCurves(Callback):
    """Redraws the panel's curves from ``state.history`` after an epoch, at most every ~0.5 s
    (a run shorter than that is drawn once, when it ends, by the panel)."""

    def __init__(self, draw: Callable[[list], None]):
        self.draw, self.last = draw, time.perf_counter()

    def on_fit_begin(self, state) -> None:
        self.last = time.perf_counter()

    def on_epoch_end(self, state) -> None:
        if state.epoch < state.epochs and time.perf_counter() - self.last >= DRAW_EVERY:
            self.draw(list(state.history))
            self.last = time.perf_counter()


class StopOnEvent(Callback):
    """Ends training at the next batch once ``event`` is set (the panel's Stop button)."""

    def __init__(self, event: threading.Event):
        self.event = event

    def on_batch_end(self, state) -> None:
        if self.event.is_set():
            raise StopTraining("stopped")


class Panel:
    """What `explore` returns: ``controls`` (name -> widget), ``run()``, ``stop()``, ``results``.

    Displayed in Jupyter: the controls, Run / Stop, the learning curves of the current
    setting (live while it trains; titled with the setting and one or two headline numbers),
    a plot of the runs that differ from it only in the first two controls (the others at
    their current values; each point one run, the current one ringed) and a table of every
    run so far (per-class numbers such as ``valid_accuracy[2]`` stay in ``results``). Elsewhere (a
    terminal, nbclient) a text summary; ``run()`` and ``results`` work the same. Slider moves
    train in one worker thread when ``auto_run`` is on (it is in a notebook): the latest
    setting wins, and a setting run before is drawn from the cache at once.

    Also: ``setting`` (the controls' values), ``wait()`` (until the worker is idle),
    ``summary()`` (the text form), ``widget`` (the whole panel, to place in your own layout),
    the widgets it updates (``status``, ``curves``, ``compare``, ``table``; each carries a CSS
    class such as ``nbh-curves``), and ``last_error`` (the last exception of a run).

    The panel is a view over two parts it shares with whatever builds on it: ``store``, the
    `RunStore` that keys, finds, trains and stores runs (as `sweep` does), and ``worker``, the
    `LatestWins` thread that runs the latest setting. The panel only wires widgets to them.
    """

    def __init__(self, train_fn: Callable, controls: dict, *, seed: int | None = None, cache_tag: str | None = None,
                 cache: bool = True, grid: Mapping[str, list] | None = None):
        import ipywidgets as w

        self.controls = controls
        self.store = RunStore(train_fn, seed, cache_tag, cache)
        self.worker = LatestWins(self._execute, name="nbh-explore")
        self.auto_run = in_notebook()  # only a front end sends slider events worth training for
        self.last_error: BaseException | None = None
        self._takes_callbacks = "callbacks" in signature_of("explore", train_fn)[0]
        self._pngs: dict[str, bytes] = {}  # key -> its curves, drawn once
        self._compares: dict[tuple, bytes] = {}  # (setting, metric, finished runs) -> the comparison
        self._ui = threading.Lock()
        self._prefetched = self._quiet = False
        button = w.Layout(width="90px")
        self.run_button = w.Button(description="Run", icon="play", button_style="primary", layout=button)
        self.stop_button = w.Button(description="Stop", icon="stop", layout=button)
        self.status = w.HTML(layout=w.Layout(min_height="28px"))
        self.curves = w.Image(format="png", layout=w.Layout(width="560px", height="250px"))
        self.compare = w.Image(format="png", layout=w.Layout(width="380px", height="250px"))
        self.table = w.HTML(layout=w.Layout(max_height="230px", overflow="auto"))
        wrap = w.Layout(flex_flow="row wrap")
        self.widget = w.VBox([w.HBox(list(controls.values()), layout=wrap),
                              w.HBox([self.run_button, self.stop_button, self.status]),
                              w.HBox([self.curves, self.compare], layout=wrap), self.table])
        for widget, name in ((self.widget, "panel"), (self.run_button, "run"), (self.stop_button, "stop"),
                             (self.status, "status"), (self.curves, "curves"), (self.compare, "compare"),
                             (self.table, "results")):
            widget.add_class(f"nbh-{name}")  # stable hooks for CSS and the browser test
        for widget in controls.values():
            widget.observe(self._on_change, names="value")
        self.run_button.on_click(lambda _: self._on_run_click())
        self.stop_button.on_click(lambda _: self.stop())
        grid = grid or {}
        for values in itertools.product(*grid.values()) if grid and cache else ():  # the swept runs, to compare
            self.store.serve({**self.setting, **dict(zip(grid, values))})
        placeholder(WAITING), placeholder(NOT_RUN)  # drawn now, not during the first slider move
        self._on_change(None)
        if self.store.rows:
            self._write(status=f"{len(self.store.rows)} runs found in the cache: move a slider to scrub through them.")

    @property
    def setting(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: widget.value for name, widget in self.controls.items()}

    @property
    def results(self) -> pd.DataFrame:
        """One row per distinct run: arguments, seed, status, final metrics, seconds, cached."""

        return self.store.table(list(self.controls))

    def run(self, **values: Any):
        """Set the given controls, then run the current setting in this thread (or serve it from
        the cache) and return the result: what ``train_fn`` returned, or a `CachedResult`."""
        for name in values:
            if name not in self.controls:
                close = difflib.get_close_matches(name, list(self.controls), n=1)
                raise fail("Panel.run", name, "one of the controls: " + ", ".join(self.controls), name,
                           f"Did you mean {close[0]!r}?" if close else "")
        self._quiet = True  # setting values from code must not start a second run through the observer
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._quiet = False
        return self.worker.run_now(self.setting)

    def stop(self) -> None:
        """Stop the run in progress at its next batch (it is kept as "stopped"); drop the waiting one."""
        running = self.worker.stop()
        self._write(status=f"stopping {describe(running)} at the next batch..." if running else "nothing is training")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is training or waiting; False if ``timeout`` (seconds) ran out."""
        return self.worker.wait(timeout)

    def record(self, **setting: Any) -> dict | None:
        """The finished run of ``setting`` (controls not given at their current values), from
        memory or the disk cache; None if it has not run."""
        return self.store.find({**self.setting, **setting})

    def summary(self) -> str:
        """The text shown where no widgets can be drawn: the controls, the runs, the best one."""
        rows = list(self.store.rows.values())
        results, n, cached = self.results, len(rows), sum(row["cached"] for row in rows)
        lines = [f"explore({getattr(self.store.train_fn, '__name__', 'train_fn')}): {len(self.controls)} controls, "
                 f"{n} run{'s' * (n != 1)} so far ({cached} from the cache)"]
        width = max((len(name) for name in self.controls), default=0)
        lines += [f"  {name:<{width}} = {label(w.value):<8}  {choices_text(w)}" for name, w in self.controls.items()]
        metric = pick_metric(results, {*self.controls, "seed", "seconds", "cached"})
        done = results[~results["status"].isin(NOT_SERVED)].dropna(subset=[metric]) if metric else []
        if len(done):
            best = done.loc[done[metric].idxmin() if "loss" in metric else done[metric].idxmax()]
            lines.append(f"best so far: {describe({k: best[k] for k in self.controls})}  {metric} {best[metric]:.4f}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.summary()
        if in_notebook() and not self._prefetched and self.store.records:
            self._prefetched = True  # draw the cached runs' curves before the first slider move
            threading.Thread(target=self._prefetch, daemon=True, name="nbh-explore-prefetch").start()
        return bundle

    # Drawing, from any thread. Widget writes go through _write, under one lock.
    def _write(self, key: str | None = None, curves: bytes | None = None, **values: str) -> None:
        """Set widget values in the order given; ``curves`` first, and only if ``key`` is still shown."""
        with self._ui:
            if curves is not None and (key is None or key == self.store.key(self.setting)):
                self.curves.value = curves
            for name, value in values.items():
                getattr(self, name).value = value

    def _png(self, key: str, setting: Mapping, record: dict) -> bytes:
        import pandas as pd

        if key in self._pngs:
            return self._pngs[key]
        png = curves_png(pd.DataFrame.from_records(record["history"]), describe(setting), headline(record["metrics"]))
        if record["status"] not in NOT_SERVED:
            self._pngs[key] = png
        return png

    def _show(self, key: str, setting: Mapping, record: dict, status: str) -> None:
        self._write(key, self._png(key, setting, record), table=self._table_html(), compare=self._compare_png(),
                    status=status)  # status last

    def _compare_png(self, setting: Mapping | None = None) -> bytes:
        """The runs at the other controls' values in ``setting`` (by default the current one), that
        run ringed; drawn once per setting and set of finished runs."""
        names, results, setting = list(self.controls), self.results, setting or self.setting
        metric = pick_metric(results, {*names, "seed", "seconds", "cached"})
        x, hue = next(iter(names), None), names[1] if len(names) > 1 else None
        done = results[~results["status"].isin(NOT_SERVED)] if len(results) else results
        memo = (self.store.key(setting), metric, done.to_json() if len(done) else "")
        if memo not in self._compares:
            if len(self._compares) > 256:
                self._compares.clear()
            self._compares[memo] = compare_png(results, setting, x, hue, metric)
        return self._compares[memo]

    def _table_html(self) -> str:
        columns = [c for c in self.results.columns if c not in ("seed", "cached")]
        return table_html(self.store.rows, columns, self.controls, self.store.key(self.setting))

    def _prefetch(self) -> None:
        for key, record in list(self.store.records.items()):
            setting = {name: record["arguments"].get(name) for name in self.controls}
            self._png(key, setting, record)
            self._compare_png(setting)
        with self._ui:
            if self.status.value.endswith("scrub through them."):
                self.status.value += " All drawn."

    # Events, and the one job the worker (or run()) runs: serve or train a setting.
    def _on_change(self, change) -> None:
        if self._quiet:
            return
        setting = self.setting
        key = self.store.key(setting)
        if (record := self.store.serve(setting)) is not None:  # a finished run: show it now, train nothing
            self.worker.cancel()
            self._show(key, setting, record, f"{describe(setting)}: from the cache")
        elif self.worker.back_to_running(setting):  # nothing else waits: its live curves resume
            self._write(table=self._table_html(), compare=self._compare_png(), status=f"training {describe(setting)}...")
        elif self.auto_run and change is not None:  # written before the worker can start and say "training"
            self._write(key, placeholder(WAITING), table=self._table_html(), compare=self._compare_png(),
                        status=f"next: {describe(setting)}")
            self.worker.submit(setting, DEBOUNCE)
        else:
            self._write(key, placeholder(NOT_RUN), table=self._table_html(), compare=self._compare_png(),
                        status=f"{describe(setting)}: not run yet; press Run")

    def _on_run_click(self) -> None:
        setting = self.setting
        if (record := self.store.find(setting)) is not None:
            self._show(self.store.key(setting), setting, record, f"{describe(setting)}: from the cache")
            return
        self.worker.submit(setting, 0.0)

    def _execute(self, setting: dict):
        try:
            return self._train_or_serve(self.store.key(setting), setting)
        except Exception as error:
            self.last_error = error
            self._write(status=f"<span style='color:#b00'>{html.escape(describe(setting))}: "
                               f"{type(error).__name__}: {html.escape(str(error))} "
                               "(panel.last_error has the traceback)</span>")
            raise

    def _train_or_serve(self, key: str, setting: dict):
        if (record := self.store.serve(setting)) is not None:
            self._show(key, setting, record, f"{describe(setting)}: from the cache")
            return CachedResult.from_record(record)
        self._write(status=f"training {describe(setting)}...")
        callbacks = [LiveCurves(lambda history: self._live(key, setting, history)),
                     StopOnEvent(self.worker.stop_event)] if self._takes_callbacks else None
        result, record = self.store.run(setting, callbacks)
        self._pngs.pop(key, None)
        kept = "; kept what it learned so far" if record["status"] == "stopped" else ""
        self._show(key, setting, record, f"{describe(setting)}: {record['status']} in {record['seconds']:.1f} s{kept}")
        return result

    def _live(self, key: str, setting: dict, history: list[dict]) -> None:
        import pandas as pd

        epoch = history[-1]["epoch"] if history else 0
        self._write(status=f"training {describe(setting)}: epoch {epoch} done")
        if key == self.store.key(self.setting):  # draw only what the reader is looking at
            self._write(key, curves_png(pd.DataFrame(history), describe(setting), f"epoch {epoch} (training)"))


@checked(train_fn=TRAIN_FN, grid=Optional(GRID), seed=SEED, cache_tag=CACHE_TAG, cache=FLAG)
def explore(train_fn: Callable, *, grid: Mapping[str, Sequence] | None = None, seed: int = 0,
            cache_tag: str | None = None, cache: bool = True, **controls: Any) -> Panel:
    """A widget panel over ``train_fn``: controls, Run / Stop, live curves, every run compared.

    Each keyword names a parameter of ``train_fn``; its value is the control:

    - ``(low, high)``: a slider (log scale when ``high / low >= 100``; whole numbers when
      both ends are ints, e.g. ``width=(16, 256)``);
    - a list: a drop-down of those choices;  a bool: a checkbox;  an ipywidget: used as is.

    ``grid`` is a `sweep` grid: each list of numbers becomes a slider that stops on exactly
    those values, so after ``sweep(train_fn, grid)`` every position is served from the
    cache. Sliders start at ``train_fn``'s default where it is in range. (``grid``,
    ``seed``, ``cache_tag`` and ``cache`` are this function's own options, not controls.)

    In a notebook, moving a control to a setting not run before trains it in a worker thread
    once the control has rested for 0.25 s; moves during a run queue nothing but the latest
    setting, which runs next. A setting run before is drawn at once, with no training.

    ``train_fn`` returns a `TrainResult` (curves are drawn from its ``history``) or a dict
    of metrics. If it has a parameter named ``callbacks``, the panel passes its own there:
    live curves every epoch (at most every 0.5 s) and Stop at the next batch. Without it
    the run still works, with no live curves, and Stop takes effect when the run ends. If
    it has a ``seed`` parameter, ``seed`` is passed there. A stopped run is kept in the
    table as "stopped" and never served from the cache as finished.

    Results are cached as JSON by the function's name and source, the arguments, the seed,
    quick mode and ``cache_tag`` (name your data there, e.g. ``"fashion-mnist-subset"``);
    ``cache=False`` turns the cache off. See `nbhelpers.runs`.

    Examples
    --------
    >>> from nbhelpers import MLP, fashion_mnist, fit, seed_everything
    >>> data = fashion_mnist(quick=True)
    >>> def train(lr, width=64, callbacks=(), seed=0):
    ...     seed_everything(seed)              # before building the model: same initial weights
    ...     return fit(MLP(784, 10, width=width), data, epochs=3, lr=lr,
    ...                callbacks=callbacks, progress=False, seed=seed)
    >>> panel = explore(train, lr=(1e-4, 1e-1), width=[32, 64, 128], cache_tag="fashion-mnist-subset")
    >>> type(panel.controls["lr"]).__name__, panel.controls["width"].value
    ('FloatLogSlider', 64)
    >>> panel                                  # shows the panel                      # doctest: +SKIP
    >>> result = panel.run(lr=3e-3)            # trains here, or serves the cache     # doctest: +SKIP
    >>> panel.results                          # one row per distinct run             # doctest: +SKIP
    """
    func = "explore"
    grid = check_grid(func, grid) if grid is not None else {}
    both = sorted(set(grid) & set(controls))
    if both:
        raise fail(func, both[0], "given once: either in `grid` or as a control", controls[both[0]])
    _, takes_seed = check_names(func, train_fn, list(grid) + list(controls))
    params, _ = signature_of(func, train_fn)
    default = lambda name: params[name].default if name in params else inspect.Parameter.empty  # noqa: E731
    widgets = {name: make_control(name, values, default(name), snap=True) for name, values in grid.items()}
    widgets.update({name: make_control(name, spec, default(name)) for name, spec in controls.items()})
    return Panel(train_fn, widgets, seed=int(seed) if takes_seed else None, cache_tag=cache_tag, cache=bool(cache),
                 grid=grid)
