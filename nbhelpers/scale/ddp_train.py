"""Train the course's small ResNet on Fashion-MNIST with N processes, through `fit` (DDP).

Run it with torchrun, which starts the N processes and tells each its rank::

    torchrun --standalone --nproc_per_node 2 -m nbhelpers.scale.ddp_train --epochs 2 --out runs/ddp
    python -m torch.distributed.run --standalone --nproc_per_node 2 -m nbhelpers.scale.ddp_train --quick

It lives in the package (not in the course's ``bench/``) so an installed nbhelpers runs it
too. On GPUs each process takes GPU ``LOCAL_RANK`` (backend ``nccl``); on CPUs the processes
share the cores (``gloo``). On several machines run the same command on each, with
``--nnodes M --node_rank i --rdzv_endpoint host:port`` in place of ``--standalone``; the
script does not change. Without torchrun (``python -m nbhelpers.scale.ddp_train``) it trains
in one process.

Each rank writes ``<out>/rank<r>.json`` (atomically): its final weights' SHA-256 (parameters
and buffers), the history `fit` returned, and with ``--record-seen`` a digest of every
training image it was given in each epoch (the test checks that the shards cover the
training set once per epoch without overlap). Rank 0 also writes the training set's digests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import torch


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in ``state_dict`` order: equal digests, equal weights."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def image_digests(x: torch.Tensor) -> list[str]:
    """A short digest of each image (its bytes), to recognise it in a batch."""
    rows = x.detach().cpu().reshape(len(x), -1).contiguous().numpy()
    return [hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest() for row in rows]


class SeenImages:
    """A `fit` callback that records the digests of the training images of each epoch's batches."""

    def __init__(self) -> None:
        self.epochs: dict[int, list[str]] = {}

    def on_batch_begin(self, state) -> None:
        self.epochs.setdefault(state.epoch, []).extend(image_digests(state.batch[0]))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=None, help="the first N training images (default: all)")
    parser.add_argument("--valid-images", type=int, default=None, help="the first N validation images (default: all)")
    parser.add_argument("--batch-size", type=int, default=128, help="per process: the step sees N times this")
    parser.add_argument("--lr", type=float, default=None, help="default: 2e-3 x the number of processes")
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="the shipped 7,000-image subset (offline)")
    parser.add_argument("--record-seen", action="store_true", help="record each epoch's training images")
    parser.add_argument("--out", type=Path, default=Path("ddp-run"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    from .._files import atomic_write
    from ..data.datasets import fashion_mnist
    from ..device import seed_everything
    from ..models import ResNet
    from ..training import fit, process_group

    args = parse(argv)
    started = time.perf_counter()
    with process_group() as group:
        bundle = fashion_mnist(quick=args.quick)
        (x, y), (xv, yv) = bundle.train, bundle.valid
        x, y = x[:args.train_images], y[:args.train_images]
        xv, yv = xv[:args.valid_images], yv[:args.valid_images]
        seed_everything(args.seed)
        model = ResNet(widths=tuple(args.widths))  # DDP gives every rank rank 0's initial weights
        seen = SeenImages()
        lr = args.lr if args.lr is not None else 2e-3 * group.world_size  # the linear scaling rule
        result = fit(model, ((x, y), (xv, yv)), epochs=args.epochs, lr=lr, batch_size=args.batch_size,
                     seed=args.seed, callbacks=[seen] if args.record_seen else [], progress=group.main)
        record = {"rank": group.rank, "world_size": group.world_size, "weights_sha256": weights_digest(result.model),
                  "model_type": type(result.model).__name__, "lr": lr, "batch_size": args.batch_size,
                  "train_images": len(y), "history": result.history.to_dict(orient="list"),
                  "seconds": time.perf_counter() - started, "threads": torch.get_num_threads()}
        if args.record_seen:
            record["seen"] = {str(epoch): digests for epoch, digests in seen.epochs.items()}
            if group.main:
                record["train_digests"] = image_digests(x)
        atomic_write(args.out / f"rank{group.rank}.json", lambda f: f.write(json.dumps(record).encode()))
    if record["rank"] == 0:
        print(f"ddp_train: {record['world_size']} process(es), {len(y)} training images, {args.epochs} epochs, "
              f"{record['seconds']:.1f} s; weights {record['weights_sha256'][:12]}; wrote {args.out}/rank*.json"
              f" (pid {os.getpid()})")
    return record


if __name__ == "__main__":
    main()
