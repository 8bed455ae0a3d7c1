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
from collections.abc import Sequence
from pathlib import Path

import torch

from .._checks import COUNT, FLAG, Optional, Real, checked
from ..models._blocks import SIZES


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


@checked(processes=COUNT, epochs=COUNT, train_images=Optional(COUNT), valid_images=Optional(COUNT), widths=SIZES,
         batch_size=COUNT, quick=FLAG, record_seen=FLAG, timeout=Real(low=0, low_open=True))
def launch_ddp(processes: int = 2, *, epochs: int = 2, train_images: int | None = 1024,
               valid_images: int | None = 500, widths: Sequence[int] = (8, 16), batch_size: int = 128,
               quick: bool = True, record_seen: bool = False, timeout: float = 600.0) -> list[dict]:
    """Run this script under torchrun with ``processes`` processes on this machine (``gloo`` on
    CPUs, ``nccl`` on GPUs) and return each rank's record (rank 0 first) with ``wall_seconds``,
    the launch's wall time, start-up included. The processes import this same nbhelpers.

    What a notebook does to show DDP; from a shell, call torchrun yourself (the module's
    docstring). A failed launch raises with the end of its output.
    """
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
                   "-m", "nbhelpers.scale.ddp_train", "--epochs", str(epochs), "--batch-size", str(batch_size),
                   "--widths", *map(str, widths), "--out", folder]
        command += ["--train-images", str(train_images)] if train_images else []
        command += ["--valid-images", str(valid_images)] if valid_images else []
        command += ["--quick"] * quick + ["--record-seen"] * record_seen
        package = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")]),
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"launch_ddp(): torchrun exited with {done.returncode}:\n"
                               f"{(done.stdout + done.stderr)[-3000:]}")
        return [{**json.loads((Path(folder) / f"rank{r}.json").read_text()), "wall_seconds": wall}
                for r in range(processes)]


if __name__ == "__main__":
    main()
