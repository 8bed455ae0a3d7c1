"""Whether a model's probabilities mean what they say: calibration error, the reliability diagram,
and temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks").

A model is calibrated when, of the images it calls with 80% confidence, 80% are right. The
**expected calibration error** (ECE) measures the distance: each prediction's confidence is
the probability of its predicted class (the top label); the confidences are cut into
``bins`` equal-width bins of ``(0, 1]`` (``(0, 1/15]``, ``(1/15, 2/15]``, ... for 15), and
ECE is the average, weighted by the bins' counts, of ``|accuracy - mean confidence|`` in
each bin. **Temperature scaling** divides the logits by one number ``T`` fitted on the
validation split (the ``T`` of least negative log-likelihood): ``T > 1`` softens an
overconfident model. It leaves the order of the logits, so every prediction, unchanged.

>>> import torch
>>> logits, y = torch.tensor([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]]), torch.tensor([0, 1, 1, 1])
>>> round(expected_calibration_error(logits, y), 3)
0.232
>>> fit_temperature(logits, y) > 1  # one confident mistake in four: softer is better
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .._checks import TEXT, AnyOf, Satisfies, checked, fail, shown
from ..training import predict
from .report import BINS, LABELS, LOGITS, SCORES, as_probabilities

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure


def _bins(p: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per prediction: its bin (0..bins-1), its confidence and whether it is right."""
    confidence, right = p.max(axis=1), (p.argmax(axis=1) == y)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    return which, confidence, right


def ece_of(p: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """The ECE of probabilities ``p`` (N x C) for labels ``y`` (the module docstring says how)."""
    which, confidence, right = _bins(p, y, bins)
    count = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, right.astype(float), bins) - np.bincount(which, confidence, bins))
    return float(gap.sum() / count.sum())  # sum over bins of |hits - confidence sum| / N


@checked(scores=SCORES, y=LABELS, bins=BINS, logits=LOGITS)
def expected_calibration_error(scores, y, bins: int = 15, *, logits: bool | None = None) -> float:
    """The expected calibration error: how far the confidence of the top label is from its
    accuracy, averaged over ``bins`` equal-width bins of confidence weighted by their counts.

    ``scores`` and ``y`` as `classification_metrics` takes them (a model and a split, logits, or
    probabilities). 0 is perfect; a model right 90% of the time that always says 99% has
    0.09. Fewer bins smooth it, more bins add noise from sparse bins (15, the default, is
    Guo et al.'s).

    >>> import numpy as np
    >>> expected_calibration_error(np.array([[0.99, 0.01]] * 10), [0] * 9 + [1])
    0.09
    """
    p, labels = as_probabilities("expected_calibration_error", scores, y, logits)
    return round(ece_of(p, labels, bins), 12)


@checked(scores=SCORES, y=LABELS, bins=BINS, logits=LOGITS)
def reliability_table(scores, y, bins: int = 15, *, logits: bool | None = None) -> pd.DataFrame:
    """One row per non-empty confidence bin: ``low``, ``high``, ``count``, ``confidence`` (the mean
    confidence of its predictions), ``accuracy`` (the share of them that are right), ``gap``.

    The numbers behind the reliability diagram; ECE is ``(count * gap.abs()).sum() / count.sum()``.

    >>> import numpy as np
    >>> p = np.array([[0.95, 0.05], [0.75, 0.25], [0.35, 0.65]])
    >>> reliability_table(p, [0, 1, 1], bins=5)[["count", "accuracy"]].values.tolist()
    [[2.0, 0.5], [1.0, 1.0]]
    """
    import pandas as pd

    p, labels = as_probabilities("reliability_table", scores, y, logits)
    which, confidence, right = _bins(p, labels, bins)
    rows = []
    for b in np.unique(which):
        inside = which == b
        acc, conf = float(right[inside].mean()), float(confidence[inside].mean())
        rows.append({"low": b / bins, "high": (b + 1) / bins, "count": float(inside.sum()), "confidence": conf,
                     "accuracy": acc, "gap": acc - conf})
    return pd.DataFrame(rows)


def _logits(func: str, scores, y) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(scores, nn.Module):
        if not (isinstance(y, (tuple, list)) and len(y) == 2):
            raise fail(func, "y", "the split (x, labels) to fit on, such as data.valid, when `logits` is a model",
                       shown(y))
        x, y = y
        scores = predict(scores, x)
    z = scores.detach().cpu().double().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores, float)
    labels = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if z.ndim == 2 and z.shape[1] == 1:
        z = z[:, 0]
    if z.ndim not in (1, 2) or len(z) == 0 or not np.isfinite(z).all():
        raise fail(func, "logits", "a non-empty N x C table of finite logits (or N for a binary task)", shown(scores))
    if labels.ndim != 1 or len(labels) != len(z):
        raise fail(func, "y", f"{len(z)} labels, one per row of `logits`", f"shape {tuple(labels.shape)}")
    return z, labels.astype(np.int64)


def _nll(z: np.ndarray, y: np.ndarray, temperature: float) -> float:
    from scipy.special import log_softmax

    if z.ndim == 1:  # one logit: log sigmoid of the right sign
        signed = np.where(y == 1, z, -z) / temperature
        return float(np.mean(np.logaddexp(0, -signed)))
    return float(-log_softmax(z / temperature, axis=1)[np.arange(len(y)), y].mean())


@checked(logits=SCORES, y=LABELS)
def fit_temperature(logits, y) -> float:
    """The temperature ``T`` that makes ``softmax(logits / T)`` fit ``y`` best (least negative
    log-likelihood): a 1-D bounded search over ``log T`` (scipy's ``minimize_scalar``), with
    ``T`` from 0.05 to 20.

    Fit it on the validation split and judge it on the test split: ``classification_metrics(test_logits / T,
    y_test)``. ``logits`` is what `predict` returns (or a model and ``y`` the split). One
    logit per row (a binary task) is scaled the same way.

    >>> import torch
    >>> z = torch.tensor([[3.0, 0.0], [0.0, 3.0], [3.0, 0.0], [0.0, 3.0]])
    >>> fit_temperature(z, torch.tensor([0, 1, 0, 1])) < 1  # all right: sharper is better
    True
    """
    from scipy.optimize import minimize_scalar

    z, labels = _logits("fit_temperature", logits, y)
    classes = 2 if z.ndim == 1 else z.shape[1]
    if labels.min() < 0 or labels.max() >= classes:
        raise fail("fit_temperature", "y", f"labels from 0 to {classes - 1}", f"labels up to {labels.max()}")
    found = minimize_scalar(lambda t: _nll(z, labels, math.exp(t)), bounds=(math.log(0.05), math.log(20)),
                            method="bounded", options={"xatol": 1e-5})
    return float(math.exp(found.x))


def _as_dict(scores) -> dict:
    return dict(scores) if isinstance(scores, Mapping) else {"model": scores}


@checked(scores=AnyOf(SCORES, Satisfies(lambda v: isinstance(v, Mapping) and len(v) > 0 and all(
    SCORES.ok(s) for s in v.values()), "a dict of name -> scores on the same labels", bad=[{}])),
         y=LABELS, bins=BINS, logits=LOGITS, title=TEXT)
def plot_reliability(scores, y, bins: int = 15, *, logits: bool | None = None, title: str = "") -> Figure:
    """The reliability diagram: accuracy against confidence per bin (on the diagonal when
    calibrated), with each curve's ECE in the legend, over a histogram of the confidences.

    ``scores`` is one set of scores or a dict ``{"before": logits, "after": logits / T}``
    scored on the same ``y``. Points below the diagonal are overconfident.

    >>> import numpy as np
    >>> fig = plot_reliability({"a": np.array([[0.9, 0.1], [0.4, 0.6]])}, [0, 1], bins=5)
    >>> len(fig.axes)
    2
    """
    from ..plots._figure import figure_class

    fig = figure_class()(figsize=(5.2, 5.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], ls="--", color="0.5", lw=1, label="calibrated")
    edges = np.linspace(0, 1, bins + 1)
    for i, (name, s) in enumerate(_as_dict(scores).items()):
        p, labels = as_probabilities("plot_reliability", s, y, logits)
        table = reliability_table(p, labels, bins)
        top.plot(table["confidence"], table["accuracy"], "o-", color=f"C{i}", ms=4,
                 label=f"{name}: ECE {ece_of(p, labels, bins):.3f}")
        bottom.hist(p.max(axis=1), bins=edges, histtype="step", color=f"C{i}", lw=1.5)
    top.set(ylabel="accuracy in the bin", xlim=(0, 1), ylim=(0, 1.02))
    top.legend(fontsize=8, loc="upper left")
    top.grid(alpha=0.3)
    bottom.set(xlabel="confidence (probability of the predicted class)", ylabel="predictions")
    bottom.grid(alpha=0.3)
    if title:
        top.set_title(title, fontsize=10)
    return fig


__all__ = ["expected_calibration_error", "fit_temperature", "plot_reliability", "reliability_table"]
