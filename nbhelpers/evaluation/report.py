"""Classification metrics from what a model outputs: scikit-learn does the arithmetic, this is the glue.

Every function here takes ``scores`` and ``y`` in one of three forms, so a reader goes from a
trained model to a report in one call:

- a model and a split: ``classification_metrics(model, data.test)`` (the model's `predict` runs on the split);
- what `predict` returns, a tensor of logits (softmax over the columns; one column or a 1-D
  tensor is a binary task's logit, through the sigmoid), and the labels;
- probabilities as scikit-learn's ``predict_proba`` returns them, a NumPy array (one column
  per class, or the positive class's probability for a binary task), and the labels.

``logits=True`` or ``False`` overrides that rule (a tensor of probabilities, an array of
logits). A binary task (two classes) decides at ``threshold`` on the probability of class
``positive``; more classes take the most probable one.

>>> import numpy as np
>>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
>>> found = classification_metrics(p, [0, 1, 1, 1])
>>> {k: round(found[k], 3) for k in ("accuracy", "roc_auc", "sensitivity")}
{'accuracy': 0.75, 'roc_auc': 1.0, 'sensitivity': 0.667}
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .._checks import TEXT, Choice, Optional, Real, Satisfies, checked, fail, shown
from ..training import predict

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure


def _is_scores(v) -> bool:
    return isinstance(v, (torch.Tensor, np.ndarray, nn.Module)) or (
        isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(r, (numbers.Real, list, tuple)) for r in v))


def _is_labels(v) -> bool:
    return isinstance(v, (torch.Tensor, np.ndarray)) or (isinstance(v, (list, tuple)) and len(v) > 0)


SCORES = Satisfies(_is_scores, "a model, what predict returns (logits), or probabilities (an array, one column per "
                   "class)", bad=["scores", 3])
LABELS = Satisfies(_is_labels, "the true labels (a tensor, an array or a list), or the split (x, labels) when "
                   "`scores` is a model", bad=["labels", 3])
LOGITS = Optional(Satisfies(lambda v: isinstance(v, bool), "True or False (None: tensors are logits, arrays "
                            "probabilities)", bad=["yes", 1]))
POSITIVE = Optional(Real(low=0, integer=True))
THRESHOLD = Real(low=0, high=1)
CLASS_NAMES = Optional(Satisfies(lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(
    isinstance(c, str) for c in v), "a list of class names", bad=["cat", [0, 1]]))
BINS = Real(low=1, integer=True)

BINARY = ("sensitivity", "specificity", "precision", "npv", "f1")  # of the positive class, at the threshold
MULTI = ("accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision",
         "weighted_recall", "weighted_f1", "roc_auc", "pr_auc", "log_loss", "calibration_error")


def _array(value, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy() if what == "scores" else value.detach().cpu().numpy()
    return np.asarray(value, dtype=float if what == "scores" else None)


def as_probabilities(func: str, scores, y, logits: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities N x C, labels N)`` as NumPy arrays from any of the three forms (module
    docstring); a binary task's one column becomes two. Errors name ``func``."""
    if isinstance(scores, nn.Module):
        if not (isinstance(y, (tuple, list)) and len(y) == 2 and all(isinstance(t, (torch.Tensor, np.ndarray))
                                                                     for t in y)):
            raise fail(func, "y", "the split (x, labels) to score the model on, such as data.test, when `scores` is "
                       "a model", shown(y))
        x, y = y
        scores = predict(scores, x)
    if logits is None:
        logits = isinstance(scores, torch.Tensor)
    s, labels = _array(scores, "scores"), _array(y, "labels")
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim not in (1, 2) or len(s) == 0 or not np.isfinite(s).all():
        raise fail(func, "scores", "a non-empty N x C table of finite scores (or N for a binary task)", shown(scores))
    if labels.ndim != 1 or len(labels) != len(s):
        raise fail(func, "y", f"{len(s)} labels, one per row of `scores`", f"shape {tuple(labels.shape)}")
    if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)  # 0./1. targets of a binary loss
    if labels.dtype.kind not in "iub":
        raise fail(func, "y", "integer class labels", f"dtype {labels.dtype}")
    if s.ndim == 1:
        p1 = 1 / (1 + np.exp(-s)) if logits else s
        if not logits and (p1.min() < 0 or p1.max() > 1):
            raise fail(func, "scores", "probabilities in [0, 1]; pass logits=True for logits", "values outside [0, 1]")
        p = np.column_stack([1 - p1, p1])
    elif logits:
        z = s - s.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    else:
        p = s
        if p.min() < 0 or p.max() > 1 or not np.allclose(p.sum(axis=1), 1, atol=1e-3):
            raise fail(func, "scores", "probabilities whose rows add up to 1; pass logits=True for logits",
                       "rows that do not")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= p.shape[1]:
        raise fail(func, "y", f"labels from 0 to {p.shape[1] - 1} (one column of `scores` each)",
                   f"labels from {labels.min()} to {labels.max()}")
    return p, labels


def check_positive(func: str, positive: int | None, classes: int) -> int:
    """The positive class: ``positive`` if it names a column, 1 for a binary task without it."""
    if positive is None:
        if classes != 2:
            raise fail(func, "positive", f"the class (0 to {classes - 1}) that counts as positive: the task has "
                       f"{classes} classes", None)
        return 1
    if positive >= classes:
        raise fail(func, "positive", f"a class from 0 to {classes - 1}", positive)
    return int(positive)


def predicted(p: np.ndarray, positive: int | None = None, threshold: float = 0.5) -> np.ndarray:
    """The predicted class of each row: a binary task flags ``positive`` where its probability
    is at least ``threshold``; more classes take the most probable one."""
    if p.shape[1] == 2:
        positive = 1 if positive is None else positive
        return np.where(p[:, positive] >= threshold, positive, 1 - positive)
    return p.argmax(axis=1)


def metric_value(name: str, y: np.ndarray, p: np.ndarray, positive: int | None = None, threshold: float = 0.5,
                 bins: int = 15) -> float:
    """One metric by name (`classification_metrics` lists them) of labels ``y`` and probabilities ``p``; nan
    where it is undefined (an AUC with one class present)."""
    from sklearn import metrics as m

    labels = np.arange(p.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an undefined value is nan, said in the docstring, not warned 2,000 times
        try:
            if name in BINARY:
                pos = check_positive("classification_metrics", positive, p.shape[1])
                truth, flag = y == pos, p[:, pos] >= threshold
                pick = {"sensitivity": (truth, flag), "specificity": (~truth, ~flag), "npv": (~truth, ~flag)}
                if name in ("sensitivity", "specificity"):
                    return float(m.recall_score(*pick[name], zero_division=np.nan))
                if name == "npv":
                    return float(m.precision_score(*pick[name], zero_division=np.nan))
                score = m.precision_score if name == "precision" else m.f1_score
                return float(score(truth, flag, zero_division=np.nan))
            guess = predicted(p, positive, threshold)
            if name == "accuracy":
                return float(m.accuracy_score(y, guess))
            if name == "balanced_accuracy":
                return float(m.balanced_accuracy_score(y, guess))
            if name.split("_")[0] in ("macro", "weighted"):
                average, kind = name.split("_")
                values = m.precision_recall_fscore_support(y, guess, labels=labels, average=average, zero_division=0)
                return float(values[("precision", "recall", "f1").index(kind)])
            if name in ("roc_auc", "pr_auc") and p.shape[1] == 2:
                pos = 1 if positive is None else positive
                score = m.roc_auc_score if name == "roc_auc" else m.average_precision_score
                return float(score(y == pos, p[:, pos]))
            if name == "roc_auc":
                return float(m.roc_auc_score(y, p, multi_class="ovr", labels=labels))
            if name == "pr_auc":
                from sklearn.preprocessing import label_binarize

                return float(m.average_precision_score(label_binarize(y, classes=labels), p, average="macro"))
            if name == "log_loss":
                return float(m.log_loss(y, p, labels=labels))
            if name == "calibration_error":
                from .calibration import ece_of

                return ece_of(p, y, bins)
        except ValueError:
            return math.nan
    raise fail("classification_metrics", "metric", "one of " + ", ".join(MULTI + BINARY), name)


@checked(scores=SCORES, y=LABELS, positive=POSITIVE, threshold=THRESHOLD, logits=LOGITS, bins=BINS)
def classification_metrics(scores, y, *, positive: int | None = None, threshold: float = 0.5,
                           logits: bool | None = None, bins: int = 15) -> dict[str, float]:
    """Every metric of the chapter in one dict, computed by scikit-learn.

    ``accuracy``, ``balanced_accuracy`` (the mean recall over classes),
    ``macro_``/``weighted_`` ``precision``, ``recall`` and ``f1`` (macro: each class counts
    the same; weighted: by its number of rows), ``roc_auc`` and ``pr_auc`` (one-vs-rest and
    averaged over classes for more than two; ``pr_auc`` is scikit-learn's average
    precision), ``log_loss`` (the mean negative log-likelihood) and ``calibration_error``
    (`expected_calibration_error` with ``bins``). For a binary task, or any task given
    ``positive``, also ``sensitivity`` (recall of the positive class), ``specificity``
    (recall of the others), ``precision`` and ``npv`` (the share of positive and of
    negative calls that are right) and ``f1``, at ``threshold`` on the positive class's
    probability. Undefined values (no positive case, no positive call) are nan.

    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    >>> found = classification_metrics(logits, torch.tensor([0, 1, 2, 1]))
    >>> found["accuracy"], found["macro_recall"], found["roc_auc"]
    (0.75, 0.8333333333333334, 1.0)
    """
    p, labels = as_probabilities("classification_metrics", scores, y, logits)
    if positive is not None:
        check_positive("classification_metrics", positive, p.shape[1])
    names = MULTI + (BINARY if p.shape[1] == 2 or positive is not None else ())
    return {name: metric_value(name, labels, p, positive, threshold, bins) for name in names}


def _names(func: str, classes: Sequence[str] | None, count: int) -> list[str]:
    if classes is None:
        return [str(i) for i in range(count)]
    if len(classes) != count:
        raise fail(func, "classes", f"{count} names, one per column of `scores`", list(classes))
    return list(classes)


@checked(scores=SCORES, y=LABELS, classes=CLASS_NAMES, positive=POSITIVE, threshold=THRESHOLD, logits=LOGITS)
def class_report(scores, y, classes: Sequence[str] | None = None, *, positive: int | None = None,
                 threshold: float = 0.5, logits: bool | None = None) -> pd.DataFrame:
    """One row per class: ``precision``, ``recall``, ``f1``, ``support`` (its rows), ``roc_auc``
    and ``pr_auc`` (that class against the rest); then ``macro avg`` and ``weighted avg``.

    scikit-learn's ``classification_report`` as a DataFrame, with the AUCs beside it. A binary
    task decides at ``threshold`` on class ``positive`` (1 by default).

    >>> import numpy as np
    >>> p = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    >>> class_report(p, [0, 1, 1, 1], ["benign", "malignant"])["recall"].round(3).tolist()
    [1.0, 0.667, 0.833, 0.75]
    """
    import pandas as pd
    from sklearn import metrics as m

    func = "class_report"
    p, labels = as_probabilities(func, scores, y, logits)
    names = _names(func, classes, p.shape[1])
    if positive is not None:
        check_positive(func, positive, p.shape[1])
    guess = predicted(p, positive, threshold)
    index = np.arange(p.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        precision, recall, f1, support = m.precision_recall_fscore_support(labels, guess, labels=index, zero_division=0)
        table = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support}, index=names)
        table["roc_auc"] = [_safe(m.roc_auc_score, labels == c, p[:, c]) for c in index]
        table["pr_auc"] = [_safe(m.average_precision_score, labels == c, p[:, c]) for c in index]
    weights = support / support.sum()
    rows = {"macro avg": table.mean(), "weighted avg": (table.mul(weights, axis=0)).sum()}
    for name, row in rows.items():
        row["support"] = int(support.sum())
        table.loc[name] = row
    table["support"] = table["support"].astype(int)
    return table


def _safe(score, *args) -> float:
    try:
        return float(score(*args))
    except ValueError:
        return math.nan


@checked(scores=SCORES, y=LABELS, classes=CLASS_NAMES, positive=POSITIVE, threshold=THRESHOLD, logits=LOGITS,
         normalize=Optional(Choice("true", "pred", "all")))
def confusion(scores, y, classes: Sequence[str] | None = None, *, positive: int | None = None, threshold: float = 0.5,
              logits: bool | None = None, normalize: str | None = None) -> pd.DataFrame:
    """The confusion matrix: rows are the true classes, columns the predicted ones (scikit-learn's).

    ``normalize="true"`` divides each row by its count (each row then holds that class's
    recall on the diagonal), ``"pred"`` each column, ``"all"`` the whole table.

    >>> confusion(torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), [0, 1, 1], ["cat", "dog"]).values.tolist()
    [[1, 0], [1, 1]]
    """
    import pandas as pd
    from sklearn import metrics as m

    p, labels = as_probabilities("confusion", scores, y, logits)
    names = _names("confusion", classes, p.shape[1])
    if positive is not None:
        check_positive("confusion", positive, p.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class with no rows gives a row of nan when normalized: shown as such
        table = m.confusion_matrix(labels, predicted(p, positive, threshold), labels=np.arange(p.shape[1]),
                                   normalize=normalize)
    frame = pd.DataFrame(table, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted"))
    return frame


@checked(scores=SCORES, y=LABELS, classes=CLASS_NAMES, positive=POSITIVE, threshold=THRESHOLD, logits=LOGITS,
         title=TEXT)
def plot_confusion(scores, y, classes: Sequence[str] | None = None, *, positive: int | None = None,
                   threshold: float = 0.5, logits: bool | None = None, title: str = "") -> Figure:
    """The confusion matrix as a picture: each cell coloured by its share of the true class's
    rows (the diagonal is each class's recall), with the count written in it.

    >>> fig = plot_confusion(torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), [0, 1, 1], ["cat", "dog"])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['1', '0', '1', '1']
    """
    counts = confusion(scores, y, classes, positive=positive, threshold=threshold, logits=logits)
    return draw_confusion(counts, title)


def draw_confusion(counts: pd.DataFrame, title: str = "", ax=None, colorbar: bool = True) -> Figure:
    """The picture of `plot_confusion` from a table of counts (the threshold panel draws it too,
    on its own axes ``ax`` and without the colour bar)."""
    from ..plots._figure import figure_class

    n = len(counts)
    values = counts.to_numpy(float)
    shares = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    if ax is None:
        side = 2.6 + 0.42 * n
        fig = figure_class()(figsize=(side + 0.8, side), layout="constrained")
        ax = fig.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{int(values[i, j])}", ha="center", va="center", fontsize=8 if n > 6 else 10,
                    color="white" if shares[i, j] > 0.5 else "black")
    names = [str(c) for c in counts.index]
    ax.set_xticks(range(n), names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


__all__ = ["class_report", "confusion", "classification_metrics", "plot_confusion"]
