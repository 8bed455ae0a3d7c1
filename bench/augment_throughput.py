"""Augmentation throughput: our batched pipeline against seed 003's per-sample torchvision pipeline.

The same Fashion-MNIST images (10,000 of the training set; the shipped subset's 6,000 when
the full set is missing) are augmented for one pass in batches of 128, several ways in one
process, interleaved over rounds so that machine noise hits them alike:

- seed 003's pipeline: ``RandomRotation(15)`` + ``RandomAffine(degrees=0, translate=(0.1, 0.1))``
  + ``ToTensor`` + ``Normalize`` on PIL images, one by one, in a ``DataLoader`` (num_workers=0
  as in a notebook, and 2 worker processes where they start);
- ours: ``pipeline(rotate=15, shift=0.1)`` on whole batches of tensors kept on the device
  (a ``DeviceLoader``, as `fit` runs it), fresh angles and shifts per image;
- for reference, torchvision v2 on whole batches: fast, but ONE angle and shift per batch,
  so not the same augmentation.

The median images/s of each way and the ratio ours / per-sample are printed. Goal: >= 15x.

    python bench/augment_throughput.py [--rounds 5] [--quick] [--threads 1]

On a CPU that other jobs share, torch's OpenMP threads wait on each other (measured here:
grid_sample on 128 images 0.7 ms with 1 thread, 7.9 ms with 2 on a busy 2-core machine);
``--threads 1`` measures the augmentation rather than that contention.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms
from torchvision.transforms import v2

from nbhelpers import DeviceLoader, fashion_mnist, get_device, pipeline
from nbhelpers.data import FASHION_MEAN_STD, DataNotFoundError

BATCH, N_IMAGES = 128, 10_000
MEAN, STD = FASHION_MEAN_STD


class PILImages(torch.utils.data.Dataset):
    """What torchvision's (Fashion)MNIST dataset does per item: a PIL image from uint8 bytes, then the transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


SEED_003 = transforms.Compose([
    transforms.RandomRotation(degrees=15),
    transforms.RandomAffine(degrees=0, translate=(0.1, 0.1)),
    transforms.ToTensor(),
    transforms.Normalize((MEAN,), (STD,)),
])  # fmt: skip


def per_sample(workers: int):
    def run(images, labels, x, y, device):
        loader = torch.utils.data.DataLoader(PILImages(images, labels, SEED_003), batch_size=BATCH, shuffle=True,
                                             num_workers=workers)
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
    return run


OURS = pipeline(rotate=15, shift=0.1)
V2_BATCH = v2.Compose([v2.RandomRotation(15), v2.RandomAffine(degrees=0, translate=(0.1, 0.1))])


def batched(augment):
    def run(images, labels, x, y, device):
        last = None
        for xb, yb in DeviceLoader(x, y, batch_size=BATCH, shuffle=True, device=device, augment=augment):
            last = xb
        if device.type == "cuda":
            torch.cuda.synchronize()  # the GPU may still be working: count its time
        return last
    return run


WAYS = {
    "per-sample torchvision, DataLoader workers=0": per_sample(0),
    "per-sample torchvision, DataLoader workers=2": per_sample(2),
    "nbhelpers pipeline, batched on the device": batched(lambda xb, yb: OURS(xb, yb)),
    "torchvision v2 on whole batches (1 draw/batch)": batched(lambda xb, yb: (V2_BATCH(xb), yb)),
}


def load(quick: bool):
    try:
        data = fashion_mnist(quick=quick)
    except DataNotFoundError as error:
        print(f"full Fashion-MNIST not found ({error}); using the shipped subset")
        data = fashion_mnist(quick=True)
    x = torch.cat([data.train[0], data.valid[0]])[:N_IMAGES]
    y = torch.cat([data.train[1], data.valid[1]])[:N_IMAGES]
    images = (x[:, 0] * STD + MEAN).mul(255).round().to(torch.uint8).numpy()  # the original bytes, exactly
    return images, y.numpy(), x, y, data.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the shipped subset, 2 rounds: a smoke run")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice); 1 on a CPU shared with other jobs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images, labels, x, y, name = load(args.quick)
    device = get_device()
    rounds = 2 if args.quick else args.rounds
    print(f"device {device}, torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow "
          f"{PIL.__version__}, {torch.get_num_threads()} threads, Python {platform.python_version()}; "
          f"{len(x)} images of {name}, batch {BATCH}, {rounds} rounds")
    ways = dict(WAYS)
    for way, fn in list(ways.items()):  # warm-up: allocator, kernels, worker start-up
        try:
            fn(images[:4 * BATCH], labels[:4 * BATCH], x[:4 * BATCH], y[:4 * BATCH], device)
        except (RuntimeError, OSError) as error:  # worker processes may be forbidden in a sandbox
            print(f"  skipped {way}: {type(error).__name__}: {error}")
            del ways[way]
    rates: dict[str, list[float]] = {way: [] for way in ways}
    for r in range(rounds):
        for way, fn in ways.items():
            torch.manual_seed(r)
            start = time.perf_counter()
            fn(images, labels, x, y, device)
            rates[way].append(len(x) / (time.perf_counter() - start))
    median = {way: statistics.median(r) for way, r in rates.items()}
    for way, r in rates.items():
        print(f"  {way:<47} {median[way]:>9,.0f} images/s (median; min {min(r):,.0f}, max {max(r):,.0f})")
    ours = median["nbhelpers pipeline, batched on the device"]
    seed = median["per-sample torchvision, DataLoader workers=0"]
    print(f"ratio: nbhelpers / per-sample (workers=0) = {ours / seed:.1f}x  (goal >= 15)")
    if "per-sample torchvision, DataLoader workers=2" in median:
        print(f"       nbhelpers / per-sample (workers=2) = "
              f"{ours / median['per-sample torchvision, DataLoader workers=2']:.1f}x")


if __name__ == "__main__":
    main()
