"""The learning-rate finder (Smith 2017, as in fastai's ``lr_find``): a `fit` callback and a function.

`lr_find` trains a copy of the model for at most ``steps`` batches while the learning
rate grows exponentially from ``start`` to ``end``, records the loss of each batch and its
smoothed value, and stops when the smoothed loss passes ``diverge`` (4) times its minimum.
The curve comes back with three suggestions, computed as fastai 2.8 computes them (on the
smoothed losses, leaving out the first tenth of the steps and the last five):

- ``valley`` (fastai's default): the longest run of decreasing losses, and the point
  about half-way down it;
- ``steep``: where the loss falls fastest per factor of learning rate;
- ``minimum``: the learning rate at the lowest loss, divided by 10.

Examples
--------
>>> import torch
>>> x = torch.randn(512, 4); y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
>>> found = lr_find(torch.nn.Linear(4, 1), (x, y), loss="mse", optimizer="sgd", steps=60, seed=0)
>>> sorted(found.suggestions), list(found.curve.columns)
(['minimum', 'steep', 'valley'], ['lr', 'loss', 'smoothed'])
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .._checks import COUNT, LEARNING_RATE, MODEL, Real, checked, fail
from ..data.loader import split_data
from .callbacks import Callback, StopTraining, TrainState
from .fit_arguments import FIT_ARGUMENTS
from .loop import fit

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure

RULES = ("valley", "steep", "minimum")
SMOOTH = Real(low=0, high=1, high_open=True)
DIVERGE = Real(low=1, low_open=True)
STEPS = Real(low=6, integer=True)  # fastai's least; fewer leave nothing to suggest from


class LRFinder(Callback):
    """A `fit` callback that raises the learning rate exponentially every batch and stops on divergence.

    Batch ``i`` (from 0) trains at ``start * (end / start) ** (i / steps)``; parameter groups
    keep their ratios to the optimizer's ``lr``. After each batch the loss is read (one
    device sync a batch: the finder must stop on the batch the loss explodes) and smoothed
    with an exponential moving average (``smooth``, bias-corrected as in fastai). Training
    stops after ``steps`` batches, or when the smoothed loss exceeds ``diverge`` times its
    minimum or is not finite. It changes the model it trains: `lr_find` gives it a copy.

    >>> finder = LRFinder(start=1e-4, end=1.0, steps=40)
    >>> [round(finder.lr_at(i), 6) for i in (0, 10, 20, 30)]
    [0.0001, 0.001, 0.01, 0.1]
    """

    @checked(start=LEARNING_RATE, end=LEARNING_RATE, steps=STEPS, smooth=SMOOTH, diverge=DIVERGE)
    def __init__(self, start: float = 1e-7, end: float = 10.0, steps: int = 100, smooth: float = 0.98,
                 diverge: float = 4.0):
        if end <= start:
            raise fail("LRFinder", "end", f"a learning rate above `start` ({start:g})", end)
        self.start, self.end, self.steps, self.smooth, self.diverge = start, end, int(steps), smooth, diverge
        self.reset()

    def reset(self) -> None:
        """Forget an earlier run (`fit` calls this when it starts)."""
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.stop_reason = "not run"
        self._average, self._best, self._ratios = 0.0, math.inf, [1.0]

    def lr_at(self, i: int) -> float:
        """The learning rate of batch ``i`` (from 0)."""
        return self.start * (self.end / self.start) ** (i / self.steps)

    def on_fit_begin(self, state: TrainState) -> None:
        base = state.optimizer.defaults["lr"]
        self._ratios = [group["lr"] / base for group in state.optimizer.param_groups]

    def on_batch_begin(self, state: TrainState) -> None:
        lr = self.lr_at(len(self.lrs))
        for group, ratio in zip(state.optimizer.param_groups, self._ratios):
            group["lr"] = lr * ratio

    def on_batch_end(self, state: TrainState) -> None:
        loss = float(state.loss.detach())  # the one sync of the batch
        self.lrs.append(self.lr_at(len(self.lrs)))
        self.losses.append(loss)
        self._average = self.smooth * self._average + (1 - self.smooth) * loss
        smoothed = self._average / (1 - self.smooth ** len(self.losses))
        self.smoothed.append(smoothed)
        self._best = min(self._best, smoothed)
        if not math.isfinite(smoothed) or smoothed > self.diverge * self._best:
            self.stop_reason = "diverged"
            raise StopTraining(f"lr finder: the loss diverged at lr={self.lrs[-1]:.3g}")
        if len(self.lrs) >= self.steps:
            self.stop_reason = "completed"
            raise StopTraining("lr finder: all steps done")

    def result(self) -> LRFinderResult:
        """The curve and the suggestions of the last run."""
        import pandas as pd

        curve = pd.DataFrame({"lr": self.lrs, "loss": self.losses, "smoothed": self.smoothed})
        return LRFinderResult(curve=curve, suggestions=suggest(self.lrs, self.smoothed, self.steps),
                              stop_reason=self.stop_reason)


def suggest(lrs: list[float], smoothed: list[float], steps: int) -> dict[str, float]:
    """fastai's ``valley``, ``steep`` and ``minimum`` rules on the smoothed curve (NaN when too short)."""
    lr, loss = np.asarray(lrs, dtype=float)[steps // 10:-5], np.asarray(smoothed, dtype=float)[steps // 10:-5]
    bad = ~np.isfinite(loss)
    if bad.any():  # the curve ends at its first NaN or infinity
        lr, loss = lr[:int(np.argmax(bad))], loss[:int(np.argmax(bad))]
    if len(loss) < 3:
        return dict.fromkeys(RULES, math.nan)
    slopes = np.diff(loss) / np.diff(np.log(lr))
    return {"valley": float(lr[_valley(loss)]), "steep": float(lr[int(np.argmin(slopes))]),
            "minimum": float(lr[int(np.argmin(loss))]) / 10}


def _valley(loss: np.ndarray) -> int:
    """fastai's valley: the longest decreasing subsequence, and a point 1/2 of the way down it."""
    n = len(loss)
    length = [1] * n
    end = 0
    for i in range(1, n):
        for j in range(i):
            if loss[i] < loss[j] and length[i] < length[j] + 1:
                length[i] = length[j] + 1
        if length[end] < length[i]:
            end = i
    start = end - length[end]
    sections = (end - start) / 3
    return max(0, start + int(sections) + int(sections / 2))


@dataclass
class LRFinderResult:
    """What `lr_find` returns: the ``curve`` (lr, loss, smoothed per batch) and the ``suggestions``."""

    curve: pd.DataFrame
    suggestions: dict[str, float]
    stop_reason: str

    @property
    def suggestion(self) -> float:
        """The ``valley`` rule's learning rate (fastai's default)."""
        return self.suggestions["valley"]

    def __repr__(self) -> str:
        rules = ", ".join(f"{name} {lr:.2g}" for name, lr in self.suggestions.items())
        return f"LRFinderResult({len(self.curve)} batches, {self.stop_reason}; suggestions: {rules})"

    def plot(self) -> Figure:
        """The smoothed loss against the learning rate (log scale), each suggestion marked."""
        import matplotlib

        from ..plots._figure import Figure

        curve = self.curve
        with matplotlib.rc_context({"figure.dpi": 100}):
            fig = Figure(figsize=(5.5, 3.4), layout="constrained")
            ax = fig.add_subplot()
            ax.plot(curve["lr"], curve["loss"], color="0.8", lw=0.8, label="loss per batch")
            ax.plot(curve["lr"], curve["smoothed"], color="#1f77b4", lw=1.8, label="smoothed")
            finite = curve["smoothed"][np.isfinite(curve["smoothed"])]
            if len(finite):
                low, high = float(finite.min()), float(finite.iloc[:max(1, len(finite) // 10)].max())
                ax.set_ylim(low - 0.1 * abs(high - low) - 1e-12, high + 0.5 * abs(high - low) + 1e-12)
            for (name, lr), color in zip(self.suggestions.items(), ("#d62728", "#2ca02c", "#9467bd")):
                if math.isfinite(lr):
                    y = float(np.interp(math.log(lr), np.log(curve["lr"]), curve["smoothed"]))
                    ax.plot([lr], [y], "o", color=color, ms=7, label=f"{name}: {lr:.2g}")
            ax.set_xscale("log")
            ax.set_xlabel("learning rate")
            ax.set_ylabel("training loss")
            ax.legend(fontsize=8)
        return fig


@checked(model=MODEL, data=FIT_ARGUMENTS["data"], start=LEARNING_RATE, end=LEARNING_RATE, steps=STEPS,
         optimizer=FIT_ARGUMENTS["optimizer"], loss=FIT_ARGUMENTS["loss"], weight_decay=Real(low=0),
         param_groups=FIT_ARGUMENTS["param_groups"], batch_size=COUNT, smooth=SMOOTH, diverge=DIVERGE,
         seed=FIT_ARGUMENTS["seed"], device=FIT_ARGUMENTS["device"])
def lr_find(model: nn.Module, data, *, start: float = 1e-7, end: float = 10.0, steps: int = 100,
            optimizer="adam", loss="cross_entropy", weight_decay: float = 0.0, param_groups=None,
            batch_size: int = 128, smooth: float = 0.98, diverge: float = 4.0, seed: int | None = None,
            device=None) -> LRFinderResult:
    """Try learning rates from ``start`` to ``end`` on a copy of ``model``; return the curve and suggestions.

    ``data``, ``optimizer``, ``loss``, ``weight_decay``, ``param_groups`` and ``batch_size``
    are `fit`'s; only the training split is used. ``model`` is copied, so it keeps its
    weights (and the random state is put back as it was): train it afterwards with
    ``fit(model, data, lr=found.suggestion, ...)``. The finder stops early when the
    smoothed loss passes ``diverge`` times its minimum. ``.plot()`` draws the curve.
    """
    if end <= start:
        raise fail("lr_find", "end", f"a learning rate above `start` ({start:g})", end)
    train, _ = split_data("lr_find", "data", data)
    finder = LRFinder(start=start, end=end, steps=steps, smooth=smooth, diverge=diverge)
    with _random_state_kept():
        # Epochs hold at least one batch each, so `steps` epochs are enough; the finder stops the fit.
        fit(copy.deepcopy(model), (train, None), epochs=int(steps), lr=start, optimizer=optimizer,
            param_groups=param_groups, loss=loss, weight_decay=weight_decay, batch_size=batch_size,
            callbacks=[finder], progress=False, seed=seed, device=device)
    return finder.result()


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """Put Python's, NumPy's and torch's random state back as they were (`fit` reseeds them)."""
    state = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
             torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
    try:
        yield
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
        torch.set_rng_state(state[2])
        if state[3] is not None:
            torch.cuda.set_rng_state_all(state[3])
