"""Watching a model in production: `DriftMonitor` tests each batch it sees against the data it
was validated on and raises an alarm after ``patience`` drifted batches in a row; `replay`
feeds it a stream of labelled batches and retrains the model when a policy says so (on the
alarm, on a fixed schedule, or never), which is how the chapter measures what a retraining
trigger buys.

>>> import torch
>>> from nbhelpers import MLP
>>> _ = torch.manual_seed(0)
>>> model, ref = MLP(4, 2), torch.randn(600, 4)
>>> stream = [(torch.randn(200, 4) + shift, torch.zeros(200, dtype=torch.long)) for shift in (0, 0, 2, 2, 2)]
>>> history = replay(stream, DriftMonitor(model, ref, patience=2))
>>> history["alarm"].tolist()
[False, False, False, True, True]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .._checks import COUNT, MODEL, AnyOf, Choice, Function, Optional, Real, Satisfies, checked, fail
from .drift import BINS, IMAGES, image_summary, judge_batch

if TYPE_CHECKING:
    import pandas as pd

ALPHA = Real(low=0, high=1, low_open=True, high_open=True)
DETECTORS = ("tests", "psi")


class DriftMonitor:
    """Tests every batch ``check`` is given against ``reference`` (inputs the model was validated
    on) with `drift_table` on `image_summary`'s features, and keeps one row per batch.

    ``detector="tests"``: a batch has drifted when any feature's Holm-corrected p-value is
    below ``alpha``; ``"psi"``: when any feature's PSI is above ``psi_threshold``. The alarm
    sounds after ``patience`` drifted batches in a row (one drifted batch can be chance).
    ``reset`` starts again from a new model and reference, as after retraining.

    >>> import torch
    >>> from nbhelpers import MLP
    >>> _ = torch.manual_seed(0)
    >>> monitor = DriftMonitor(MLP(4, 2), torch.randn(500, 4), patience=1)
    >>> monitor.check(torch.randn(200, 4) + 3)["alarm"]
    True
    """

    @checked(model=MODEL, reference=IMAGES, detector=Choice(*DETECTORS), alpha=ALPHA,
             psi_threshold=Real(low=0, low_open=True), patience=COUNT, bins=BINS)
    def __init__(self, model: nn.Module, reference: torch.Tensor, *, detector: str = "tests", alpha: float = 0.05,
                 psi_threshold: float = 0.25, patience: int = 2, bins: int = 10) -> None:
        self.detector, self.alpha, self.psi_threshold = detector, alpha, psi_threshold
        self.patience, self.bins = int(patience), int(bins)
        self.rows: list[dict] = []
        self.reset(model, reference)

    def reset(self, model: nn.Module, reference: torch.Tensor) -> None:
        """Watch ``model`` against ``reference`` from now on (after retraining): the streak starts at 0."""
        self.model = model
        self.reference = image_summary(model, reference)
        self.streak = 0

    @property
    def history(self) -> pd.DataFrame:
        """One row per checked batch: ``batch``, ``images``, ``accuracy`` (NaN without labels),
        ``smallest_p`` (Holm-corrected), ``largest_psi``, ``drifted_features``, ``drifted``, ``alarm``."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def check(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict:
        """Test batch ``x`` (with its labels ``y``, if known, for the accuracy column); return its row."""
        if not IMAGES.ok(x):
            raise fail("DriftMonitor.check", "x", IMAGES.allowed, x)
        if y is not None and (not isinstance(y, torch.Tensor) or len(y) != len(x)):
            raise fail("DriftMonitor.check", "y", f"a tensor of {len(x)} labels, one per row of x, or None", y)
        judged = judge_batch(self.model, self.reference, x, y, alpha=self.alpha, bins=self.bins,
                             psi_threshold=self.psi_threshold)
        drifted = judged[self.detector]
        self.streak = self.streak + 1 if drifted else 0
        row = {"batch": len(self.rows), "images": len(x), "accuracy": judged["accuracy"],
               "smallest_p": judged["smallest_p"], "largest_psi": judged["largest_psi"],
               "drifted_features": judged[f"{self.detector}_features"], "drifted": drifted,
               "alarm": self.streak >= self.patience}
        self.rows.append(row)
        return row


BATCHES = Satisfies(lambda v: isinstance(v, Iterable) and not isinstance(v, (str, torch.Tensor)),
                    "an iterable of (inputs, labels) batches", bad=["batches", torch.zeros(3)])
POLICY = AnyOf(Choice("alarm", "never"), Real(low=1, integer=True))


@checked(stream=BATCHES, monitor=Satisfies(lambda v: isinstance(v, DriftMonitor), "a DriftMonitor", bad=[3]),
         retrain=Optional(Function("retrain(model, x, y) returning the retrained model")), policy=POLICY,
         window=COUNT)
def replay(stream: Iterable[tuple[torch.Tensor, torch.Tensor]], monitor: DriftMonitor,
           retrain: Callable[[nn.Module, torch.Tensor, torch.Tensor], nn.Module] | None = None, *,
           policy: str | int = "alarm", window: int = 2) -> pd.DataFrame:
    """Feed the labelled batches of ``stream`` to ``monitor`` in order, as a deployed model would
    see them, and retrain when ``policy`` says so: ``"alarm"`` when the monitor's alarm sounds,
    an integer ``k`` every ``k`` batches, ``"never"``. Retraining calls ``retrain(model, x, y)``
    on the last ``window`` batches (their labels are assumed to have arrived by then) and the
    monitor watches the new model against them from the next batch on.

    Returns the monitor's history with ``retrained`` (after this batch) and ``model_version``
    (how many retrainings the model that scored the batch had had). Without ``retrain``, the
    policy is ignored and the run only watches.
    """
    recent: list[tuple[torch.Tensor, torch.Tensor]] = []
    version, flags, versions = 0, [], []
    for i, batch in enumerate(stream):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise fail("replay", "stream", "an iterable of (inputs, labels) batches", f"batch {i}: {type(batch).__name__}")
        x, y = batch
        row = monitor.check(x, y)
        versions.append(version)
        recent = (recent + [(x, y)])[-window:]
        due = row["alarm"] if policy == "alarm" else policy != "never" and (i + 1) % int(policy) == 0
        flags.append(bool(retrain is not None and due))
        if flags[-1]:
            x_new, y_new = torch.cat([b[0] for b in recent]), torch.cat([b[1] for b in recent])
            model = retrain(monitor.model, x_new, y_new)
            if not isinstance(model, nn.Module):
                raise fail("replay", "retrain", "a function that returns the retrained torch.nn.Module", model)
            monitor.reset(model, x_new)
            version += 1
    history = monitor.history.iloc[len(monitor.history) - len(flags):].reset_index(drop=True)
    history["retrained"] = np.array(flags, dtype=bool)
    history["model_version"] = versions
    return history
