"""CPU threads: how long `fit` takes to train the course's small nets on 1 thread and on more.

The chapters' time estimates were measured on one torch thread; torch starts with one per
core. Two nets train on the quick Fashion-MNIST subset (5,400 images, batch 128, Adam):
the default `MLP(784, 10)` (784-256-256-10) for 3 epochs and the default `CNN()` (32 and 64
channels) for 1 epoch. The thread counts are interleaved over several rounds in one process
so that machine noise hits them alike; the median seconds of each are printed with the
ratio to one thread, and the load average, since the answer depends on what else runs.

Result on the 2-core CPU we develop on (torch 2.14, medians of 5 rounds, three runs): idle
(load average 0.8 before), 2 threads took 0.76x as long as one for the MLP (0.68 s on one)
and 0.60x for the CNN (17.7 s); busy with other jobs (load average 1 to 11), they took 6.8x
and 8.8x as long for the MLP (1.0 s and 3.8 s on one) and 2.7x and 2.8x for the CNN (29 s and
55 s). A bounded gain against a loss of several times: the course's policy is one thread
(README, "CPU threads").

    python bench/threads.py [--rounds 5] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from nbhelpers import CNN, MLP, fashion_mnist, fit


def seconds(make_model, data, epochs: int) -> float:
    start = time.perf_counter()
    fit(make_model(), data, epochs=epochs, lr=1e-3, progress=False, device="cpu", seed=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    data = fashion_mnist(quick=True, valid_size=600)
    nets = {"MLP 784-256-256-10, 3 epochs": (lambda: MLP(784, 10), 3), "CNN 32-64, 1 epoch": (CNN, 1)}
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average before {os.getloadavg()[0]:.2f}, {args.rounds} rounds")
    for name, (make_model, epochs) in nets.items():
        seconds(make_model, data, 1)  # warm-up: first-call costs belong to no thread count
        times: dict[int, list[float]] = {n: [] for n in args.threads}
        for _ in range(args.rounds):
            for n in args.threads:
                torch.set_num_threads(n)
                times[n].append(seconds(make_model, data, epochs))
        base = statistics.median(times[args.threads[0]])
        for n, values in times.items():
            median = statistics.median(values)
            print(f"{name:<30} {n:>2} thread(s): median {median:6.2f} s "
                  f"(min {min(values):.2f}, max {max(values):.2f}), {median / base:.2f}x of {args.threads[0]}")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
