"""Recreate datasets/fashion-mnist-subset/ from the four full Fashion-MNIST files.

Usage: python datasets/make_fashion_mnist_subset.py [FOLDER_WITH_THE_FULL_FILES]
(default /usr/share/datasets/fashion-mnist, from Debian's dataset-fashion-mnist).

Takes PER_CLASS images of each class from train and test, drawn with a NumPy generator
seeded with SEED and kept in their original order, writes them in the same IDX .gz format
and file names (gzip header time set to 0, so the same zlib gives the same bytes), and
rewrites the subset's lines in datasets/MANIFEST. The inputs are checked against MANIFEST
first. Needs only NumPy.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

SEED = 0
PER_CLASS = {"train": 600, "t10k": 100}
HERE = Path(__file__).resolve().parent
OUT = HERE / "fashion-mnist-subset"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_idx(path: Path) -> tuple[bytes, np.ndarray]:
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", ndim, offset=4)
    return raw[:4], np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_idx(path: Path, magic: bytes, array: np.ndarray) -> None:
    header = magic + np.asarray(array.shape, ">u4").tobytes()
    with open(path, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
        gz.write(header + array.tobytes())


def main(source: Path) -> None:
    manifest = dict(reversed(line.split()) for line in (HERE / "MANIFEST").read_text().splitlines()
                    if line.strip() and not line.startswith("#"))
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    for split, per_class in PER_CLASS.items():
        files = {kind: f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz" for kind in ("images", "labels")}
        for name in files.values():
            if sha256(source / name) != manifest[f"fashion-mnist/{name}"]:
                sys.exit(f"{source / name} does not match its SHA-256 in MANIFEST; get a good copy first.")
        image_magic, images = read_idx(source / files["images"])
        label_magic, labels = read_idx(source / files["labels"])
        keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]))
        write_idx(OUT / files["images"], image_magic, images[keep])
        write_idx(OUT / files["labels"], label_magic, labels[keep])
        for name in files.values():
            manifest[f"fashion-mnist-subset/{name}"] = sha256(OUT / name)
    lines = [f"{digest}  {path}" for path, digest in sorted(manifest.items())]
    (HERE / "MANIFEST").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({sum(PER_CLASS.values()) * 10} images) and updated MANIFEST")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/usr/share/datasets/fashion-mnist"))
