"""Data-parallel training (DDP) through the same `fit`: no second loop.

Launch a script with ``torchrun --nproc_per_node N script.py`` (or ``python -m
torch.distributed.run``); inside it, `process_group` sets up the process group from
torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``) with the
backend that fits the machine (``nccl`` on CUDA GPUs, ``gloo`` on CPUs) and tears it down
after. `fit` notices the group by itself (``torch.distributed.is_initialized()``), so the
call is the one a single process makes:

    with process_group() as group:          # rank, world_size, device, main
        result = fit(model, bundle, epochs=5, lr=1e-3, seed=0)

Inside a group `fit`:

- wraps the model in ``DistributedDataParallel`` (rank 0's weights broadcast to every rank
  at the start; gradients averaged across ranks in every backward);
- gives each rank its own shard of the training set each epoch (`DeviceLoader`'s
  ``shard``): one permutation per epoch from a seed every rank shares, every
  ``world_size``-th index, so shards never overlap and cover the set once per epoch (a
  reader's own ``DataLoader`` needs a ``DistributedSampler`` for that: `fit` calls its
  ``set_epoch`` every epoch, and warns with `UnshardedDataWarning` when a loader has none);
- shards the validation set too and sums the loss and correct counts of all ranks, so every
  rank reports (and early-stops on) the same numbers;
- averages the batch-norm running statistics across ranks at the end of each epoch (each
  rank's come from its own shard), so the weights and buffers of all ranks stay identical;
- prints progress and writes checkpoints on rank 0 only;
- returns the plain model (not the DDP wrapper) in `TrainResult.model`.

Outside a group nothing changes (`Group.single`): the same code runs in a notebook. The
effective batch is ``world_size * batch_size``: scale the learning rate with it (the linear
scaling rule of chapter 05) when you add processes.

>>> with process_group() as group:   # no torchrun here: one process, no group set up
...     group.rank, group.world_size, group.active
(0, 1, False)
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .._checks import Choice, Optional, checked


@dataclass(frozen=True)
class Group:
    """This process's place in a data-parallel run: ``rank`` of ``world_size`` (``active`` once
    ``torch.distributed`` is initialized), ``local_rank`` on its machine and the ``device`` it
    trains on. `fit` calls its methods; outside a process group each is the single-process
    identity."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    active: bool = False
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Whether this process reports and writes files (rank 0)."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int] | None:
        return (self.rank, self.world_size) if self.active else None

    @classmethod
    def current(cls) -> Group:
        """The running process group, or the single process when there is none."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return cls()
        nccl = dist.get_backend() == "nccl"
        device = torch.device("cuda", torch.cuda.current_device()) if nccl else torch.device("cpu")
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(),
                   local_rank=int(os.environ.get("LOCAL_RANK", 0)), active=True, device=device)

    def shared_seed(self, seed: int) -> int:
        """Rank 0's ``seed`` on every rank (so all draw the same shard order), and each rank's
        global torch generator offset by its rank (so dropout and augmentation differ)."""
        if not self.active:
            return seed
        import torch.distributed as dist

        value = torch.tensor([seed], dtype=torch.int64, device=self.device)
        dist.broadcast(value, src=0)
        torch.manual_seed(torch.initial_seed() + self.rank)
        return int(value.item())

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """``model`` in ``DistributedDataParallel`` (the module trained through); itself outside a group.
        Buffers are not broadcast at every forward (`sync_buffers` averages them once an epoch),
        so a validation pass runs no collective and ranks may see unequal shares of it."""
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = None if device.type != "cuda" else [torch.cuda.current_device() if device.index is None else device.index]
        newer = "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters  # torch >= 2.14
        return DistributedDataParallel(model, device_ids=ids, **{"forward_sync_buffers" if newer else
                                                                 "broadcast_buffers": False})

    def sync_buffers(self, model: nn.Module) -> None:
        """Average the floating buffers (batch-norm running statistics) over the ranks."""
        if not self.active:
            return
        import torch.distributed as dist

        for buffer in model.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
                buffer.div_(self.world_size)

    def totals(self, sums: list[torch.Tensor], seen: int, count: int) -> tuple[list[float], int, int]:
        """The epoch's sums (losses and correct counts) and sample counts, summed over the ranks,
        read to the host in one transfer."""
        if not self.active:
            return torch.stack(sums).tolist(), seen, count
        import torch.distributed as dist

        extra = torch.tensor([seen, count], dtype=torch.float64)
        numbers = torch.cat([torch.stack(sums).double().to(self.device), extra.to(self.device)])
        dist.all_reduce(numbers, op=dist.ReduceOp.SUM)
        *values, seen, count = numbers.tolist()
        return values, int(seen), int(count)

    def all_finite(self, value: torch.Tensor) -> bool:
        """Whether ``value`` is finite on every rank (all ranks stop together, or none does)."""
        finite = torch.isfinite(value).all()
        if not self.active:
            return bool(finite)
        import torch.distributed as dist

        flag = finite.to(self.device, torch.int32)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())

    def config(self) -> dict:
        """What a result's ``config`` records about the group (nothing for one process)."""
        return {"world_size": self.world_size} if self.active else {}


@checked(backend=Optional(Choice("gloo", "nccl")))
@contextlib.contextmanager
def process_group(backend: str | None = None) -> Iterator[Group]:
    """Set up the data-parallel process group torchrun describes, yield this process's `Group`,
    and tear the group down afterwards (also on an error).

    ``backend``: ``nccl`` where CUDA GPUs are available (each process then trains on GPU
    ``LOCAL_RANK``), else ``gloo``. Run without torchrun (no ``WORLD_SIZE`` in the
    environment) it sets nothing up and yields the single process, so the same script runs
    as ``python script.py`` too.

    >>> with process_group(backend="gloo") as group:
    ...     group.main
    True
    """
    if "WORLD_SIZE" not in os.environ:
        yield Group()
        return
    import torch.distributed as dist

    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend)
    try:
        yield Group.current()
    finally:
        dist.destroy_process_group()
