"""Smaller and faster models: magnitude pruning, dynamic int8 quantization, and a table that measures both.

Both functions return a new model and leave the one passed in untouched, so a notebook can
compare the original with its compressed copies side by side:

>>> import torch
>>> from nbhelpers import MLP
>>> model = MLP(40, 10, width=64)
>>> round(sparsity(prune(model, 0.9)), 2), sparsity(model)
(0.9, 0.0)
>>> small = quantize(model)
>>> (small(torch.randn(8, 1, 40)) - model(torch.randn(8, 1, 40))).shape
torch.Size([8, 10])
"""

from __future__ import annotations

import copy
import io
import statistics
import time
import warnings
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from ._checks import COUNT, FRACTION, MODEL, DictOf, Function, Optional, Rule, check_number, checked, fail, shown
from .training.inference import evaluate

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd


PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)


def _prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    return [(m, "weight") for m in model.modules() if isinstance(m, PRUNABLE)]


def _check_prunable(func: str, name: str, model) -> None:
    if not isinstance(model, nn.Module):
        raise fail(func, name, "a torch.nn.Module", shown(model))
    if not _prunable(model):
        raise fail(func, name, "a model with Linear or Conv layers", type(model).__name__)


def _check_split(func: str, name: str, split) -> None:
    if not (isinstance(split, (tuple, list)) and len(split) == 2 and all(isinstance(t, torch.Tensor) for t in split)):
        raise fail(func, name, "a pair (x, y) of tensors, e.g. bundle.test", shown(split))


@checked(model=Rule(_check_prunable, "a torch.nn.Module with Linear or Conv layers", bad=["model", 3]),
         amount=FRACTION, fine_tune=Optional(Function("a function that trains the model it is given")))
def prune(model: nn.Module, amount: float, *, fine_tune: Callable[[nn.Module], object] | None = None) -> nn.Module:
    """A copy of ``model`` with the fraction ``amount`` of its smallest weights set to zero.

    Global magnitude pruning (``torch.nn.utils.prune.global_unstructured`` with the L1
    criterion) over every Linear and convolution weight: the threshold is shared, so layers
    with many small weights lose more. ``fine_tune``, if given, is called with the pruned copy
    while the masks are still in place, so training there cannot regrow a pruned weight (e.g.
    ``fine_tune=lambda m: fit(m, data, epochs=1, lr=1e-4)``). Then the zeros are made
    permanent (no masks left) and the copy is an ordinary model. Zeros in a dense
    tensor save no time on their own: the file shrinks only once compressed (see
    `size_speed_table`).

    >>> from nbhelpers import MLP
    >>> round(sparsity(prune(MLP(20, 2, width=32), 0.5)), 2)
    0.5
    """
    pruned = copy.deepcopy(model)
    targets = _prunable(pruned)
    if amount > 0:
        torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=float(amount))
        if fine_tune is not None:
            fine_tune(pruned)
        for module, name in targets:
            torch_prune.remove(module, name)
    return pruned


@checked(model=MODEL)
def sparsity(model: nn.Module) -> float:
    """The fraction of exactly-zero weights over the Linear and convolution layers of ``model``."""
    weights = [getattr(m, name) for m, name in _prunable(model)]
    total = sum(w.numel() for w in weights)
    return sum(int((w == 0).sum()) for w in weights) / total if total else 0.0


@checked(model=MODEL)
def quantize(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with dynamic int8 quantization of its Linear, GRU and LSTM layers (CPU only).

    Weights are stored as 8-bit integers with a scale; activations are quantized on the fly
    for each batch (hence "dynamic"), so no calibration data are needed. Convolutions stay
    in float: dynamic quantization covers only layers whose cost is a matrix product with
    weights, which is where an MLP or a recurrent net spends its time.

    >>> import torch
    >>> from nbhelpers import MLP
    >>> model = MLP(20, 2, width=32).eval()
    >>> x = torch.randn(16, 20)
    >>> bool((quantize(model)(x) - model(x)).abs().max() < 0.05)
    True
    """
    float_copy = copy.deepcopy(model).cpu().eval()
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to the torchao package; it still works and
        # needs no extra install, and torchao's int8 path targets GPUs first.
        warnings.filterwarnings("ignore", "torch.ao.quantization is deprecated", DeprecationWarning)
        warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
        return torch.ao.quantization.quantize_dynamic(float_copy, {nn.Linear, nn.GRU, nn.LSTM}, dtype=torch.qint8)


@checked(model=MODEL)
def file_bytes(model: nn.Module) -> tuple[int, int]:
    """Bytes of ``model``'s saved ``state_dict``: as saved, and compressed with zlib (level 6)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    raw = buffer.getvalue()
    return len(raw), len(zlib.compress(raw, 6))


def latency_ms(model: nn.Module, x: torch.Tensor, *, repeats: int = 30) -> float:
    """Median wall time in milliseconds of one forward pass of ``x`` on the CPU, after a warm-up."""
    check_number("latency_ms", "repeats", repeats, integer=True, low=1)
    model = model.eval()
    times = []
    with torch.inference_mode():
        for i in range(repeats + 3):
            start = time.perf_counter()
            model(x)
            if i >= 3:  # the first calls allocate and pick kernels
                times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _stored_numbers(value) -> int:
    """Numbers in a state_dict, including the int8 weights that quantized layers keep in tuples."""
    if isinstance(value, torch.Tensor):
        return value.numel() if value.ndim else 0  # 0-d: a quantization scale or a counter
    if isinstance(value, Mapping):
        return sum(_stored_numbers(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(_stored_numbers(v) for v in value)
    return 0


def _weight_tensors(model: nn.Module) -> list[torch.Tensor]:
    """Weight matrices and kernels, float or quantized (whose ``weight`` is a method)."""
    found = []
    for m in model.modules():
        if isinstance(m, PRUNABLE):
            found.append(m.weight)
        elif callable(getattr(m, "weight", None)):
            found.append(m.weight().dequantize())
    return found


@checked(models=DictOf(MODEL, "a non-empty dict {name: model}"),
         split=Rule(_check_split, "a pair (x, y) of tensors, e.g. bundle.test", bad=["test", 3, None]),
         batch_size=COUNT, repeats=COUNT)
def size_speed_table(models: Mapping[str, nn.Module], split: tuple[torch.Tensor, torch.Tensor], *,
                     batch_size: int = 1, repeats: int = 30) -> pd.DataFrame:
    """Parameters, non-zero weights, file size, CPU latency and accuracy of each model, on the CPU.

    ``parameters`` counts the numbers in the saved ``state_dict`` (weights, biases, buffers),
    so quantized layers, whose weights are not ``nn.Parameter`` s, count too. ``split`` is
    ``(x, y)`` (e.g. ``bundle.test``); latency is the median time of a forward
    pass over the first ``batch_size`` inputs (1: one request at a time, as a served model
    sees them). Everything runs on the CPU, where quantized models run.

    >>> import torch
    >>> from nbhelpers import MLP
    >>> x, y = torch.randn(64, 20), torch.randint(0, 2, (64,))
    >>> t = size_speed_table({"float": MLP(20, 2), "int8": quantize(MLP(20, 2))}, (x, y), repeats=2)
    >>> list(t.columns)
    ['model', 'parameters', 'nonzero_weights', 'file_kb', 'zipped_kb', 'latency_ms', 'accuracy']
    """
    import pandas as pd

    x, y = split[0].cpu(), split[1].cpu()
    rows = []
    for name, model in models.items():
        model = model.cpu().eval()
        raw, zipped = file_bytes(model)
        rows.append(dict(model=name, parameters=_stored_numbers(model.state_dict()),
                         nonzero_weights=sum(int((w != 0).sum()) for w in _weight_tensors(model)),
                         file_kb=raw / 1024, zipped_kb=zipped / 1024,
                         latency_ms=latency_ms(model, x[:batch_size], repeats=repeats), accuracy=evaluate(model, (x, y))["accuracy"]))
    return pd.DataFrame(rows)
