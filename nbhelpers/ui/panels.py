"""Widget panels built on the techniques: `preview_panel` (augmentations) and `gap_panel` (regularization).

Each panel is a thin view: the technique module computes (`preview`, `gap_scores`,
`plot_gap`), `explore`'s run store trains and caches, the `LatestWins` worker runs the latest
request in a thread, and the panel only lays out widgets and redraws.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .._checks import COUNT, SEED, Instance, Optional, Real, checked, fail
from ..augment.base import FILL_MODES, MEAN_STD
from ..augment.compose import pipeline
from ..augment.pictures import IMAGES, preview
from ..data.datasets import FASHION_MEAN_STD
from ..plots import figure_png
from ..regularize import gap_table, plot_gap
from ..runs import CACHE_TAG, GRID, TRAIN_FN
from ._worker import LatestWins
from .panel import Panel, explore

PANEL_SLIDERS = {  # keyword: (low, high, step, start); integer steps give an IntSlider
    "rotate": (0, 45, 1, 15), "shift": (0.0, 0.3, 0.01, 0.1), "shear": (0, 45, 1, 10),
    "zoom": (0.0, 0.5, 0.01, 0.1), "crop": (0, 6, 1, 2), "elastic": (0, 80, 1, 34),
    "equalize": (0.0, 1.0, 0.05, 1.0), "clahe": (0.5, 8.0, 0.1, 2.0), "brightness": (0.0, 0.9, 0.05, 0.3),
    "contrast": (0.0, 0.9, 0.05, 0.3), "noise": (0.0, 0.5, 0.01, 0.1), "erase": (0.0, 1.0, 0.05, 0.5),
    "mixup": (0.0, 2.0, 0.05, 0.4), "cutmix": (0.0, 2.0, 0.05, 1.0),
}


class PreviewPanel:
    """The widget panel of `preview_panel`: ``controls``, ``image`` (the grid PNG), ``code``.

    ``controls[name]`` is ``(checkbox, slider)`` for each transform (slider None for the
    flips), ``fill_mode`` a drop-down; changing any of them redraws after ``debounce``
    seconds of quiet (0: at once), in a `LatestWins` worker thread, so a slider dragged
    during a redraw queues one more redraw, not one per step. ``code`` shows the `pipeline`
    call behind the grid.
    """

    def __init__(self, x: torch.Tensor, *, mean_std, n: int, versions: int, seed: int, debounce: float) -> None:
        import ipywidgets as w

        self.x, self.mean_std, self.n, self.versions = x, mean_std, n, versions
        self.seed, self.debounce = seed, debounce
        self.draws, self._lock = 0, threading.Lock()  # redraw() runs in the worker and from code
        self._worker = LatestWins(lambda _: self.redraw(), name="nbh-preview")
        self.controls: dict = {"hflip": (w.Checkbox(False, description="hflip"), None),
                               "vflip": (w.Checkbox(False, description="vflip"), None)}
        for key, (low, high, step, start) in PANEL_SLIDERS.items():
            kind = w.IntSlider if isinstance(step, int) else w.FloatSlider
            self.controls[key] = (w.Checkbox(False, description=key), kind(start, min=low, max=high, step=step))
        self.fill_mode = w.Dropdown(options=FILL_MODES, value="constant", description="fill_mode")
        self.image, self.code = w.Image(format="png"), w.HTML()
        new_draw = w.Button(description="new random draws")
        new_draw.on_click(self._new_seed)
        for widget in [self.fill_mode, *(v for pair in self.controls.values() for v in pair if v is not None)]:
            widget.observe(self._changed, names="value")
        rows = [w.HBox([box] if slider is None else [box, slider]) for box, slider in self.controls.values()]
        left = w.VBox(rows + [self.fill_mode, new_draw], layout=w.Layout(min_width="420px"))
        self.widget = w.VBox([w.HBox([left, self.image]), self.code])
        self.redraw()

    def keywords(self) -> dict:
        """The `pipeline` keywords the controls select now."""
        chosen = {key: True if slider is None else slider.value
                  for key, (box, slider) in self.controls.items() if box.value}  # fmt: skip
        return {**chosen, "fill_mode": self.fill_mode.value}

    def redraw(self) -> None:
        """Draw the grid for the current controls now."""
        with self._lock:
            keywords = self.keywords()
            try:
                fig = preview(self.x, pipeline(**keywords, mean_std=self.mean_std), n=self.n, versions=self.versions,
                              mean_std=self.mean_std, seed=self.seed)
                self.image.value = figure_png(fig)
                args = ", ".join(f"{k}={v!r}" for k, v in keywords.items() if k != "fill_mode" or v != "constant")
                self.code.value = f"<code>pipeline({args})</code>"
            except Exception as error:  # shown in the panel: the worker thread has nowhere else to report
                self.code.value = f"<b>error:</b> {html.escape(f'{type(error).__name__}: {error}')}"
            self.draws += 1

    def _changed(self, change=None) -> None:
        if self.debounce == 0:
            self.redraw()
            return
        self._worker.submit(None, self.debounce)  # replaces a waiting redraw: moving a slider queues no backlog

    def _new_seed(self, _button=None) -> None:
        self.seed += 1
        self._changed()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


@checked(x=IMAGES, mean_std=MEAN_STD, n=COUNT, versions=COUNT, seed=SEED, debounce=Real(low=0))
def preview_panel(x: torch.Tensor, *, mean_std=FASHION_MEAN_STD, n: int = 8, versions: int = 3, seed: int = 0,
                  debounce: float = 0.25) -> PreviewPanel:
    """An ipywidgets panel: tick transforms, move their strengths, see the `preview` grid redrawn.

    >>> import torch
    >>> panel = preview_panel(torch.rand(4, 1, 28, 28), mean_std=None, n=4, debounce=0)
    >>> panel.controls["rotate"][0].value = True  # what a click on the checkbox does
    >>> panel.code.value
    '<code>pipeline(rotate=15)</code>'
    """
    return PreviewPanel(x, mean_std=mean_std, n=n, versions=versions, seed=seed, debounce=debounce)


class GapPanel:
    """`explore`'s panel over a train function that returns `gap_scores`, plus the gap drawn.

    Under the panel: train minus valid accuracy per epoch for the current setting, next to
    the same for ``baseline`` (the setting with regularization off), from the cache. Two
    gaps, each named where it is shown: the lines are the gap as trained (the training
    accuracy `fit` records on its batches, dropout on); the diamonds and the first number
    of each title line are the gap in eval mode (`gap_scores`' ``gap``: the whole training
    set, dropout off, the weights returned), the honest generalization gap. ``panel`` is
    the `explore` panel (``run``, ``results``, ``controls``...).
    """

    def __init__(self, panel: Panel, baseline: Mapping[str, Any]):
        import ipywidgets as w

        self.panel, self.baseline = panel, dict(baseline)
        self.image = w.Image(format="png", layout=w.Layout(width="600px", height="340px"))
        self.image.add_class("nbh-gap")
        self.widget = w.VBox([panel.widget, self.image])
        panel.status.observe(lambda _: self.draw(), names="value")  # scrubbed, or a run finished
        self.draw()

    def figure(self):
        """The gap figure of the current setting (and the baseline); None until the setting has run."""
        gaps = self.final_gaps()
        if gaps["this setting"] is None:
            return None
        found = {name: gap["history"] for name, gap in gaps.items() if gap is not None}
        eval_gaps = {name: (gap["weights_epoch"], gap["eval"]) for name, gap in gaps.items()
                     if gap is not None and gap["eval"] is not None}
        return plot_gap(found, title="\n".join(self.lines(gaps)), eval_gaps=eval_gaps or None)

    def draw(self) -> None:
        """Redraw the gap of the current setting (and the baseline), if it has run."""
        fig = self.figure()
        if fig is not None:
            self.image.value = figure_png(fig)

    def final_gaps(self) -> dict[str, dict | None]:
        """``{"this setting": ..., "no regularization": ...}``, each None (not run) or a dict:
        ``eval`` (`gap_scores`' gap, eval mode; None if not recorded) at ``weights_epoch``,
        ``trained`` (the gap as trained, the last point of its line) at ``epoch``, ``history``."""
        runs = {"this setting": self.panel.record(), "no regularization": self.panel.record(**self.baseline)}
        out: dict[str, dict | None] = {}
        for name, record in runs.items():
            history = _history(record)
            if history is None:
                out[name] = None
                continue
            curve = gap_table(history)
            epoch = int(curve["epoch"].iloc[-1])
            eval_gap = record["metrics"].get("gap")
            out[name] = {"eval": eval_gap, "weights_epoch": int(record["metrics"].get("weights_epoch") or epoch),
                         "trained": float(curve["gap"].iloc[-1]), "epoch": epoch, "history": history}
        return out

    @staticmethod
    def lines(gaps: Mapping[str, dict | None]) -> list[str]:
        """One line of words per run: its gap in eval mode and as trained, each with its epoch."""
        out = []
        for name, gap in gaps.items():
            if gap is None:
                out.append(f"{name}: not run")
                continue
            trained = f"{gap['trained'] * 100:.1f} as trained"
            if gap["eval"] is None:
                out.append(f"{name}, epoch {gap['epoch']}: {trained} (no eval-mode gap recorded)")
            elif gap["weights_epoch"] == gap["epoch"]:
                out.append(f"{name}, epoch {gap['epoch']}: {gap['eval'] * 100:.1f} points in eval mode, {trained}")
            else:
                out.append(f"{name}: {gap['eval'] * 100:.1f} points in eval mode (weights of epoch "
                           f"{gap['weights_epoch']}), {trained} (epoch {gap['epoch']})")
        return out

    def text(self) -> str:
        """The final gaps, as words (the lines shown under the panel where no widgets can be drawn)."""
        lines = self.lines(self.final_gaps())
        return "gap, train - valid accuracy, at the end:\n" + "\n".join(f"  {line}" for line in lines)

    def __repr__(self) -> str:
        return f"{self.panel.summary()}\n{self.text()}"

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        return bundle


def _history(record: dict | None):
    """The history of a finished run as a DataFrame, or None when it has no train and valid rows."""
    import pandas as pd

    if record is None or not record.get("history"):
        return None
    history = pd.DataFrame.from_records(record["history"])
    ok = {"epoch", "split", "accuracy"} <= set(history.columns) and {"train", "valid"} <= set(history["split"])
    return history if ok else None


@checked(train_fn=TRAIN_FN, grid=GRID, baseline=Optional(Instance(Mapping, "a dict of control name -> value")),
         seed=SEED, cache_tag=CACHE_TAG)
def gap_panel(train_fn: Callable, grid: Mapping[str, Sequence], *, baseline: Mapping[str, Any] | None = None,
              seed: int = 0, cache_tag: str | None = None) -> GapPanel:
    """`explore` ``train_fn`` over ``grid`` (after `sweep` filled the cache), with the gap plotted.

    ``baseline`` is the setting to compare with, by default the first value of every control
    of ``grid`` (list 0 first to make that "no regularization").

    >>> from nbhelpers import MLP, fit, gap_scores
    >>> import torch
    >>> x, y = torch.randn(64, 4), torch.arange(64) % 2
    >>> def train(dropout=0.0, seed=0):
    ...     result = fit(MLP(4, 2, width=8, dropout=dropout), ((x, y), (x, y)), epochs=2, lr=1e-2, progress=False)
    ...     return gap_scores(result, (x, y), (x, y))
    >>> panel = gap_panel(train, {"dropout": [0.0, 0.5]})
    >>> panel.baseline
    {'dropout': 0.0}
    """
    base = {name: list(values)[0] for name, values in grid.items() if len(list(values))}
    if baseline is not None:
        unknown = [name for name in baseline if name not in grid]
        if unknown:
            raise fail("gap_panel", "baseline", "a dict whose keys are controls of `grid`: " + ", ".join(grid),
                       unknown[0])
        base.update(baseline)
    return GapPanel(explore(train_fn, grid=grid, seed=seed, cache_tag=cache_tag), base)
