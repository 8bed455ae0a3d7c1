"""Batches on the training device: `DeviceLoader` for tensors, and `fit`'s data adapter.

Tensors take the fast path: they move to the device once and batches are index slices
(`DeviceLoader`). A reader's own iterables of ``(x, y)`` batches, such as a
``torch.utils.data.DataLoader``, are used as they are, each batch moved as it arrives.

>>> import torch
>>> from nbhelpers import DeviceLoader
>>> xb, yb = next(iter(DeviceLoader(torch.randn(100, 1, 28, 28), torch.arange(100) % 10, batch_size=64, shuffle=True)))
>>> xb.shape
torch.Size([64, 1, 28, 28])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator

import torch

from .._checks import COUNT, FLAG, Function, Instance, Optional, Satisfies, checked, fail, shown
from ..device import DEVICE, get_device

Split = tuple[torch.Tensor, torch.Tensor]
BatchAugment = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
EVAL_BATCH_SIZE = 1024
DATA_FORMS = ("a DataBundle, ((x_train, y_train), (x_valid, y_valid)) or (x, y) tensors, "
              "or (train_loader, valid_loader) iterables of (x, y) batches such as DataLoaders")


class DeviceLoader:
    """Batches of whole tensors kept on the device: indexing by batch, no per-sample Python.

    ``x`` and ``y`` are moved once; each epoch draws one ``torch.randperm`` on the CPU
    (from ``generator`` if given, so the caller can save and restore the shuffling state).
    ``augment(xb, yb) -> (xb, yb)`` runs on each batch on the device.

    >>> import torch
    >>> loader = DeviceLoader(torch.randn(10, 2), torch.arange(10), batch_size=4, device="cpu")
    >>> len(loader), [len(yb) for _, yb in loader]
    (3, [4, 4, 2])
    """

    @checked(x=Instance(torch.Tensor, "a torch.Tensor"), y=Instance(torch.Tensor, "a torch.Tensor"), batch_size=COUNT,
             shuffle=FLAG, device=Optional(DEVICE),
             augment=Optional(Function("a callable (xb, yb) -> (xb, yb)")), drop_last=FLAG,
             generator=Optional(Satisfies(lambda g: isinstance(g, torch.Generator) and g.device.type == "cpu",
                                          "a CPU torch.Generator")))
    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 128, *, shuffle: bool = False,
                 device: torch.device | str | None = None,
                 augment: Callable[[torch.Tensor, torch.Tensor], Split] | None = None,
                 drop_last: bool = False, generator: torch.Generator | None = None) -> None:  # fmt: skip
        func = "DeviceLoader"
        if x.ndim == 0 or len(x) == 0:
            raise fail(func, "x", "a tensor with at least one row", tuple(x.shape))
        if y.ndim == 0 or len(y) != len(x):
            raise fail(func, "y", f"a tensor with as many rows as `x` ({len(x)})", tuple(y.shape))
        self.device = get_device() if device is None else torch.device(device)
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.augment, self.generator = augment, generator

    def __len__(self) -> int:
        n, bs = len(self.y), self.batch_size
        return n // bs if self.drop_last else -(-n // bs)

    def __iter__(self) -> Iterator[Split]:
        n = len(self.y)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device="cpu").to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        # Indexing (not slicing) copies, so an in-place augment cannot touch the stored data.
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            xb, yb = self.x[idx], self.y[idx]
            yield self.augment(xb, yb) if self.augment is not None else (xb, yb)


# ---------------------------------------------------------------- splits


def as_batch_augment(augment: Callable | None) -> BatchAugment | None:
    """Wrap ``augment`` as ``(x, y) -> (x, y)``.

    A callable with two positional parameters (``augment(x, y)`` or ``augment(x, y=None)``)
    receives ``(x, y)`` and must return both (mixup-style augmentations change labels); one
    with a single parameter (a ``lambda x: ...``, a torchvision transform) receives ``x`` only.
    """
    if augment is None:
        return None
    if not callable(augment):
        raise fail("fit", "augment", "None or a callable on a batch: augment(x) -> x or augment(x, y) -> (x, y)", augment)
    try:
        params = inspect.signature(augment).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature take one argument
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 2:
        return augment
    return lambda x, y: (augment(x), y)


class MovedBatches:
    """A reader's iterable of ``(x, y)`` batches, moved to ``device`` (and augmented) on the way."""

    def __init__(self, batches: Iterable, device: torch.device, augment: BatchAugment | None = None):
        self.batches, self.device, self.augment = batches, device, augment

    def __len__(self) -> int:
        return len(self.batches)  # TypeError for iterables without a length, as for any len()

    def __iter__(self):
        for batch in self.batches:
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise fail("fit", "data", "iterables that yield (x, y) pairs", type(batch).__name__)
            x, y = (t.to(self.device, non_blocking=True) for t in batch)
            yield self.augment(x, y) if self.augment else (x, y)


def _is_pair(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(t, torch.Tensor) for t in value)


def _is_batches(value) -> bool:
    return hasattr(value, "__iter__") and not isinstance(value, (torch.Tensor, tuple, list, str, dict))


def split_data(func: str, name: str, data) -> tuple:
    """``(train, valid_or_None)`` of any accepted form of ``data``, checked without moving anything."""
    if hasattr(data, "train") and hasattr(data, "valid"):  # a DataBundle
        train, valid = data.train, data.valid
    elif _is_pair(data):
        train, valid = data, None
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        train, valid = data
    elif _is_batches(data):
        train, valid = data, None
    else:
        raise fail(func, name, DATA_FORMS, shown(data))
    if _is_pair(train):
        if valid is not None and not _is_pair(valid):
            raise fail(func, name, "a validation pair (x_valid, y_valid) of tensors or None after the training pair",
                       type(valid).__name__)
        for split, (x, y) in (("training", train), ("validation", valid or train)):
            if len(x) != len(y) or y.ndim == 0:
                raise fail(func, name, f"{split} tensors x and y with one label per row", f"x of shape "
                           f"{tuple(x.shape)} and y of shape {tuple(y.shape)}", "Check that x and y come from the same split.")
    elif not (_is_batches(train) and (valid is None or _is_batches(valid))):
        raise fail(func, name, DATA_FORMS, f"({type(train).__name__}, {type(valid).__name__})")
    return train, valid


def resolve_data(data, *, batch_size: int, device: torch.device, generator: torch.Generator,
                 augment: BatchAugment | None, func: str = "fit"):
    """Return ``(train_batches, valid_batches_or_None)`` for any accepted form of ``data``."""
    train, valid = split_data(func, "data", data)
    if _is_pair(train):
        train_batches = DeviceLoader(*train, batch_size=batch_size, shuffle=True, device=device,
                                     augment=augment, generator=generator)
        valid_batches = None if valid is None else DeviceLoader(*valid, batch_size=max(batch_size, EVAL_BATCH_SIZE),
                                                                device=device)
        return train_batches, valid_batches
    return MovedBatches(train, device, augment), None if valid is None else MovedBatches(valid, device)


def check_eval_data(func: str, name: str, data) -> None:
    if not (_is_pair(data) or _is_batches(data)):
        raise fail(func, name, "an (x, y) pair of tensors (e.g. bundle.test) or an iterable of (x, y) batches",
                   shown(data))


def eval_batches(data, device: torch.device, func: str) -> Iterable:
    """Batches for evaluation: ``(x, y)`` tensors or an iterable of ``(x, y)`` batches."""
    if _is_pair(data):
        return DeviceLoader(*data, batch_size=EVAL_BATCH_SIZE, device=device)
    if _is_batches(data):
        return MovedBatches(data, device)
    raise fail(func, "data", "an (x, y) pair of tensors (e.g. bundle.test) or an iterable of (x, y) batches", type(data).__name__)
