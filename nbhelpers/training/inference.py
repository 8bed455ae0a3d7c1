"""Running a trained model: `evaluate` (loss and accuracy on a split) and `predict` (outputs).

Both run in eval mode without gradients, in batches; `fit` uses the same `run_eval` for
its validation pass, so a number `fit` prints and one `evaluate` returns agree. Both take
NumPy arrays as well as tensors, converted as `fit` converts them (`data.loader.as_split`).

>>> import torch
>>> from nbhelpers import MLP, evaluate, predict
>>> model = MLP(4, 3, width=8)
>>> x, y = torch.randn(10, 4), torch.arange(10) % 3
>>> predict(model, x).shape, sorted(evaluate(model, (x, y)))
(torch.Size([10, 3]), ['accuracy', 'loss'])
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable

import torch
from torch import nn

from .._checks import COUNT, MODEL, AnyOf, Optional, Rule, Satisfies, checked, fail
from ..data.loader import (EVAL_DATA, DataConversionWarning, as_inputs, check_eval_data, eval_batches, is_array,
                           split_labels)
from ..device import DEVICE
from .losses import LOSS, check_targets, class_loss, make_loss


def correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per sample, whether the prediction in ``out`` (logits) matches ``y``: the course's one
    definition of accuracy (one logit: binary at 0; soft labels: their largest class)."""
    if out.ndim == 1 or out.shape[-1] == 1:  # one logit: binary
        return (out.reshape(-1) > 0) == (y.reshape(-1) > 0.5)
    if y.ndim == out.ndim:  # soft labels (mixup, cutmix, label smoothing)
        y = y.argmax(1)
    return out.argmax(1) == y


def count_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return correct(out, y).sum()


def model_device(model: nn.Module) -> torch.device:
    """Where ``model`` lives: its first parameter's or buffer's device (the CPU for a model with
    neither, e.g. a dynamically quantized one, whose weights are packed)."""
    first = next(iter(model.parameters()), None)
    first = first if first is not None else next(iter(model.buffers()), None)
    return first.device if first is not None else torch.device("cpu")


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype inputs should have: that of ``model``'s first floating parameter (float32 without one)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def warn_notes(notes: set[str]) -> None:
    """Tell the reader what was converted, once per note; called by a public function, so the
    warning points at the reader's line (their call, then `checked`'s wrapper, then this)."""
    for note in sorted(notes):
        warnings.warn(note, DataConversionWarning, stacklevel=4)


def run_eval(model, batches, loss_fn, classification, autocast, channels_last,
             func: str = "fit", check: Callable | None = None) -> tuple[torch.Tensor, int, bool]:
    """``(sums, count, classification)`` over ``batches``: the summed loss and number correct as
    one device tensor (no sync), the number of samples counted on the host, and whether the
    task is classification (decided from the first batch when ``None``). ``check(out, y)``
    runs on the first batch (the label check of `evaluate`, and of a reader's validation
    batches in `fit`'s first epoch)."""
    model.eval()
    total, count = None, 0
    with torch.no_grad(), autocast:
        for x, y in batches:
            if channels_last and x.ndim == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            out = model(x)
            if check is not None and count == 0:
                check(out, y)
            if classification is None:
                classification = looks_like_classification(out, y)
            correct = count_correct(out, y).float() if classification else torch.zeros((), device=out.device)
            batch = torch.stack([loss_fn(out, y).float() * y.shape[0], correct])
            total, count = batch if total is None else total + batch, count + y.shape[0]
    if total is None:
        raise fail(func, "data", "a validation set with at least one batch", "an empty one")
    return total, count, classification


def looks_like_classification(out: torch.Tensor, y: torch.Tensor) -> bool:
    """For a callable loss: integer targets and one output column per class."""
    return not torch.is_floating_point(y) and out.ndim == 2 and out.shape[1] > 1


@checked(model=MODEL, data=Rule(lambda f, n, v: check_eval_data(f, n, v), EVAL_DATA, bad=["test.csv", 3]),
         loss=LOSS, device=Optional(DEVICE))
def evaluate(model: nn.Module, data, *, loss: str | Callable = "cross_entropy",
             device: str | torch.device | None = None) -> dict[str, float]:
    """Loss (and accuracy for classification) of ``model`` on ``data``, e.g. ``bundle.test``.

    >>> evaluate(result.model, bundle.test)            # doctest: +SKIP
    {'loss': 0.31, 'accuracy': 0.889}
    """
    loss_fn, classification = make_loss(loss, func="evaluate")
    device = torch.device(device) if device is not None else model_device(model)
    notes: set[str] = set()
    batches = eval_batches(data, device, "evaluate", dtype=model_dtype(model), class_loss=class_loss(loss), notes=notes)
    warn_notes(notes)
    labels = split_labels(batches)

    def check(out, y):  # all the labels where they are one tensor, else the first batch's
        check_targets("evaluate", loss, out, y, {None: y if labels is None else labels})

    channels_last = any(isinstance(m, nn.Conv2d) and m.weight.is_contiguous(memory_format=torch.channels_last)
                        and not m.weight.is_contiguous() for m in model.modules())
    sums, count, classification = run_eval(model, batches, loss_fn, classification, contextlib.nullcontext(),
                                           channels_last, func="evaluate", check=check)
    loss_sum, correct = sums.tolist()
    result = {"loss": loss_sum / count}
    if classification:
        result["accuracy"] = correct / count
    return result


@checked(model=MODEL, x=AnyOf(Satisfies(is_array, "a tensor or NumPy array", bad=["text", 3]), Satisfies(
    lambda v: hasattr(v, "__iter__") and not isinstance(v, (str, bytes, dict)), "an iterable of batches"),
    ), batch_size=COUNT)
def predict(model: nn.Module, x: torch.Tensor | Iterable, *, batch_size: int = 1024) -> torch.Tensor:
    """Model outputs (logits) for ``x``, computed in eval mode in batches, returned on the CPU.

    ``x`` is a tensor, a NumPy array (float64 becomes the model's float32, with a note) or an
    iterable of batches (of ``x`` or of ``(x, y)``)."""
    device = model_device(model)
    if is_array(x):
        notes: set[str] = set()
        x = as_inputs("predict", "x", x, model_dtype(model), notes)
        warn_notes(notes)
    model.eval()
    with torch.no_grad():
        if isinstance(x, torch.Tensor):
            outs = [model(x[i:i + batch_size].to(device)) for i in range(0, len(x), batch_size)]
        else:
            outs = [model((b[0] if isinstance(b, (tuple, list)) else b).to(device)) for b in x]
    return torch.cat(outs).cpu()
