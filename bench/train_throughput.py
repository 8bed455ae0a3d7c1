"""Training throughput: `fit` against a hand-written loop, a DataLoader loop and fastai.

The same 784-256-10 MLP trains for one epoch on the Fashion-MNIST training set (60,000
images; batch 128, Adam, lr 1e-3) four ways in one process. The ways are interleaved over
several rounds so that machine noise hits them alike; the median samples/s of each is
printed with the ratios. Goal: fit >= 0.95x the hand-written loop and >= 2x fastai. `fit`
uses torch's fused Adam kernel where it exists; a fifth way, the hand-written loop with
that kernel, shows how much of fit's time is its own overhead.

    python bench/train_throughput.py [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import nn

from nbhelpers import DataBundle, fashion_mnist, fit, get_device

BATCH, LR = 128, 1e-3


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def run_fit(x, y, device):
    fit(mlp(), (x, y), epochs=1, lr=LR, batch_size=BATCH, progress=False, device=device)


def run_hand_written(x, y, device, fused=False):
    """What a reader writes by hand: data on the device, index batches, loss summed on the device."""
    model = mlp().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
    x, y = x.to(device), y.to(device)
    order = torch.randperm(len(x)).to(device)
    total = torch.zeros((), device=device)
    for i in range(0, len(x), BATCH):
        idx = order[i:i + BATCH]
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach()
    total.item()


def run_dataloader(x, y, device):
    """The textbook loop: a DataLoader over a TensorDataset (per-sample indexing and collation)."""
    model = mlp().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    total = torch.zeros((), device=device)
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach()
    total.item()


def run_fastai(x, y, device):
    """A fastai Learner over the same tensors (`DataBundle.to_fastai`), no bar, no logging.

    fastai validates after every epoch: its validation set here is one batch, so that the
    timing is the training epoch, as for the other three.
    """
    from fastai.learner import Learner
    from fastai.optimizer import Adam

    bundle = DataBundle(train=(x, y), valid=(x[:BATCH], y[:BATCH]), test=None, classes=[str(i) for i in range(10)])
    learn = Learner(bundle.to_fastai(batch_size=BATCH, device=device), mlp(), loss_func=nn.functional.cross_entropy,
                    opt_func=Adam)
    learn.logger = lambda *args, **kwargs: None  # no per-epoch table; no bar unless fastai.callback.progress is imported
    learn.fit(1, lr=LR)


def run_hand_written_fused(x, y, device):
    """The same, with the fused Adam kernel `fit` uses: isolates fit's own overhead."""
    run_hand_written(x, y, device, fused=True)


WAYS = {"fit": run_fit, "hand-written": run_hand_written, "hand, fused Adam": run_hand_written_fused,
        "DataLoader": run_dataloader, "fastai Learner": run_fastai}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the shipped subset, 2 rounds: a smoke run")
    args = parser.parse_args()
    bundle = fashion_mnist(quick=args.quick)
    x = torch.cat([bundle.train[0], bundle.valid[0]])
    y = torch.cat([bundle.train[1], bundle.valid[1]])
    device = get_device()
    rounds = 2 if args.quick else args.rounds
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"Python {platform.python_version()}; {len(x)} images, batch {BATCH}, {rounds} rounds")
    for fn in WAYS.values():  # warm-up: allocator, kernels, fastai imports
        fn(x[:4 * BATCH], y[:4 * BATCH], device)
    rates: dict[str, list[float]] = {name: [] for name in WAYS}
    for r in range(rounds):
        for name, fn in WAYS.items():
            torch.manual_seed(r)
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn(x, y, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates[name].append(len(x) / (time.perf_counter() - start))
    median = {name: statistics.median(r) for name, r in rates.items()}
    for name, r in rates.items():
        print(f"  {name:<17} {median[name]:>9,.0f} samples/s (median; min {min(r):,.0f}, max {max(r):,.0f})")
    print(f"ratios: fit / hand-written     = {median['fit'] / median['hand-written']:.2f}  (goal >= 0.95)")
    print(f"        fit / hand, fused Adam = {median['fit'] / median['hand, fused Adam']:.2f}  (fit's own overhead)")
    print(f"        fit / fastai           = {median['fit'] / median['fastai Learner']:.2f}  (goal >= 2)")
    print(f"        fit / DataLoader       = {median['fit'] / median['DataLoader']:.2f}")


if __name__ == "__main__":
    main()
