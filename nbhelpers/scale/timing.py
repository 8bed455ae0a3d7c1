"""Where one training step's time goes: `time_breakdown` (``torch.profiler`` around the phases
of a step) and `plot_time_breakdown`.

A step is five phases: getting the batch (``data``: an index slice of tensors kept on the
device, or a ``DataLoader``'s per-image indexing, collation and the copy to the device),
``forward`` (with the loss), ``backward``, ``optimizer`` (the step and zeroing the
gradients) and ``other`` (the loop's own Python, the profiler's bookkeeping). On a GPU the
work is queued asynchronously, so each phase ends with a synchronization: every phase is
charged its own time (a real loop overlaps the phases, so its step is a little shorter).

>>> import torch
>>> from nbhelpers import CNN
>>> x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
>>> table = time_breakdown(CNN(channels=(8,)), (x, y), batch_size=16, steps=2, warmup=1, device="cpu")
>>> table["phase"].tolist()
['data', 'forward', 'backward', 'optimizer', 'other']
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._checks import COUNT, FLAG, LEARNING_RATE, MODEL, Choice, DictOf, Frame, Optional, Real, Satisfies, checked
from ..data.loader import DeviceLoader
from ..device import DEVICE, get_device
from ..training.stepping import resolve_amp

if TYPE_CHECKING:
    import pandas as pd

    from ..plots._figure import Figure

PHASES = ("data", "forward", "backward", "optimizer", "other")
PHASE_COLORS = {"data": "#8c8c8c", "forward": "#4c72b0", "backward": "#dd8452", "optimizer": "#55a868",
                "other": "#c9c9c9"}


def _is_pair(value) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(t, torch.Tensor) for t in value)
            and value[0].ndim > 0 and len(value[0]) == len(value[1]) > 0)


def _batches(x, y, batch_size: int, loader: str, device: torch.device):
    """An endless stream of ``(x, y)`` batches on ``device``, the way ``loader`` gets them."""
    if loader == "device":
        batches = DeviceLoader(x, y, batch_size, shuffle=True, device=device, drop_last=len(y) >= batch_size,
                               generator=torch.Generator().manual_seed(0))
        return itertools.chain.from_iterable(itertools.repeat(batches))
    from torch.utils.data import DataLoader, TensorDataset

    pin = device.type == "cuda"  # page-locked host memory: the copy can run asynchronously (non_blocking)
    batches = DataLoader(TensorDataset(x.cpu(), y.cpu()), batch_size=batch_size, shuffle=True, pin_memory=pin,
                         drop_last=len(y) >= batch_size, generator=torch.Generator().manual_seed(0))
    return ((xb.to(device, non_blocking=pin), yb.to(device, non_blocking=pin))
            for xb, yb in itertools.chain.from_iterable(itertools.repeat(batches)))


@checked(model=MODEL, data=Satisfies(_is_pair, "an (x, y) pair of tensors with one label per row",
                                     bad=["train.csv", 3]),
         batch_size=COUNT, steps=COUNT, warmup=Real(low=0, integer=True), loader=Choice("device", "dataloader"),
         amp=Choice("auto", "bf16", "fp16", "off"), channels_last=Optional(FLAG), lr=LEARNING_RATE,
         device=Optional(DEVICE))
def time_breakdown(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor], *, batch_size: int = 128,
                   steps: int = 20, warmup: int = 3, loader: str = "device", amp: str = "off",
                   channels_last: bool | None = None, lr: float = 0.01,
                   device: str | torch.device | None = None) -> pd.DataFrame:
    """Profile ``steps`` training steps of a copy of ``model`` (SGD with momentum, cross-entropy)
    on ``data`` and return one row per phase: ``phase``, ``ms`` per step, ``share`` of the step.

    ``loader``: ``"device"`` keeps the data on the device as one tensor and slices batches
    (what `fit` does with tensors); ``"dataloader"`` uses a ``torch.utils.data.DataLoader``
    over a ``TensorDataset`` on the host (pinned memory and non-blocking copies on CUDA).
    ``amp``: ``"off"`` (float32), ``"auto"`` (what `fit` chooses: bf16 on GPUs, float32 on the
    CPU), ``"bf16"`` or ``"fp16"``. ``channels_last`` defaults to what `fit` does on CUDA (on for
    convolutional nets) and off on the CPU. ``warmup`` steps run first, unprofiled (kernel
    choice, allocator). The reader's ``model`` is not changed.

    ``table.attrs`` holds ``step_ms`` (the mean step), ``device``, ``loader``, ``amp`` and
    ``ops``: the ten operators with the most self time per step (``torch.profiler``'s view).
    """
    import pandas as pd
    from torch.profiler import ProfilerActivity, profile, record_function

    dev = torch.device(device) if device is not None else get_device()
    model = copy.deepcopy(model).to(dev).train()
    convs = any(isinstance(m, nn.Conv2d) for m in model.modules())
    last = (dev.type == "cuda" and convs) if channels_last is None else channels_last
    if last:
        model = model.to(memory_format=torch.channels_last)
    dtype = None if amp == "off" else resolve_amp(amp if amp == "auto" else amp, dev)
    autocast = torch.autocast(dev.type, dtype=dtype) if dtype else contextlib.nullcontext()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    batches = _batches(*data, batch_size, loader, dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def step() -> None:
        with record_function("data"):
            xb, yb = next(batches)
            if last and xb.ndim == 4:
                xb = xb.contiguous(memory_format=torch.channels_last)
            sync()
        with record_function("forward"), autocast:
            loss = nn.functional.cross_entropy(model(xb), yb)
            sync()
        with record_function("backward"):
            loss.backward()
            sync()
        with record_function("optimizer"):
            opt.step()
            opt.zero_grad(set_to_none=True)
            sync()

    for _ in range(warmup):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with _native_stderr_silenced(), profile(activities=activities) as prof:
        started = time.perf_counter()
        for _ in range(steps):
            step()
        wall = time.perf_counter() - started
    events = {e.key: e for e in prof.key_averages()}
    ms = {p: events[p].cpu_time_total / 1000 / steps for p in PHASES[:-1]}
    ms["other"] = max(0.0, 1000 * wall / steps - sum(ms.values()))
    step_ms = sum(ms.values())
    table = pd.DataFrame({"phase": list(PHASES), "ms": [ms[p] for p in PHASES],
                          "share": [ms[p] / step_ms for p in PHASES]})
    table.attrs.update(step_ms=step_ms, device=str(dev), loader=loader, amp=str(dtype or "float32"),
                       channels_last=last, batch_size=batch_size, ops=_top_ops(events, steps, dev))
    return table


@contextlib.contextmanager
def _native_stderr_silenced():
    """The profiler's C++ side (Kineto) prints start/stop lines straight to file descriptor 2,
    whatever its log level, and a notebook shows them under every cell: send them to
    ``os.devnull`` for the time of the profile (Python's own errors are raised as usual)."""
    import os
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real file descriptor 2 (an embedded interpreter)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _top_ops(events: dict, steps: int, device: torch.device, n: int = 10) -> pd.DataFrame:
    import pandas as pd

    on_gpu = device.type == "cuda"
    rows = []
    for key, e in events.items():
        if key in PHASES or key.startswith("ProfilerStep"):
            continue
        self_us = (getattr(e, "self_device_time_total", 0) or getattr(e, "self_cuda_time_total", 0)) if on_gpu \
            else e.self_cpu_time_total
        rows.append({"op": key, "self_ms": self_us / 1000 / steps, "calls": e.count / steps})
    table = pd.DataFrame(rows, columns=["op", "self_ms", "calls"])
    return table.sort_values("self_ms", ascending=False).head(n).reset_index(drop=True)


@checked(tables=Satisfies(lambda v: is_frame(v) or DictOf(Frame("a DataFrame"), "").ok(v),
                          "a time_breakdown table or a non-empty dict {name: table}", bad=["table", 3, {}]),
         title=Optional(Satisfies(lambda v: isinstance(v, str), "a string", bad=[3])))
def plot_time_breakdown(tables: pd.DataFrame | Mapping[str, pd.DataFrame], *, title: str | None = None) -> Figure:
    """One horizontal bar per table (a setting), split into the phases of a step, in ms per step.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"phase": list(PHASES), "ms": [1.0, 2.0, 4.0, 1.0, 0.5], "share": [0.1] * 5})
    >>> len(plot_time_breakdown({"on the device": t}).axes)
    1
    """
    import matplotlib

    from ..plots._figure import Figure

    tables = {"": tables} if is_frame(tables) else dict(tables)
    with matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(6.4, 0.9 + 0.55 * len(tables)), layout="constrained")
        ax = fig.add_subplot()
        names = list(tables)[::-1]  # the first setting on top
        for row, name in enumerate(names):
            left = 0.0
            ms = tables[name].set_index("phase")["ms"]
            for phase in PHASES:
                width = float(ms.get(phase, 0.0))
                ax.barh(row, width, left=left, color=PHASE_COLORS[phase], edgecolor="white",
                        label=phase if row == 0 else None)
                left += width
            ax.text(left, row, f" {left:.1f} ms", va="center", fontsize=8)
        ax.set_yticks(range(len(names)), [str(n) for n in names])
        ax.set_xlabel("milliseconds per training step")
        ax.set_xlim(0, 1.15 * max(float(t["ms"].sum()) for t in tables.values()))
        ax.legend(ncols=len(PHASES), fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if title:
            ax.set_title(title, fontsize=10, pad=22)
    return fig


def is_frame(value) -> bool:
    from .._checks import is_pandas

    return is_pandas(value, "DataFrame")
