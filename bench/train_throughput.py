"""Training throughput: `fit` against a hand-written loop, a DataLoader loop and fastai.

The same 784-256-10 MLP trains for one epoch on the Fashion-MNIST training set (60,000
images; batch 128, Adam, lr 1e-3) four ways in one process. The ways are interleaved over
several rounds so that machine noise hits them alike; the median samples/s of each is
printed with the ratios. Goal: fit >= 0.95x the hand-written loop and >= 2x fastai. `fit`
uses torch's fused Adam kernel where it exists; a fifth way, the hand-written loop with
that kernel, shows how much of fit's time is its own overhead.

    python bench/train_throughput.py [--rounds 5] [--quick]

Chapter 09 adds two GPU measurements (each says it needs a GPU and stops on a CPU-only machine):

    python bench/train_throughput.py --precision [--rounds 3] [--out reference/09/gpu/precision.json]
        `fit` on the course's small ResNet, bf16 autocast (fit's default on a GPU) against
        float32 (amp=False), both channels-last (fit's choice on CUDA), in images/s and their
        ratio; and the same step with `time_breakdown`: bf16 + channels-last against float32
        with the default (contiguous) layout.
    python bench/train_throughput.py --compile [--out reference/09/gpu/compile.json]
        `fit(compile=True)` against eager: the first epoch (compile time included) and the
        later epochs, so the chapter can say when compiling pays.
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


def _record(kind: str, device: torch.device, extra: dict, out: str | None) -> dict:
    import datetime
    import json
    from pathlib import Path

    import nbhelpers

    record = {"bench": kind, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
              "versions": {"torch": torch.__version__, "python": platform.python_version(),
                           "nbhelpers": nbhelpers.__version__, "cuda": torch.version.cuda},
              "threads": torch.get_num_threads(), **extra}
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".part").write_text(json.dumps(record, indent=1, default=str))
        path.with_suffix(".part").replace(path)
        print(f"wrote {path}")
    return record


def _needs_gpu(what: str) -> bool:
    if torch.cuda.is_available():
        return False
    print(f"{what} needs a CUDA GPU; this torch ({torch.__version__}) sees none, so nothing was measured.")
    return True


def _epoch_rate(x, y, device, **options) -> float:
    from nbhelpers import ResNet, fit

    torch.cuda.synchronize()
    start = time.perf_counter()
    fit(ResNet(), (x, y), epochs=1, lr=1e-3, batch_size=256, progress=False, device=device, **options)
    torch.cuda.synchronize()
    return len(x) / (time.perf_counter() - start)


def precision_ratio(x, y, rounds: int, out: str | None) -> dict | None:
    """fit's images/s with bf16 autocast against float32 on the small ResNet (GPU only)."""
    if _needs_gpu("--precision"):
        return None
    from nbhelpers import ResNet, time_breakdown

    device = torch.device("cuda")
    x, y = x.to(device), y.to(device)
    _epoch_rate(x[:2048], y[:2048], device, amp="auto")
    _epoch_rate(x[:2048], y[:2048], device, amp=False)
    rates: dict[str, list[float]] = {"bf16": [], "fp32": []}
    for _ in range(rounds):  # interleaved, so drift hits both alike
        rates["bf16"].append(_epoch_rate(x, y, device, amp="auto"))
        rates["fp32"].append(_epoch_rate(x, y, device, amp=False))
    median = {k: statistics.median(v) for k, v in rates.items()}
    steps = {name: time_breakdown(ResNet(), (x, y), batch_size=256, steps=30, warmup=5, device=device, **kw)
             for name, kw in {"bf16, channels-last": dict(amp="bf16", channels_last=True),
                              "fp32, contiguous": dict(amp="off", channels_last=False)}.items()}
    step_ms = {k: t.attrs["step_ms"] for k, t in steps.items()}
    ratio = median["bf16"] / median["fp32"]
    print(f"fit, small ResNet: bf16 {median['bf16']:,.0f} images/s, fp32 {median['fp32']:,.0f}: ratio {ratio:.2f}")
    print(f"one step: {step_ms}")
    return _record("precision", device, {"images_per_second": rates, "median": median, "ratio_bf16_over_fp32": ratio,
                                         "step_ms": step_ms, "phases": {k: t.to_dict(orient="list")
                                                                        for k, t in steps.items()}}, out)


def compile_gain(x, y, out: str | None, epochs: int = 3) -> dict | None:
    """fit with torch.compile against eager: per-epoch seconds, so compile time is visible (GPU only)."""
    if _needs_gpu("--compile"):
        return None
    from nbhelpers import ResNet, fit

    device = torch.device("cuda")
    x, y = x.to(device), y.to(device)
    _epoch_rate(x[:2048], y[:2048], device)
    seconds = {}
    for name, compiled in (("eager", False), ("compiled", True)):
        result = fit(ResNet(), (x, y), epochs=epochs, lr=1e-3, batch_size=256, progress=False, device=device,
                     compile=compiled)
        seconds[name] = result.history.query("split == 'train'")["seconds"].tolist()
    print(f"seconds per epoch: {seconds}")
    return _record("compile", device, {"epoch_seconds": seconds, "epochs": epochs, "images": len(x)}, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the shipped subset, 2 rounds: a smoke run")
    parser.add_argument("--precision", action="store_true", help="bf16 + channels-last against fp32 (GPU)")
    parser.add_argument("--compile", action="store_true", help="torch.compile against eager (GPU)")
    parser.add_argument("--out", default=None, help="where --precision or --compile writes its JSON record")
    args = parser.parse_args()
    if args.precision or args.compile:
        bundle = fashion_mnist(quick=args.quick)
        x, y = torch.cat([bundle.train[0], bundle.valid[0]]), torch.cat([bundle.train[1], bundle.valid[1]])
        if args.precision:
            precision_ratio(x, y, 2 if args.quick else min(args.rounds, 3), args.out)
        if args.compile:
            compile_gain(x, y, args.out if not args.precision else None)
        return
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
