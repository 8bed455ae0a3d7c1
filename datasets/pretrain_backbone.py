"""Pretrain the course's backbone: nbhelpers/data/shipped/backbones/resnet-fashion-mnist-5.pt.

Usage: OMP_NUM_THREADS=1 python datasets/pretrain_backbone.py [SHIPPED_FOLDER]
(default: the package's nbhelpers/data/shipped, where MANIFEST is). Needs the full
Fashion-MNIST (`fashion_mnist(quick=False)` finds Debian's dataset-fashion-mnist in
/usr/share/datasets/fashion-mnist, or downloads it).

The source task is the first five Fashion-MNIST classes (T-shirt/top, Trouser, Pullover,
Dress, Coat): all 30,000 training images of those classes. Chapter 07's target task is the
other five (Sandal, Shirt, Sneaker, Bag, Ankle boot), so the backbone never sees a target
class: the test is whether features learned on garments help to tell apart shoes, bags and
shirts from a few labels each. The split keeps the data set's own order of classes; it puts
all three kinds of shoe and the bag in the target, things the source has nothing like, and
the shirt, the class most often confused with the source's tops, which the backbone has
seen the like of but never had to tell apart.

The network is `ResNet(widths=(16, 32, 64), num_classes=5)` (78k parameters, a checkpoint
of about 0.3 MB), trained with Adam and a one-cycle schedule (`lr=3e-3`) for `EPOCHS`
epochs in batches of 128, with seed `SEED`, on one CPU thread, no augmentation. The
script prints the accuracy on the 5,000 test images of the source classes, the time it
took and the SHA-256; it writes the checkpoint atomically (a temporary file renamed when
complete) and rewrites its line in the shipped MANIFEST.

The checkpoint holds tensors and plain values only (`torch.load(..., weights_only=True)`
reads it): `format`, `config` (the ResNet's arguments), `state_dict` and `record` (source
classes, seed, epochs, learning rate, batch size, images, the source test accuracy and the
torch version). It is serialized to memory first, so the bytes do not depend on the file
name, and nothing in it records the time, so a re-run reproduces the same bytes when torch
computes the same numbers: on one thread, with the same torch version and CPU kind, it did
(see the MANIFEST line and datasets/README.md). Another torch version, CPU or thread count
may change the last bits of the weights, and with them the SHA-256; the file is then a
different, equally valid backbone, and its MANIFEST line must be rewritten (this script
does that).
"""

from __future__ import annotations

import hashlib
import io
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clone: the nbhelpers next to this script

from nbhelpers import ResNet, evaluate, fashion_mnist, fit, seed_everything  # noqa: E402
from nbhelpers._files import atomic_write  # noqa: E402

SEED, EPOCHS, LR, BATCH, WIDTHS = 0, 3, 3e-3, 128, (16, 32, 64)
SOURCE = [0, 1, 2, 3, 4]  # T-shirt/top, Trouser, Pullover, Dress, Coat; the target is 5..9
KEY = "backbones/resnet-fashion-mnist-5.pt"  # the file's name in MANIFEST, under the shipped folder
SHIPPED = ROOT / "nbhelpers" / "data" / "shipped"


def source_split(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of the source classes, labels renumbered 0..4 in SOURCE's order."""
    keep = torch.isin(y, torch.tensor(SOURCE))
    relabel = torch.full((10,), -1, dtype=torch.long)
    relabel[torch.tensor(SOURCE)] = torch.arange(len(SOURCE))
    return x[keep], relabel[y[keep]]


def main(shipped: Path) -> None:
    torch.set_num_threads(1)  # one thread: the sums inside a layer in one order, so a re-run gives the same bits
    torch.use_deterministic_algorithms(True)
    data = fashion_mnist(quick=False, valid_size=0)
    train, test = source_split(*data.train), source_split(*data.test)
    started = time.perf_counter()
    seed_everything(SEED)
    model = ResNet(widths=WIDTHS, num_classes=len(SOURCE))
    fit(model, train, epochs=EPOCHS, lr=LR, schedule="onecycle", batch_size=BATCH, seed=SEED, device="cpu")
    accuracy = evaluate(model, test)["accuracy"]
    seconds = time.perf_counter() - started
    record = {"classes": [data.classes[c] for c in SOURCE], "seed": SEED, "epochs": EPOCHS, "lr": LR,
              "batch_size": BATCH, "images": len(train[1]), "source_test_accuracy": round(accuracy, 4),
              "torch": str(torch.__version__)}  # a plain str: TorchVersion is no type weights_only reads
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}  # fit trains channels-last
    buffer = io.BytesIO()  # to memory first: a file's name would be written into the archive
    torch.save({"format": "nbhelpers.backbone/1", "config": dict(model.config), "state_dict": state,
                "record": record}, buffer)
    path = atomic_write(shipped / KEY, lambda file: file.write(buffer.getvalue()),  # kept only if it loads as
                        check=lambda written: torch.load(written, weights_only=True))  # pretrained_resnet loads it
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = shipped / "MANIFEST"
    lines = [line for line in manifest.read_text().splitlines() if line.strip() and not line.endswith(f"  {KEY}")]
    lines = sorted(lines + [f"{digest}  {KEY}"], key=lambda line: line.split()[1])
    manifest.write_text("\n".join(lines) + "\n")
    print(f"source: {', '.join(record['classes'])}; {len(train[1]):,} training images, {EPOCHS} epochs")
    print(f"source test accuracy: {accuracy:.2%} on {len(test[1]):,} images")
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and its line in {manifest}")
    print(f"SHA-256 {digest}")
    print(f"took {seconds:.0f} s (training and the test pass) on {torch.get_num_threads()} thread, "
          f"torch {torch.__version__}, {platform.processor() or platform.machine()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED)
