"""`threshold_panel`: a slider over the decision threshold of a binary classifier, with the costs of
its two kinds of error as inputs; the confusion matrix, the metrics and the total cost follow.

A thin view over ``evaluation/thresholds.py``: the four outcomes at every threshold are
counted once (`threshold_table`); a move of the slider or a new cost only looks up a row and
redraws. The numbers (``text``) change at once, in the callback; the picture is drawn by a
`LatestWins` worker after ``debounce`` seconds of quiet (0: at once), so a dragged slider
queues one redraw, not one per step.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Sequence

from .._checks import Real, checked
from ..evaluation.report import CLASS_NAMES, LABELS, LOGITS, POSITIVE, SCORES, THRESHOLD
from ..evaluation.thresholds import COST, draw_threshold, least_cost, positive_scores, threshold_table
from ..plots import figure_png
from ._worker import LatestWins


class ThresholdPanel:
    """The widgets of `threshold_panel`: ``threshold`` (a slider), ``cost_fp`` and ``cost_fn``
    (numbers), ``text`` (the counts, metrics and cost, as HTML) and ``image`` (the figure of
    `plot_threshold`). `shown` returns the numbers on display."""

    def __init__(self, scores, y, *, positive, cost_fp, cost_fn, threshold, classes, logits, debounce) -> None:
        import ipywidgets as w

        self.score, self.truth = positive_scores("threshold_panel", scores, y, positive, logits)
        self.counts = threshold_table(self.score, self.truth.astype(int), positive=1)  # every threshold, once
        self.classes, self.positive, self.debounce = classes, positive, debounce
        self.draws, self._lock = 0, threading.Lock()
        self._worker = LatestWins(lambda _: self.draw(), name="nbh-threshold")
        common = dict(style={"description_width": "initial"})
        self.threshold = w.FloatSlider(value=threshold, min=0.0, max=1.0, step=0.01, readout_format=".2f",
                                       description="threshold", continuous_update=True,
                                       layout=w.Layout(width="380px"), **common)
        self.cost_fp = w.BoundedFloatText(value=cost_fp, min=0, max=1e9, step=1, description="cost per false positive",
                                          layout=w.Layout(width="230px"), **common)
        self.cost_fn = w.BoundedFloatText(value=cost_fn, min=0, max=1e9, step=1, description="cost per false negative",
                                          layout=w.Layout(width="230px"), **common)
        self.threshold.add_class("nbh-threshold")
        self.text, self.image = w.HTML(), w.Image(format="png", layout=w.Layout(width="810px", height="306px"))
        for widget in (self.threshold, self.cost_fp, self.cost_fn):
            widget.observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox([self.threshold, self.cost_fp, self.cost_fn]), self.text, self.image])
        self._write()
        self.draw()

    def table(self):
        """The counts at every threshold with the current costs (`threshold_table`'s columns)."""
        table = self.counts.copy()
        table["cost"] = self.cost_fp.value * table["fp"] + self.cost_fn.value * table["fn"]
        return table

    def shown(self) -> dict:
        """What the panel shows now: ``threshold``, ``tp``, ``fp``, ``tn``, ``fn``, ``sensitivity``,
        ``specificity``, ``precision``, ``accuracy``, ``cost``, ``best_threshold``, ``best_cost``."""
        t = float(self.threshold.value)
        flag = self.score >= t
        tp, fp = int((flag & self.truth).sum()), int((flag & ~self.truth).sum())
        fn, tn = int(self.truth.sum()) - tp, int((~self.truth).sum()) - fp
        table = self.table()
        best = least_cost(table, self.cost_fp.value, self.cost_fn.value)
        ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
        return {"threshold": t, "tp": tp, "fp": fp, "tn": tn, "fn": fn, "sensitivity": ratio(tp, tp + fn),
                "specificity": ratio(tn, tn + fp), "precision": ratio(tp, tp + fp),
                "accuracy": (tp + tn) / len(self.truth), "cost": self.cost_fp.value * fp + self.cost_fn.value * fn,
                "best_threshold": best, "best_cost": float(table["cost"].min())}

    def words(self) -> str:
        """`shown` as one line of text."""
        s = self.shown()
        return (f"threshold {s['threshold']:.2f}: TP {s['tp']}, FP {s['fp']}, TN {s['tn']}, FN {s['fn']}; "
                f"sensitivity {s['sensitivity']:.1%}, specificity {s['specificity']:.1%}, precision "
                f"{s['precision']:.1%}, accuracy {s['accuracy']:.1%}; cost {s['fp']} x {self.cost_fp.value:g} + "
                f"{s['fn']} x {self.cost_fn.value:g} = {s['cost']:g} (least {s['best_cost']:g}, at threshold "
                f"{s['best_threshold']:.2f})")

    def _write(self) -> None:
        self.text.value = f"<code>{html.escape(self.words())}</code>"

    def draw(self) -> None:
        """Draw the figure for the current threshold and costs now."""
        with self._lock:
            fig = draw_threshold(self.table(), float(self.threshold.value), self.cost_fp.value, self.cost_fn.value,
                                 self.classes, self.positive)
            self.image.value = figure_png(fig)
            self.draws += 1

    def _changed(self, change=None) -> None:
        self._write()  # the numbers at once: a lookup
        if self.debounce == 0:
            self.draw()
        else:
            self._worker.submit(None, self.debounce)

    def __repr__(self) -> str:
        return self.words()

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        return bundle


@checked(scores=SCORES, y=LABELS, positive=POSITIVE, cost_fp=COST, cost_fn=COST, threshold=THRESHOLD,
         classes=CLASS_NAMES, logits=LOGITS, debounce=Real(low=0))
def threshold_panel(scores, y, *, positive: int | None = None, cost_fp: float = 1.0, cost_fn: float = 1.0,
                    threshold: float = 0.5, classes: Sequence[str] | None = None, logits: bool | None = None,
                    debounce: float = 0.05) -> ThresholdPanel:
    """A slider over the threshold of a binary decision, and the costs of a false positive and of a
    false negative as inputs: the confusion matrix, sensitivity, specificity, precision,
    accuracy and the total cost follow, with the threshold of least cost marked.

    ``scores`` and ``y`` as `classification_metrics` takes them (a model and a split, logits, or
    probabilities); ``positive`` is the class a flag means (1 for a binary task by default).

    >>> import numpy as np
    >>> panel = threshold_panel(np.array([0.1, 0.4, 0.35, 0.8]), [0, 0, 1, 1], cost_fn=5, debounce=0)
    >>> panel.threshold.value = 0.3  # what dragging the slider does
    >>> panel.shown()["cost"], panel.shown()["fp"]
    (1.0, 1)
    """
    return ThresholdPanel(scores, y, positive=positive, cost_fp=cost_fp, cost_fn=cost_fn, threshold=threshold,
                          classes=classes, logits=logits, debounce=debounce)
