"""Drift on purpose: batches drawn from a labelled set with a drift applied, to measure what a
drift does to a model's accuracy and how often a detector notices it (`drift_trials`), and a
stream that turns drifted at a given batch (`drifting_stream`), which `replay` plays.

A drift is what the chapter can make happen: a callable on a batch of images (any of the
course's augmentations with a fixed strength, e.g. ``Brightness((0.6, 0.6))``, is one: called
as ``drift(x, generator=g)``), or a `LabelShift`, which changes which classes the batches hold,
not their pixels.

>>> import torch
>>> from nbhelpers import MLP
>>> _ = torch.manual_seed(0)
>>> x, y = torch.randn(1000, 4), torch.arange(1000) % 2
>>> rows = drift_trials(MLP(4, 2), x[:300], x[300:], y[300:], drifts={"none": None, "shifted": lambda b, generator: b + 1},
...                     batch_size=100, batches=5)
>>> len(rows), float(rows.groupby("drift")["tests"].mean()["shifted"])  # "none" is flagged now and then, by chance
(10, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .._checks import COUNT, FRACTION, MODEL, SEED, Real, Satisfies, checked, fail
from .drift import IMAGES, image_summary, judge_batch

if TYPE_CHECKING:
    import pandas as pd


class LabelShift:
    """A drift in the mix of classes: each batch draws ``share`` of its images from ``classes``
    and the rest from all classes, so the listed classes become that much more common. The
    images themselves do not change.

    >>> LabelShift([0, 2], share=0.9)
    LabelShift(classes=[0, 2], share=0.9)
    """

    @checked(classes=Satisfies(lambda v: isinstance(v, (list, tuple)) and len(v) > 0
                               and all(isinstance(c, int) and c >= 0 for c in v), "a non-empty list of class numbers",
                               bad=[[], "0", [-1]]),
             share=FRACTION)
    def __init__(self, classes: Sequence[int], share: float = 0.8) -> None:
        self.classes, self.share = list(classes), float(share)

    def draw(self, y: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
        """Row numbers of a batch of ``size`` from labels ``y``."""
        listed = torch.isin(y, torch.tensor(self.classes)).nonzero().flatten()
        if len(listed) == 0:
            raise fail("LabelShift", "classes", f"classes present in the labels ({sorted(y.unique().tolist())})",
                       self.classes)
        some = round(self.share * size)
        picked = listed[torch.randint(len(listed), (some,), generator=generator)]
        rest = torch.randperm(len(y), generator=generator)[:size - some]
        return torch.cat([picked, rest])

    def __repr__(self) -> str:
        return f"LabelShift(classes={self.classes}, share={self.share:g})"


def _is_drift(v: Any) -> bool:
    return v is None or isinstance(v, LabelShift) or callable(v)


DRIFTS = Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0 and all(map(_is_drift, v.values())),
                   "a dict {name: drift}, each a callable on a batch of images, a LabelShift or None (no drift)",
                   bad=[{}, {"a": 3}, "darker"])
DRIFT = Satisfies(_is_drift, "a callable on a batch of images, a LabelShift or None", bad=[3, "darker"])
LABELS = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 1 and len(v) > 0, "a 1-D tensor of labels",
                   bad=["y", [0, 1]])


def _batch(x: torch.Tensor, y: torch.Tensor, drift, size: int, generator: torch.Generator):
    """One batch of ``size`` drawn from ``(x, y)`` with ``drift`` applied."""
    rows = drift.draw(y, size, generator) if isinstance(drift, LabelShift) else \
        torch.randperm(len(y), generator=generator)[:size]
    xb, yb = x[rows], y[rows]
    if drift is not None and not isinstance(drift, LabelShift):
        xb = drift(xb, generator=generator)
    return xb, yb


def _check_pair(func: str, x: torch.Tensor, y: torch.Tensor, size: int) -> None:
    if len(x) != len(y):
        raise fail(func, "y", f"one label per image of x ({len(x)})", f"{len(y)} labels")
    if size > len(y):
        raise fail(func, "batch_size", f"at most the {len(y)} images of x", size)


@checked(model=MODEL, reference=IMAGES, x=IMAGES, y=LABELS, drifts=DRIFTS, batch_size=COUNT, batches=COUNT, seed=SEED,
         alpha=Real(low=0, high=1, low_open=True, high_open=True), psi_threshold=Real(low=0, low_open=True))
def drift_trials(model: nn.Module, reference: torch.Tensor, x: torch.Tensor, y: torch.Tensor, *,
                 drifts: Mapping[str, Callable | LabelShift | None], batch_size: int = 200, batches: int = 50,
                 seed: int = 0, alpha: float = 0.05, psi_threshold: float = 0.25) -> pd.DataFrame:
    """For each of ``batches`` trials, one batch of ``batch_size`` images drawn from ``(x, y)``
    (the same draw for every drift of that trial, unless a `LabelShift` draws its own), each
    drift of ``drifts`` applied and the batch tested against ``reference`` with `drift_table`
    on `image_summary`'s features.

    One row per trial and drift: ``drift``, ``seed`` (the trial, which pairs the drifts),
    ``batch_size``, ``accuracy`` (of ``model`` on the batch), ``tests`` (1 if any feature's
    Holm-corrected p-value was below ``alpha``), ``psi`` (1 if any feature's PSI was above
    ``psi_threshold``), ``smallest_p``, ``largest_psi`` and ``drifted_features``. With
    ``{"none": None}`` the rows measure false alarms; the share of 1s is each detector's rate.
    """
    import pandas as pd

    _check_pair("drift_trials", x, y, batch_size)
    expected = image_summary(model, reference)
    rows = []
    for trial in range(batches):
        for name, drift in drifts.items():
            generator = torch.Generator().manual_seed(seed * 1_000_003 + trial)  # the same draw for every drift
            xb, yb = _batch(x, y, drift, batch_size, generator)
            judged = judge_batch(model, expected, xb, yb, alpha=alpha, bins=10, psi_threshold=psi_threshold)
            rows.append({"drift": name, "seed": trial, "batch_size": batch_size, "accuracy": judged["accuracy"],
                         "tests": int(judged["tests"]), "psi": int(judged["psi"]), "smallest_p": judged["smallest_p"],
                         "largest_psi": judged["largest_psi"], "drifted_features": judged["tests_features"]})
    return pd.DataFrame(rows)


@checked(x=IMAGES, y=LABELS, drift=DRIFT, batches=COUNT, batch_size=COUNT, onset=Real(low=0, integer=True),
         seed=SEED)
def drifting_stream(x: torch.Tensor, y: torch.Tensor, *, drift: Callable | LabelShift | None, batches: int = 30,
                    batch_size: int = 200, onset: int = 10, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``batches`` labelled batches of ``batch_size`` drawn from ``(x, y)``, the first ``onset``
    as they are and the rest with ``drift`` applied: what a deployed model sees when the world
    changes at batch ``onset``. Feed it to `replay`.

    >>> import torch
    >>> stream = drifting_stream(torch.zeros(50, 1, 2, 2), torch.arange(50) % 2, drift=lambda b, generator: b + 1,
    ...                          batches=4, batch_size=10, onset=2)
    >>> [float(b[0].mean()) for b in stream]
    [0.0, 0.0, 1.0, 1.0]
    """
    _check_pair("drifting_stream", x, y, batch_size)
    generator = torch.Generator().manual_seed(seed)
    return [_batch(x, y, drift if i >= onset else None, batch_size, generator) for i in range(batches)]
