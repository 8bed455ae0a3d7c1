"""Turn what a reader passes as `data` into batch iterables on the training device.

Tensors take the fast path: they move to the device once and batches are index slices
(`DeviceLoader`). A reader's own iterables of ``(x, y)`` batches, such as a
``torch.utils.data.DataLoader``, are used as they are, each batch moved as it arrives.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import torch

from ._checks import fail
from .data import DeviceLoader

BatchAugment = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
EVAL_BATCH_SIZE = 1024
DATA_FORMS = ("a DataBundle, ((x_train, y_train), (x_valid, y_valid)) or (x, y) tensors, "
              "or (train_loader, valid_loader) iterables of (x, y) batches such as DataLoaders")


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


def resolve_data(data, *, batch_size: int, device: torch.device, generator: torch.Generator,
                 augment: BatchAugment | None, func: str = "fit"):
    """Return ``(train_batches, valid_batches_or_None)`` for any accepted form of ``data``."""
    if hasattr(data, "train") and hasattr(data, "valid"):  # a DataBundle
        train, valid = data.train, data.valid
    elif _is_pair(data):
        train, valid = data, None
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        train, valid = data
    elif _is_batches(data):
        train, valid = data, None
    else:
        raise fail(func, "data", DATA_FORMS, type(data).__name__)

    if _is_pair(train):
        if valid is not None and not _is_pair(valid):
            raise fail(func, "data", "a validation pair (x_valid, y_valid) of tensors or None after the training pair", type(valid).__name__)
        train_batches = DeviceLoader(*train, batch_size=batch_size, shuffle=True, device=device,
                                     augment=augment, generator=generator)
        valid_batches = None if valid is None else DeviceLoader(*valid, batch_size=max(batch_size, EVAL_BATCH_SIZE), device=device)
        return train_batches, valid_batches
    if _is_batches(train) and (valid is None or _is_batches(valid)):
        return MovedBatches(train, device, augment), None if valid is None else MovedBatches(valid, device)
    raise fail(func, "data", DATA_FORMS, f"({type(train).__name__}, {type(valid).__name__})")


def eval_batches(data, device: torch.device, func: str) -> Iterable:
    """Batches for evaluation: ``(x, y)`` tensors or an iterable of ``(x, y)`` batches."""
    if _is_pair(data):
        return DeviceLoader(*data, batch_size=EVAL_BATCH_SIZE, device=device)
    if _is_batches(data):
        return MovedBatches(data, device)
    raise fail(func, "data", "an (x, y) pair of tensors (e.g. bundle.test) or an iterable of (x, y) batches", type(data).__name__)
