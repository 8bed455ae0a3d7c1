"""Recreate the shipped subset, nbhelpers/data/shipped/fashion-mnist-subset/, from the four full files.

Usage: python datasets/make_fashion_mnist_subset.py [FOLDER_WITH_THE_FULL_FILES [SHIPPED_FOLDER]]
(defaults /usr/share/datasets/fashion-mnist, from Debian's dataset-fashion-mnist, and the
package's nbhelpers/data/shipped, where MANIFEST is).

Takes PER_CLASS images of each class from train and test, drawn with a NumPy generator
seeded with SEED and kept in their original order, writes them in the same IDX .gz format
and file names (gzip header time set to 0, so the same zlib gives the same bytes), and
rewrites the subset's lines in the shipped MANIFEST. The inputs are checked against MANIFEST
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
SHIPPED = Path(__file__).resolve().parents[1] / "nbhelpers" / "data" / "shipped"


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


def main(source: Path, shipped: Path) -> None:
    manifest = dict(reversed(line.split()) for line in (shipped / "MANIFEST").read_text().splitlines()
                    if line.strip() and not line.startswith("#"))
    out = shipped / "fashion-mnist-subset"
    out.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    for split, per_class in PER_CLASS.items():
        files = {kind: f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz" for kind in ("images", "labels")}
        for name in files.values():
            if sha256(source / name) != manifest[f"fashion-mnist/{name}"]:
                sys.exit(f"{source / name} does not match its SHA-256 in MANIFEST; get a good copy first.")
        image_magic, images = read_idx(source / files["images"])
        label_magic, labels = read_idx(source / files["labels"])
        keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]))
        write_idx(out / files["images"], image_magic, images[keep])
        write_idx(out / files["labels"], label_magic, labels[keep])
        for name in files.values():
            manifest[f"fashion-mnist-subset/{name}"] = sha256(out / name)
    lines = [f"{digest}  {path}" for path, digest in sorted(manifest.items())]
    (shipped / "MANIFEST").write_text("\n".join(lines) + "\n")
    print(f"wrote {out} ({sum(PER_CLASS.values()) * 10} images) and updated MANIFEST")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/usr/share/datasets/fashion-mnist"),
         Path(sys.argv[2]) if len(sys.argv) > 2 else SHIPPED)
