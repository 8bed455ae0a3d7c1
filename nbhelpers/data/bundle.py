"""`DataBundle`: train, validation and test tensors of one dataset, and how to split them.

>>> import torch
>>> from nbhelpers import DataBundle
>>> data = DataBundle((torch.randn(8, 3), torch.arange(8) % 2), None, None, ["a", "b"])
>>> data.num_classes, data.input_shape
(2, (3,))
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._checks import TEXT, check_arguments, check_number, fail, Optional, Real, Satisfies
from ..device import get_device

if TYPE_CHECKING:  # fastai is imported only when to_fastai() is called: it is slow to import
    from fastai.data.core import DataLoaders

Split = tuple[torch.Tensor, torch.Tensor]


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the places searched and could not be downloaded."""


class DataIntegrityError(ValueError):
    """A data file does not match its SHA-256 in the shipped ``MANIFEST`` or is malformed."""


def _is_split(value) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(t, torch.Tensor) for t in value)
            and value[0].ndim >= 1 and value[1].ndim >= 1 and len(value[0]) == len(value[1]) > 0)


SPLIT = Satisfies(_is_split, "an (x, y) pair of tensors with one label per row", bad=["train.csv", (1, 2)])
BUNDLE_FIELDS = dict(
    train=SPLIT, valid=Optional(SPLIT), test=Optional(SPLIT),
    classes=Optional(Satisfies(lambda v: isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v),
                               "a list of class names (None for regression)", bad=["cat", [0, 1]])),
    name=TEXT,
    mean_std=Optional(Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2
                                and all(Real().ok(u) for u in v) and v[1] > 0,
                                "a pair (mean, std) with std > 0", bad=[0.5, (0.5, 0)])),
)


@dataclass
class DataBundle:
    """Train, validation and test tensors of one dataset, with what is needed to read them.

    >>> import torch
    >>> data = DataBundle((torch.randn(8, 3), torch.arange(8) % 2), None, None, ["a", "b"])
    >>> data.num_classes, data.input_shape, data.task
    (2, (3,), 'classification')
    """

    train: Split
    valid: Split | None
    test: Split | None
    classes: list[str] | None  # None for regression
    name: str = "data"
    mean_std: tuple[float, float] | None = None  # normalization applied to x, so plots can undo it

    __checked__ = BUNDLE_FIELDS

    def __post_init__(self) -> None:
        check_arguments("DataBundle", BUNDLE_FIELDS, vars(self))
        shape = tuple(self.train[0].shape[1:])
        for split in ("valid", "test"):
            pair = getattr(self, split)
            if pair is not None and tuple(pair[0].shape[1:]) != shape:
                raise fail("DataBundle", split, f"inputs shaped like train's, N x {' x '.join(map(str, shape))}",
                           tuple(pair[0].shape))
        if self.classes is not None:
            for split in ("train", "valid", "test"):
                pair = getattr(self, split)
                if pair is not None and not torch.is_floating_point(pair[1]) and pair[1].device.type != "meta" and (
                        int(pair[1].min()) < 0 or int(pair[1].max()) >= len(self.classes)):
                    raise fail("DataBundle", split, f"labels 0..{len(self.classes) - 1}, one per class name",
                               f"labels {int(pair[1].min())}..{int(pair[1].max())}",
                               "Pass a name for every class, or classes=None for regression.")

    @property
    def num_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train[0].shape[1:])

    @property
    def task(self) -> str:
        return "regression" if self.classes is None else "classification"

    def to(self, device: torch.device | str) -> DataBundle:
        """A new bundle with every tensor on ``device`` (this one is left as it is)."""
        move = lambda s: None if s is None else (s[0].to(device), s[1].to(device))  # noqa: E731
        return replace(self, train=move(self.train), valid=move(self.valid), test=move(self.test))

    def subset(self, n_train: int, seed: int = 0) -> DataBundle:
        """Keep ``n_train`` training rows (stratified for classification); valid and test stay whole.

        >>> import torch
        >>> data = DataBundle((torch.randn(100, 3), torch.arange(100) % 4), None, None, list("abcd"))
        >>> data.subset(20).train[1].bincount().tolist()
        [5, 5, 5, 5]
        """
        x, y = self.train
        check_number("DataBundle.subset", "n_train", n_train, integer=True, low=1, high=len(y))
        check_number("DataBundle.subset", "seed", seed, integer=True, low=0)
        _, keep = _split(y.cpu().numpy() if self.classes is not None else None, len(y), int(n_train), seed)
        keep = torch.from_numpy(keep).to(y.device)
        return replace(self, train=(x[keep], y[keep]))

    def only_classes(self, names, *, train: int | None = None, valid: int | None = None,
                     test: int | None = None) -> DataBundle:
        """A bundle of the classes ``names`` only, labels renumbered 0, 1, ... in their order.

        ``train``, ``valid``, ``test``: how many images of each class each split keeps (its
        first ones, in the split's order; None keeps them all).

        >>> import torch
        >>> data = DataBundle((torch.randn(12, 3), torch.arange(12) % 3), None, None, ["a", "b", "c"])
        >>> few = data.only_classes(["c", "a"], train=2)
        >>> few.classes, few.train[1].tolist()
        (['c', 'a'], [1, 0, 1, 0])
        """
        where = "DataBundle.only_classes"
        if self.classes is None:
            raise fail(where, "names", "class names, which a regression bundle has none of", names)
        if isinstance(names, str) or not names or len(set(names)) != len(names) or not set(names) <= set(self.classes):
            raise fail(where, "names", f"a list of distinct names among {self.classes}", names)
        for name, count in (("train", train), ("valid", valid), ("test", test)):
            if count is not None:
                check_number(where, name, count, integer=True, low=1)
        codes = torch.tensor([self.classes.index(name) for name in names])

        def keep(pair: Split | None, per_class: int | None) -> Split | None:
            if pair is None:
                return None
            x, y = pair
            rows = torch.cat([torch.nonzero(y == code).flatten()[:per_class] for code in codes.to(y.device)])
            rows = rows.sort().values
            return x[rows], (y[rows, None] == codes.to(y.device)).int().argmax(1)

        return replace(self, train=keep(self.train, train), valid=keep(self.valid, valid), test=keep(self.test, test),
                       classes=list(names))

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Undo ``mean_std`` (for plotting images in their original [0, 1] range)."""
        if self.mean_std is None:
            return x
        mean, std = self.mean_std
        return x * std + mean

    def to_fastai(self, batch_size: int = 128, device: torch.device | str | None = None) -> DataLoaders:
        """fastai ``DataLoaders`` over the same tensors: train shuffled (drop_last), valid in order.

        fastai collates sample by sample, so it is slower than ``DeviceLoader``; use it for
        fastai's tools (``lr_find``, ``fine_tune``, interpretation), not for speed.

        >>> dls = fashion_mnist(quick=True).subset(256).to_fastai(batch_size=64)  # doctest: +SKIP
        """
        check_number("DataBundle.to_fastai", "batch_size", batch_size, integer=True, low=1)
        if self.valid is None:
            raise fail("DataBundle.to_fastai", "valid", "a split (fastai needs one)", None, "Use valid_size > 0.")
        from fastai.data.core import DataLoaders
        from torch.utils.data import TensorDataset

        device = get_device() if device is None else torch.device(device)
        train, valid = TensorDataset(*self.train), TensorDataset(*self.valid)
        return DataLoaders.from_dsets(train, valid, bs=int(batch_size), device=device, num_workers=0)

    def __repr__(self) -> str:
        lines = [f"DataBundle {self.name!r} ({self.task}):"]
        for split, pair in (("train", self.train), ("valid", self.valid), ("test", self.test)):
            shapes = "None" if pair is None else ", ".join(f"{v} {tuple(t.shape)} {t.dtype}"
                                                           for v, t in zip("xy", pair))  # fmt: skip
            lines.append(f"  {split}: {shapes}")
        if self.classes is not None:
            lines.append(f"  classes ({len(self.classes)}): {', '.join(self.classes)}")
        return "\n".join(lines)


# ---------------------------------------------------------------- splits


def _check_size(func: str, name: str, value: int | float, n: int | None = None) -> None:
    """A split size is a count in [0, n) or a fraction in [0, 1)."""
    allowed = "an integer count >= 0" + (f" and < {n}" if n is not None else "") + " or a fraction in [0, 1)"
    check_number(func, name, value, low=0)
    is_count = isinstance(value, numbers.Integral)
    if (not is_count and value >= 1) or (is_count and n is not None and value >= n):
        raise fail(func, name, allowed, value)


def _split(y: np.ndarray | None, n: int, n_take: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(rest, taken)`` of ``n`` rows, both sorted; stratified by ``y`` unless it is None.

    Each class gets its proportional share of ``n_take``, rounded so that the shares add up
    (largest remainders first): class counts stay within 1 of exact proportions.
    """
    rng = np.random.default_rng(seed)
    if y is None:
        taken = rng.permutation(n)[:n_take]
    else:
        classes, counts = np.unique(y, return_counts=True)
        quota = counts * n_take / n
        share = np.floor(quota).astype(int)
        share[np.argsort(share - quota, kind="stable")[: n_take - share.sum()]] += 1
        taken = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, share)])
    taken = np.sort(taken)
    return np.setdiff1d(np.arange(n), taken, assume_unique=True), taken


def _carve_valid(x: torch.Tensor, y: torch.Tensor, size: int | float, seed: int) -> tuple[Split, Split | None]:
    """Split ``(x, y)`` into train and a stratified valid (None when ``size`` is 0)."""
    n_valid = int(size) if isinstance(size, numbers.Integral) else round(size * len(y))
    if n_valid == 0:
        return (x, y), None
    train, valid = (torch.from_numpy(i) for i in _split(y.numpy(), len(y), n_valid, seed))
    return (x[train], y[train]), (x[valid], y[valid])

