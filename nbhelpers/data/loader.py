"""Batches on the training device: `DeviceLoader` for tensors, and `fit`'s data adapter.

Tensors take the fast path: they move to the device once and batches are index slices
(`DeviceLoader`). NumPy arrays and pandas tables (straight from scikit-learn) become tensors
first, once: float64 inputs in the model's dtype, labels as the loss wants them (`as_split`).
A reader's own iterables of ``(x, y)`` batches, such as a ``torch.utils.data.DataLoader``,
are used as they are, each batch moved as it arrives.

>>> import torch
>>> from nbhelpers import DeviceLoader
>>> xb, yb = next(iter(DeviceLoader(torch.randn(100, 1, 28, 28), torch.arange(100) % 10, batch_size=64, shuffle=True)))
>>> xb.shape
torch.Size([64, 1, 28, 28])
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

from .._checks import COUNT, FLAG, Function, Instance, Optional, Real, Satisfies, checked, fail, is_pandas, shown
from ..device import DEVICE, get_device

Split = tuple[torch.Tensor, torch.Tensor]
BatchAugment = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
EVAL_BATCH_SIZE = 1024
DATA_FORMS = ("a DataBundle, ((x_train, y_train), (x_valid, y_valid)) or (x, y) of tensors or NumPy arrays, "
              "or (train_loader, valid_loader) iterables of (x, y) batches such as DataLoaders")
EVAL_DATA = "an (x, y) pair of tensors or NumPy arrays (e.g. bundle.test) or an iterable of (x, y) batches"


class DataConversionWarning(UserWarning):
    """`fit`, `evaluate` or `predict` converted the data given in a way worth knowing: float64
    inputs to float32, or float labels with whole values to int64 class numbers."""


def _is_shard(value) -> bool:
    return (isinstance(value, tuple) and len(value) == 2 and all(Real(low=0, integer=True).ok(v) for v in value)
            and value[0] < value[1])


class DeviceLoader:
    """Batches of whole tensors kept on the device: indexing by batch, no per-sample Python.

    ``x`` and ``y`` are moved once; each epoch draws one ``torch.randperm`` on the CPU
    (from ``generator`` if given, so the caller can save and restore the shuffling state).
    ``augment(xb, yb) -> (xb, yb)`` runs on each batch on the device.

    ``shard=(rank, world_size)`` yields only this process's share of each epoch's order, for
    data-parallel training (`fit` sets it inside a ``torch.distributed`` process group): every
    process draws the same permutation (the same ``generator`` seed) and takes every
    ``world_size``-th index from ``rank`` on, so the shards never overlap and together cover
    the data once. With ``shuffle`` (training) the order is padded from its start to a multiple
    of ``world_size``, as ``DistributedSampler`` pads, so every process runs the same number of
    batches (DDP needs that); without it (evaluation) the shards are left unequal.

    >>> import torch
    >>> loader = DeviceLoader(torch.randn(10, 2), torch.arange(10), batch_size=4, device="cpu")
    >>> len(loader), [len(yb) for _, yb in loader]
    (3, [4, 4, 2])
    """

    @checked(x=Instance(torch.Tensor, "a torch.Tensor"), y=Instance(torch.Tensor, "a torch.Tensor"), batch_size=COUNT,
             shuffle=FLAG, device=Optional(DEVICE),
             augment=Optional(Function("a callable (xb, yb) -> (xb, yb)")), drop_last=FLAG,
             generator=Optional(Satisfies(lambda g: isinstance(g, torch.Generator) and g.device.type == "cpu",
                                          "a CPU torch.Generator")),
             shard=Optional(Satisfies(_is_shard, "(rank, world_size) with 0 <= rank < world_size",
                                      bad=[(2, 2), (0, 0), 1, (-1, 2)])))
    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 128, *, shuffle: bool = False,
                 device: torch.device | str | None = None,
                 augment: Callable[[torch.Tensor, torch.Tensor], Split] | None = None,
                 drop_last: bool = False, generator: torch.Generator | None = None,
                 shard: tuple[int, int] | None = None) -> None:  # fmt: skip
        func = "DeviceLoader"
        if x.ndim == 0 or len(x) == 0:
            raise fail(func, "x", "a tensor with at least one row", tuple(x.shape))
        if y.ndim == 0 or len(y) != len(x):
            raise fail(func, "y", f"a tensor with as many rows as `x` ({len(x)})", tuple(y.shape))
        self.device = get_device() if device is None else torch.device(device)
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.augment, self.generator = augment, generator
        self.shard = None if shard is None else (int(shard[0]), int(shard[1]))

    def _size(self) -> int:
        """How many samples this process sees per epoch (all of them without a shard)."""
        n = len(self.y)
        if self.shard is None:
            return n
        rank, world = self.shard
        return -(-n // world) if self.shuffle else len(range(rank, n, world))

    def __len__(self) -> int:
        n, bs = self._size(), self.batch_size
        return n // bs if self.drop_last else -(-n // bs)

    def __iter__(self) -> Iterator[Split]:
        n = len(self.y)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device="cpu")
        else:
            order = torch.arange(n)
        if self.shard is not None:
            rank, world = self.shard
            if self.shuffle and n % world:  # pad so every process has as many batches
                order = torch.cat([order, order[:world - n % world]])
            order = order[rank::world]
        order = order.to(self.device)
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


class UnshardedDataWarning(UserWarning):
    """Inside a process group, `fit` was given a ``DataLoader`` that every rank reads whole."""


def _sampler(batches):
    """The sampler that orders a ``DataLoader``'s images (through its batch sampler), or None."""
    batch_sampler = getattr(batches, "batch_sampler", None)
    return getattr(batch_sampler, "sampler", None) or getattr(batches, "sampler", None)


def warn_unsharded(batches, shard: tuple[int, int]) -> None:
    """Warn when a reader's ``DataLoader`` inside a process group has no ``DistributedSampler``:
    then each rank trains on all of it, the same images in every step of every rank."""
    from torch.utils.data import DataLoader, DistributedSampler

    rank, world = shard
    if world > 1 and isinstance(batches, DataLoader) and not isinstance(_sampler(batches), DistributedSampler):
        warnings.warn(
            f"fit(): this process is rank {rank} of {world} in a process group, and the training DataLoader of "
            f"`data` has a {type(_sampler(batches)).__name__}, not a DistributedSampler: every rank trains on all "
            f"of it each epoch, so the {world} processes do {world} times the work for one process's progress. "
            "Build it as DataLoader(dataset, batch_size=..., sampler=DistributedSampler(dataset)) (fit calls its "
            "set_epoch every epoch), or pass tensors, which fit shards by itself.", UnshardedDataWarning, stacklevel=6)


class MovedBatches:
    """A reader's iterable of ``(x, y)`` batches, moved to ``device`` (and augmented) on the way.
    A ``DistributedSampler``'s ``set_epoch`` is called before each pass, so that every epoch
    draws a new order (and all ranks the same one)."""

    def __init__(self, batches: Iterable, device: torch.device, augment: BatchAugment | None = None):
        self.batches, self.device, self.augment = batches, device, augment
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.batches)  # TypeError for iterables without a length, as for any len()

    def __iter__(self):
        sampler = _sampler(self.batches)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(self.epoch)
        self.epoch += 1
        for batch in self.batches:
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise fail("fit", "data", "iterables that yield (x, y) pairs", type(batch).__name__)
            x, y = (t.to(self.device, non_blocking=True) for t in batch)
            yield self.augment(x, y) if self.augment else (x, y)


def is_array(value) -> bool:
    """One split's inputs or labels as a whole: a tensor, a NumPy array, a pandas DataFrame or Series."""
    return isinstance(value, (torch.Tensor, np.ndarray)) or is_pandas(value, "DataFrame", "Series")


def _is_pair(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(is_array(t) for t in value)


def _is_batches(value) -> bool:
    return hasattr(value, "__iter__") and not is_array(value) and not isinstance(value, (tuple, list, str, dict))


def _check_pair(func: str, name: str, split: str | None, x, y) -> None:
    """One label per row of x, or an error that names the split (the argument alone when it is the split)."""
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        words = f"{split} x and y" if split else "x and y"
        raise fail(func, name, f"{words} with one label per row", f"x of shape {tuple(x.shape)} and y of shape "
                   f"{tuple(y.shape)}", "Check that x and y come from the same split.")


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
        hint = "Pass the labels with the inputs: (x, y)." if is_array(data) else ""
        raise fail(func, name, DATA_FORMS, shown(data), hint)
    if _is_pair(train):
        if valid is not None and not _is_pair(valid):
            raise fail(func, name, "a validation pair (x_valid, y_valid) of tensors or arrays, or None, after the "
                       "training pair", type(valid).__name__)
        for split, pair in (("train", train), ("valid", valid)):
            if pair is not None:
                _check_pair(func, name, split, *pair)
    elif not (_is_batches(train) and (valid is None or _is_batches(valid))):
        raise fail(func, name, DATA_FORMS, f"({type(train).__name__}, {type(valid).__name__})")
    return train, valid


# ---------------------------------------------------------------- a reader's arrays, as the model and loss want them

FLOAT64_NOTE = "{func}(): float64 inputs converted to {dtype}, the model's dtype. Pass {how} to skip the copy."
LABELS_NOTE = ("{func}(): float labels with whole values (0.0, 1.0, ...) converted to int64 class numbers for "
               "loss={loss!r}. If they are numeric targets, not classes, pass loss='mse'.")


def _as_tensor(func: str, name: str, what: str, value) -> torch.Tensor:
    """``value`` as a tensor, sharing a NumPy array's memory where it can."""
    if isinstance(value, torch.Tensor):
        return value
    array = value.to_numpy() if is_pandas(value, "DataFrame", "Series") else value
    if array.dtype.kind not in "biuf":  # booleans, integers, floats
        raise fail(func, name, f"{what} of numbers", f"an array of dtype {array.dtype}",
                   "Encode text and categories as numbers first (e.g. sklearn.preprocessing.OrdinalEncoder).")
    if not array.flags.writeable:  # torch warns about (and must not write into) read-only memory
        array = array.copy()
    return torch.from_numpy(np.ascontiguousarray(array))


def as_inputs(func: str, name: str, x, dtype: torch.dtype, notes: set[str]) -> torch.Tensor:
    """Inputs as a tensor; float64 in ``dtype`` (the model's), noted in ``notes``."""
    x = _as_tensor(func, name, "inputs", x)
    if x.dtype == torch.float64 and dtype != torch.float64:
        name = str(dtype).removeprefix("torch.")
        how = "x.astype('float32') (NumPy) or x.float() (torch)" if dtype == torch.float32 else f"x.to(torch.{name})"
        notes.add(FLOAT64_NOTE.format(func=func, dtype=name, how=how))
        return x.to(dtype)
    return x


def as_split(func: str, name: str, split: str | None, pair, *, dtype: torch.dtype, class_loss: str | None,
             notes: set[str]) -> Split:
    """One split's ``(x, y)`` as tensors the model and the loss take, converted once, before any move.

    ``class_loss`` names the loss when it wants class numbers 0..C-1 (``cross_entropy``,
    ``nll``): then integer labels become int64 and float labels with whole values too (with a
    note: they may be numeric targets given to the default loss); other float labels are left
    for `check_targets` to explain. Otherwise float64 targets take ``dtype``. What is worth
    telling the reader goes into ``notes``.
    """
    x = as_inputs(func, name, pair[0], dtype, notes)
    y = _as_tensor(func, name, f"{split} labels" if split else "labels", pair[1])
    if class_loss is None:
        return x, (y.to(dtype) if y.dtype == torch.float64 and dtype != torch.float64 else y)
    if not torch.is_floating_point(y):
        return x, y.long()  # int32 or uint8 labels: cross_entropy takes int64 only
    if y.ndim == 1 and bool(((y == y.round()) & y.isfinite()).all()):  # one read, once per split, before training
        notes.add(LABELS_NOTE.format(func=func, loss=class_loss))
        return x, y.long()
    return x, y


def split_labels(batches) -> torch.Tensor | None:
    """All the labels of ``batches`` where they are one tensor (a `DeviceLoader`), else None."""
    return batches.y if isinstance(batches, DeviceLoader) else None


def resolve_data(data, *, batch_size: int, device: torch.device, generator: torch.Generator,
                 augment: BatchAugment | None, func: str = "fit", dtype: torch.dtype = torch.float32,
                 class_loss: str | None = None, notes: set[str] | None = None, shard: tuple[int, int] | None = None):
    """Return ``(train_batches, valid_batches_or_None)`` for any accepted form of ``data``; arrays are
    converted by `as_split` (``dtype``, ``class_loss``, ``notes``). ``shard=(rank, world_size)``
    gives each split's `DeviceLoader` this process's share (a reader's own batches are used
    as they are: shard them with a ``DistributedSampler``; a ``DataLoader`` without one is warned of)."""
    notes = set() if notes is None else notes
    train, valid = split_data(func, "data", data)
    if _is_pair(train):
        convert = dict(dtype=dtype, class_loss=class_loss, notes=notes)
        train_batches = DeviceLoader(*as_split(func, "data", "train", train, **convert), batch_size=batch_size,
                                     shuffle=True, device=device, augment=augment, generator=generator, shard=shard)
        valid_batches = None if valid is None else DeviceLoader(*as_split(func, "data", "valid", valid, **convert),
                                                                batch_size=max(batch_size, EVAL_BATCH_SIZE),
                                                                device=device, shard=shard)
        return train_batches, valid_batches
    if shard is not None:
        warn_unsharded(train, shard)
    return MovedBatches(train, device, augment), None if valid is None else MovedBatches(valid, device)


def check_eval_data(func: str, name: str, data) -> None:
    if _is_pair(data):
        _check_pair(func, name, None, *data)
    elif not _is_batches(data):
        raise fail(func, name, EVAL_DATA, shown(data))


def eval_batches(data, device: torch.device, func: str, *, dtype: torch.dtype = torch.float32,
                 class_loss: str | None = None, notes: set[str] | None = None) -> Iterable:
    """Batches for evaluation: ``(x, y)`` tensors or arrays (converted by `as_split`) or an iterable
    of ``(x, y)`` batches."""
    check_eval_data(func, "data", data)
    if _is_pair(data):
        pair = as_split(func, "data", None, data, dtype=dtype, class_loss=class_loss,
                        notes=set() if notes is None else notes)
        return DeviceLoader(*pair, batch_size=EVAL_BATCH_SIZE, device=device)
    return MovedBatches(data, device)
