"""Has the data a model sees drifted from the data it was trained on? Two-sample tests per
feature, and the population stability index.

`drift_table` compares a ``reference`` sample (what the model was validated on) with a
``current`` one (a batch from production), one row per feature: the Kolmogorov-Smirnov test
for a continuous feature, the chi-square test for a categorical one (a predicted class), each
p-value corrected with Holm's method for the number of features tested, and `psi` beside it.
`image_summary` turns images and a model into the features worth watching: brightness,
contrast, the model's confidence and entropy, its predicted class.

>>> import torch
>>> _ = torch.manual_seed(0)
>>> ref = {"a": torch.randn(2000), "b": torch.randn(2000)}
>>> now = {"a": torch.randn(500) + 1.0, "b": torch.randn(500)}
>>> table = drift_table(ref, now)
>>> table.set_index("feature")["drifted"].to_dict()
{'a': True, 'b': False}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from .._checks import COUNT, MODEL, Real, Satisfies, checked, fail, is_pandas
from ..training.inference import predict

if TYPE_CHECKING:
    import pandas as pd

CATEGORICAL_LEVELS = 20  # integer-valued with at most this many levels: a category, tested by chi-square
SMALLEST_SHARE = 1e-4    # an empty bin's share, so that PSI's logarithm stays finite


def _values(value: Any) -> np.ndarray | None:
    """A 1-D float array of a tensor, array, list or Series; None if it is not one."""
    try:
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    array = np.asarray(array, dtype=float)
    return array if array.ndim == 1 and len(array) > 0 and np.isfinite(array).all() else None


def _columns(value: Any) -> dict[str, np.ndarray] | None:
    """``{feature: values}`` of a DataFrame, a dict of 1-D sequences or an ``N x D`` tensor/array."""
    if is_pandas(value, "DataFrame"):
        value = {str(c): value[c] for c in value.columns}
    elif isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 2:
        value = {f"feature {i}": value[:, i] for i in range(value.shape[1])}
    if not isinstance(value, Mapping) or not value:
        return None
    columns = {str(k): _values(v) for k, v in value.items()}
    return None if any(v is None for v in columns.values()) else columns


VALUES = Satisfies(lambda v: _values(v) is not None, "a non-empty 1-D tensor, array or list of finite numbers",
                   bad=[[], "abc", [[1.0, 2.0]], [float("nan")]])
FEATURES = Satisfies(lambda v: _columns(v) is not None,
                     "a DataFrame, a dict of 1-D value sequences, or an N x D tensor or array, of finite numbers",
                     bad=[{}, [1.0, 2.0], {"a": []}])
BINS = Real(low=2, integer=True)


def _categorical(*samples: np.ndarray) -> bool:
    both = np.concatenate(samples)
    return bool(np.all(both == np.round(both))) and len(np.unique(both)) <= CATEGORICAL_LEVELS


def _shares(reference: np.ndarray, current: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's share in the bins: the levels of a categorical feature, else the reference's quantiles."""
    if _categorical(reference, current):
        levels = np.unique(np.concatenate([reference, current]))
        counts = [np.array([(s == level).sum() for level in levels]) for s in (reference, current)]
    else:
        inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
        counts = [np.bincount(np.searchsorted(inner, s, side="right"), minlength=len(inner) + 1)
                  for s in (reference, current)]
    return tuple(np.maximum(c / c.sum(), SMALLEST_SHARE) for c in counts)


@checked(reference=VALUES, current=VALUES, bins=BINS)
def psi(reference: Any, current: Any, *, bins: int = 10) -> float:
    """The population stability index of ``current`` against ``reference``: the sum over bins of
    ``(current share - reference share) * ln(current share / reference share)``.

    Bins are the reference's ``bins`` quantiles (deciles by default), or the levels of an
    integer feature with at most 20 of them (a predicted class). A share of 0 counts as 0.0001.
    0 means the same distribution. Credit scoring's rules of thumb (Siddiqi, *Credit Risk
    Scorecards*, 2006) read below 0.1 as stable, 0.1 to 0.25 as a shift to watch, above 0.25 as
    a major shift; they ignore the sample size, and a small batch scores above 0 by chance alone.

    >>> round(psi([0, 0, 1, 1], [0, 1, 1, 1]), 3)
    0.275
    """
    expected, actual = _shares(_values(reference), _values(current), bins)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@checked(p_values=Satisfies(lambda v: _values(v) is not None and bool(((_values(v) >= 0) & (_values(v) <= 1)).all()),
                           "a non-empty 1-D sequence of p-values between 0 and 1", bad=[[], [1.5], "p"]))
def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down correction of ``p_values`` for testing them all: each adjusted p-value
    can be compared with the level (0.05) as if it were the only test.

    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = _values(p_values)
    order = np.argsort(p)
    scaled = np.minimum(1.0, (len(p) - np.arange(len(p))) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


@checked(reference=FEATURES, current=FEATURES, alpha=Real(low=0, high=1, low_open=True, high_open=True),
         bins=BINS, psi_threshold=Real(low=0, low_open=True))
def drift_table(reference: Any, current: Any, *, alpha: float = 0.05, bins: int = 10,
                psi_threshold: float = 0.25) -> pd.DataFrame:
    """One row per feature of ``reference`` (and ``current``, with the same features): ``test``
    (``"KS"`` for a continuous feature, ``"chi-square"`` for a categorical one), ``statistic``,
    ``p_value``, ``p_holm`` (corrected for the number of features), ``psi``, ``drifted``
    (``p_holm < alpha``) and ``psi_alarm`` (``psi > psi_threshold``).

    Features are a DataFrame, a dict ``{name: values}`` or an ``N x D`` tensor or array; the two
    samples may differ in size. ``attrs`` keeps ``alpha``, the sample sizes and the feature count.
    """
    import pandas as pd
    from scipy import stats

    ref, now = _columns(reference), _columns(current)
    if set(ref) != set(now):
        raise fail("drift_table", "current", f"the features of `reference`: {sorted(ref)}", sorted(now))
    rows = []
    for name, r in ref.items():
        c = now[name]
        if _categorical(r, c):
            levels = np.unique(np.concatenate([r, c]))
            table = np.array([[(s == level).sum() for level in levels] for s in (r, c)])
            statistic, p = (stats.chi2_contingency(table)[:2] if len(levels) > 1 else (0.0, 1.0))
            test = "chi-square"
        else:
            result = stats.ks_2samp(r, c)
            statistic, p, test = result.statistic, result.pvalue, "KS"
        rows.append({"feature": name, "test": test, "statistic": float(statistic), "p_value": float(p),
                     "psi": psi(r, c, bins=bins)})
    table = pd.DataFrame(rows)
    table.insert(4, "p_holm", holm(table["p_value"]))
    table["drifted"] = table["p_holm"] < alpha
    table["psi_alarm"] = table["psi"] > psi_threshold
    table.attrs.update(alpha=alpha, psi_threshold=psi_threshold, reference_size=len(next(iter(ref.values()))),
                       current_size=len(next(iter(now.values()))), features=len(rows))
    return table


IMAGES = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim >= 2 and len(v) > 0 and v.is_floating_point(),
                   "a float tensor of inputs, N x ... (images N x C x H x W)", bad=[[1.0], "images"])


@checked(model=MODEL, x=IMAGES, batch_size=COUNT)
def image_summary(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024) -> pd.DataFrame:
    """The features of each input worth watching for drift, one row per row of ``x``: ``brightness``
    (its mean value), ``contrast`` (its standard deviation), and from ``model``'s outputs its
    ``confidence`` (the top softmax probability), ``entropy`` (of the softmax, in nats) and
    ``predicted`` (the class). The first two need no model and no labels; the last three watch
    what the model makes of the data.

    >>> import torch
    >>> from nbhelpers import MLP
    >>> image_summary(MLP(4, 3), torch.randn(5, 4)).columns.tolist()
    ['brightness', 'contrast', 'confidence', 'entropy', 'predicted']
    """
    import pandas as pd

    flat = x.detach().flatten(1).float().cpu()
    probabilities = predict(model, x, batch_size=batch_size).float().softmax(1)
    entropy = -(probabilities * probabilities.clamp_min(1e-12).log()).sum(1)
    confidence, predicted = probabilities.max(1)
    return pd.DataFrame({"brightness": flat.mean(1).numpy(), "contrast": flat.std(1).numpy() if flat.shape[1] > 1
                         else np.zeros(len(flat)), "confidence": confidence.numpy(), "entropy": entropy.numpy(),
                         "predicted": predicted.numpy()})


def judge_batch(model: nn.Module, expected: pd.DataFrame, x: torch.Tensor, y: torch.Tensor | None, *,
                alpha: float, bins: int, psi_threshold: float) -> dict:
    """What `DriftMonitor` and `drift_trials` record of one batch ``x`` (labels ``y`` or None)
    against the reference's features ``expected``: ``accuracy`` (NaN without labels), ``tests``
    and ``psi`` (whether any feature was flagged by each), ``smallest_p`` (Holm), ``largest_psi``
    and the features each flagged (``tests_features``, ``psi_features``)."""
    features = image_summary(model, x)
    table = drift_table(expected, features, alpha=alpha, bins=bins, psi_threshold=psi_threshold)
    accuracy = float((features["predicted"].to_numpy() == y.cpu().numpy()).mean()) if y is not None else float("nan")
    return {"accuracy": accuracy, "tests": bool(table["drifted"].any()), "psi": bool(table["psi_alarm"].any()),
            "smallest_p": float(table["p_holm"].min()), "largest_psi": float(table["psi"].max()),
            "tests_features": ", ".join(table.loc[table["drifted"], "feature"]),
            "psi_features": ", ".join(table.loc[table["psi_alarm"], "feature"])}


@checked(table=Satisfies(lambda v: is_pandas(v, "DataFrame") and {"feature", "p_holm", "psi"} <= set(v.columns),
                         "drift_table's DataFrame", bad=["table", 3]))
def drift_words(table: pd.DataFrame) -> str:
    """A sentence on `drift_table`'s result: which features drifted at its level, corrected for
    how many were tested, and the largest PSI.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"feature": ["a", "b"], "p_holm": [0.001, 0.5], "psi": [0.4, 0.01]})
    >>> t.attrs.update(alpha=0.05, current_size=500)
    >>> drift_words(t)
    'Of 2 features, 1 drifted (a; Holm-corrected p < 0.05, 500 inputs); the largest PSI was 0.40 (a).'
    """
    alpha = table.attrs.get("alpha", 0.05)
    drifted = table.loc[table["p_holm"] < alpha, "feature"].tolist()
    top = table.loc[table["psi"].idxmax()]
    which = f"{len(drifted)} drifted ({', '.join(drifted)}; " if drifted else "none drifted ("
    size = f", {table.attrs['current_size']:,} inputs" if "current_size" in table.attrs else ""
    return (f"Of {len(table)} features, {which}Holm-corrected p < {alpha:g}{size}); "
            f"the largest PSI was {top['psi']:.2f} ({top['feature']}).")
