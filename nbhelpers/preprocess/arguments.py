"""What the preprocessing helpers' arguments may be: the constraints their `checked` tables share.

Each check here looks at one argument alone; what relates two arguments, or needs the data
(``y`` one label per row of ``x``, ``driver`` a column of ``x``), stays in the function's body.
Messages print an array's shape, never the array.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .._checks import SEED, Rule, fail, is_pandas, shown
from ..data import DataBundle


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor)) or is_pandas(x, "DataFrame", "Series")


BUNDLE = "a DataBundle, e.g. DataBundle((x_train, y_train), (x_valid, y_valid), None, classes)"
MODEL_FACTORY = "None or a function (in_features, num_classes) -> nn.Module"
NOT_ARRAYS = ["data.csv", 3, None]


def _numeric(x: Any) -> bool:
    if isinstance(x, torch.Tensor):
        return not x.is_complex()
    kinds = [x.dtype.kind] if not is_pandas(x) else [d.kind for d in x.dtypes]
    return all(k in "biuf" for k in kinds)


def array_words(ndims: tuple[int, ...]) -> str:
    return f"a non-empty {' or '.join(f'{d}-D' for d in ndims)} array or tensor"


def check_array(func: str, name: str, x: Any, ndims: tuple[int, ...] = (2,), allowed: str | None = None) -> Any:
    """``x`` if it is a non-empty array, tensor or pandas object of numbers with ``ndims`` dimensions."""
    allowed = allowed or array_words(ndims)
    if not _is_array(x) or x.ndim not in ndims or math.prod(x.shape) == 0:
        raise fail(func, name, allowed, tuple(x.shape) if _is_array(x) else shown(x))
    if not _numeric(x):
        raise fail(func, name, allowed, f"{type(x).__name__} of non-numbers",
                   "Convert the text columns to numbers, or drop them.")
    return x


def array(*ndims: int, optional: bool = False) -> Rule:
    """The constraint: a non-empty array or tensor of numbers with one of ``ndims`` dimensions (or
    None if ``optional``). A wrong one is shown by its shape, never printed whole."""
    if optional:
        return Rule(lambda f, n, v: None if v is None else check_array(f, n, v, ndims, array_words(ndims) + " or None"),
                    array_words(ndims) + " or None", bad=NOT_ARRAYS[:-1])
    return Rule(lambda f, n, v: check_array(f, n, v, ndims), array_words(ndims), bad=NOT_ARRAYS)


def as_floats(x: Any) -> np.ndarray:
    """A float64 NumPy copy of a tensor, array or pandas object."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if is_pandas(x, "DataFrame", "Series"):
        x = x.to_numpy()
    return np.array(x, dtype=np.float64)


def check_labels(func: str, name: str, y: Any, allowed: str, integer: bool = True) -> Any:
    """``y`` if it is a non-empty 1-D array, tensor, Series or list of (integer) labels."""
    if not (_is_array(y) or isinstance(y, (list, tuple))):
        raise fail(func, name, allowed, shown(y))
    try:
        labels = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    except (TypeError, ValueError):
        raise fail(func, name, allowed, type(y).__name__, "(rows of different lengths)") from None
    if labels.ndim != 1 or labels.size == 0:
        raise fail(func, name, allowed, labels.shape)
    if integer and not np.issubdtype(labels.dtype, np.integer):
        raise fail(func, name, allowed, y.dtype if _is_array(y) else y if len(y) <= 8 else labels.dtype)
    if integer and labels.min() < 0:
        raise fail(func, name, allowed, int(labels.min()), "Class labels count from 0.")
    return y


def labels(allowed: str, integer: bool = True) -> Rule:
    return Rule(lambda f, n, v: check_labels(f, n, v, allowed, integer), allowed,
                bad=["labels", 3, None] + ([[0.5, 1.5]] if integer else []))


SEEDS_WORDS = f"a non-empty list or tuple of seeds (integers {SEED.allowed.removeprefix('an integer ')})"


def check_seeds(func: str, name: str, seeds: Any) -> Any:
    """``seeds`` if it is a non-empty list, tuple or range of seeds."""
    listed = isinstance(seeds, (list, tuple, range))
    if not (listed and len(seeds) and all(SEED.ok(s) for s in seeds)):
        raise fail(func, name, SEEDS_WORDS, seeds if listed else shown(seeds),
                   f"Put it in a tuple: ({seeds},)." if SEED.ok(seeds) else "")
    return seeds


SEEDS = Rule(check_seeds, SEEDS_WORDS, bad=[[-1], [], 0, "0"])


def name_words(options: Sequence[str]) -> str:
    return "a non-empty list of names from " + ", ".join(repr(o) for o in options)


def check_names(func: str, name: str, value: Any, options: Sequence[str], allowed: str | None = None) -> list[str]:
    """``value`` (lower-cased) if it is a non-empty list or tuple of names among ``options``;
    else the standard error, with a did-you-mean for the first misspelled name."""
    allowed = allowed or name_words(options)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v.lower() in options for v in value):
        return [v.lower() for v in value]
    if isinstance(value, str) and value.lower() in options:
        raise fail(func, name, allowed, value, f"Put it in a list: [{value!r}].")
    listed = isinstance(value, (list, tuple))
    wrong = [v for v in value if not (isinstance(v, str) and v.lower() in options)] if listed else [value]
    close = difflib.get_close_matches(wrong[0].lower(), options, n=1) if wrong and isinstance(wrong[0], str) else []
    raise fail(func, name, allowed, value if listed else shown(value), f"Did you mean {close[0]!r}?" if close else "")


def names(options: Sequence[str]) -> Rule:
    """The constraint: a non-empty list of names among ``options`` (case-insensitive)."""
    return Rule(lambda f, n, v: check_names(f, n, v, options), name_words(options),
                bad=[[options[0][:-1]], [], options[0], 3])


def _check_bundle(func: str, name: str, data: Any) -> None:
    if not isinstance(data, DataBundle):
        raise fail(func, name, BUNDLE, shown(data))


def _check_bundle_or_function(func: str, name: str, data: Any) -> None:
    if not (isinstance(data, DataBundle) or callable(data)):
        raise fail(func, name, BUNDLE + " or a function seed -> DataBundle", shown(data))


def check_model(func: str, name: str, model: Any) -> None:
    if model is not None and not callable(model):
        raise fail(func, name, MODEL_FACTORY, shown(model))


def _is_transformer(value: Any) -> bool:
    return hasattr(value, "fit") and hasattr(value, "transform")


def sklearn_object(test: Callable[[Any], bool], allowed: str, bad: list) -> Rule:
    """The constraint: an object that passes ``test`` (has ``fit``...). A wrong scikit-learn object is
    shown as scikit-learn writes it (``LogisticRegression()``), anything else by `shown`."""
    def check(func: str, name: str, value: Any) -> None:
        if not test(value):
            raise fail(func, name, allowed, value if hasattr(value, "get_params") else shown(value))

    return Rule(check, allowed, bad=bad)


def _check_pipelines(func: str, name: str, pipelines: Any) -> None:
    if not (isinstance(pipelines, Mapping) and pipelines
            and all(p is None or _is_transformer(p) for p in pipelines.values())):
        raise fail(func, name, "a dict of name -> scikit-learn transformer or None (at least one)",
                   pipelines if isinstance(pipelines, (Mapping, list, tuple)) else shown(pipelines))


def check_scoring(func: str, name: str, value: Any) -> str:
    from sklearn.metrics import get_scorer_names

    known = get_scorer_names()
    if isinstance(value, str) and value in known:
        return value
    close = difflib.get_close_matches(value, known, n=1) if isinstance(value, str) else []
    raise fail(func, name, SCORING, shown(value), f"Did you mean {close[0]!r}?" if close else "")


SCORING = ("the name of a scikit-learn scorer, e.g. 'accuracy', 'balanced_accuracy', 'f1_macro' or 'roc_auc' "
           "(see sklearn.metrics.get_scorer_names())")
DATA = Rule(_check_bundle, BUNDLE, bad=["wine", 3, None])
DATA_OR_FUNCTION = Rule(_check_bundle_or_function, BUNDLE + " or a function seed -> DataBundle", bad=["wine", 3, None])
MODEL_BUILDER = Rule(check_model, MODEL_FACTORY, bad=["mlp", 3])
PIPELINES = Rule(_check_pipelines, "a dict of name -> scikit-learn transformer or None (at least one)",
                 bad=[["standard"], {"standard": "scale"}, {}, 3])
TRANSFORMER = sklearn_object(_is_transformer, "a scikit-learn transformer with fit and transform, e.g. StandardScaler()",
                             bad=["scale", 3])
