"""The course's datasets as whole tensors: Fashion-MNIST, MNIST-1D, scikit-learn's tables.

Every file read or downloaded is checked against its SHA-256 in ``MANIFEST``; a missing or
corrupt file gives one error that says how to get a good copy. The manifest and the
quick-mode subset ship inside the package (``nbhelpers/data/shipped/``, package data), so
an installed nbhelpers verifies and runs without the course repository and only reads
them. The full set is looked for, and downloaded to, the clone's ``datasets/`` or, when
installed, the user cache (``_files.data_home``); nothing is written into the package.

>>> from nbhelpers import fashion_mnist
>>> data = fashion_mnist(quick=True)
>>> data.train[0].shape[1:], data.classes[0]
(torch.Size([1, 28, 28]), 'T-shirt/top')
"""


from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import random
import shutil
import types
import urllib.request
from pathlib import Path

import numpy as np
import torch

from .._checks import FLAG, FRACTION, SEED, AnyOf, Choice, Instance, Optional, Real, checked, fail
from .._files import atomic_write, cache_home, data_home
from ..device import quick_mode
from .bundle import DataBundle, DataIntegrityError, DataNotFoundError, _carve_valid, _check_size, _split

# Module constants rather than literals in the functions, so tests can point them elsewhere.
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"  # package data, read only: MANIFEST and the subset
MANIFEST = SHIPPED_DIR / "MANIFEST"
DATASETS_DIR = data_home()  # the full set, put there or downloaded: the clone's datasets/ or the user cache
SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)  # Debian's dataset-fashion-mnist
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")  # fmt: skip
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
FASHION_MEAN_STD = (0.2860, 0.3530)  # of the 60k training pixels scaled to [0, 1]
TABULAR_SETS = ("breast_cancer", "wine", "digits", "iris", "diabetes")  # scikit-learn's load_<name>
RESTORE = ("`git checkout nbhelpers/data/shipped/` in a clone of the course, or reinstall nbhelpers "
           "(`pip install --force-reinstall --no-deps <the path or URL you installed it from>`)")


# ---------------------------------------------------------------- files

_HASHES: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    """SHA-256 of a file, computed once per process for a given path, size and mtime."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _verify(path: Path, key: str, fix: str) -> None:
    """Raise unless ``path`` has the SHA-256 that MANIFEST lists for ``key`` (``<folder>/<file>``)."""
    if not MANIFEST.is_file():
        raise DataNotFoundError(f"The checksum list {MANIFEST} is missing, so {path} cannot be checked. It ships "
                                f"inside nbhelpers; restore it with {RESTORE}.")
    listed = dict(reversed(line.split()) for line in MANIFEST.read_text().splitlines() if len(line.split()) == 2)
    expected, actual = listed.get(key), _sha256(path)
    if expected is None:
        raise DataIntegrityError(f"{MANIFEST} lists no SHA-256 for {key}, so {path} cannot be checked.")
    if actual != expected:
        raise DataIntegrityError(f"{path} is corrupt or not the expected file: its SHA-256 is {actual}, "
                                 f"but {MANIFEST} lists {expected} for {key}. {fix}")


def _download(name: str, folder: Path, key: str) -> Path:
    """Fetch ``FASHION_URL + name`` into ``folder``; only a copy that matches MANIFEST is kept."""
    url = FASHION_URL + name

    def fetch(out) -> None:
        with urllib.request.urlopen(url, timeout=30) as response:
            shutil.copyfileobj(response, out, 1 << 20)

    return atomic_write(folder / name, fetch,
                        check=lambda tmp: _verify(tmp, key, f"It was downloaded from {url} and deleted again; run again later."))


def _env_dir(variable: str) -> Path | None:
    return Path(os.environ[variable]).expanduser() if os.environ.get(variable) else None


def _search_dirs(folder: str) -> list[Path]:
    """Where files of ``folder`` are looked for, in order: NBH_DATA, then the package's shipped
    folder (the subset) or the data home and the system folders (the full set)."""
    full, root = folder == "fashion-mnist", _env_dir("NBH_DATA")
    dirs = [] if root is None else [root / folder, root] if full else [root / folder]
    return dirs + ([DATASETS_DIR / folder, *SYSTEM_DIRS] if full else [SHIPPED_DIR / folder])


def _fetch(folder: str, name: str) -> Path:
    """Path of a checked file: the first one found in the search folders, else a checked download."""
    key, full, dirs = f"{folder}/{name}", folder == "fashion-mnist", _search_dirs(folder)
    fix = ("Delete it and run again (it will be looked up or downloaded anew), or reinstall "
           "dataset-fashion-mnist." if full else f"Restore it with {RESTORE}.")
    for d in dirs:
        if (d / name).is_file():
            _verify(d / name, key, fix)  # a corrupt early copy is an error, never skipped
            return d / name
    searched = ", ".join(map(str, dirs))
    if not full:
        raise DataNotFoundError(f"The shipped Fashion-MNIST subset file {name} is in none of: {searched}. Restore it "
                                f"with {RESTORE}, or recreate it with `python datasets/make_fashion_mnist_subset.py`.")
    try:
        return _download(name, (_env_dir("NBH_DATA") or DATASETS_DIR) / folder, key)
    except OSError as err:  # offline, refused, or no such URL
        reason = f"{type(err).__name__}: {err}"
    raise DataNotFoundError(
        f"Fashion-MNIST file {name} not found. Searched, in order: {searched}; downloading {FASHION_URL}{name} "
        f"failed ({reason}). To get it: (1) on Debian/Ubuntu, `sudo apt-get install dataset-fashion-mnist`; "
        f"(2) or put the four files ({', '.join(FASHION_FILES)}) in a folder and set NBH_DATA to it; "
        "(3) or go online and run again for the automatic download; "
        "(4) or use the shipped subset: `fashion_mnist(quick=True)` or NBH_QUICK=1."
    )


def shipped_file(key: str, what: str, recreate: str) -> Path:
    """The package-data file ``SHIPPED_DIR / key`` after checking it against its SHA-256 in
    MANIFEST (``key`` as MANIFEST names it, e.g. ``backbones/<file>``): a missing file is a
    `DataNotFoundError`, another SHA-256 a `DataIntegrityError`; both say how to restore it
    (or ``recreate`` it). Used for files other than the data sets, such as chapter 07's
    pretrained backbone."""
    path = SHIPPED_DIR / key
    fix = f"Restore it with {RESTORE}, or recreate it with `{recreate}`."
    if not path.is_file():
        raise DataNotFoundError(f"The shipped {what} {path} is missing. {fix}")
    _verify(path, key, fix)
    return path


def _read_idx(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """An IDX array of unsigned bytes; ``shape`` gives the expected trailing dimensions."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataIntegrityError(f"{path} is not a readable gzip file ({err}). Delete it and run again.") from err
    ndim, head = 1 + len(shape), 4 + 4 * (1 + len(shape))
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4)) if len(raw) >= head else ()
    if raw[:4] != bytes([0, 0, 8, ndim]) or dims[1:] != shape or len(raw) != head + int(np.prod(dims)):
        raise DataIntegrityError(f"{path} is not an IDX file of bytes shaped (n, {', '.join(map(str, shape))}) "
                                 f"(header {raw[:4].hex()}, dims {dims}, {len(raw)} bytes). Delete it and run again.")
    return np.frombuffer(raw, np.uint8, offset=head).reshape(dims)


# ---------------------------------------------------------------- datasets


QUICK = Optional(Instance(bool, "True, False (None follows NBH_QUICK)"))
VALID_SIZE = AnyOf(Real(low=0, integer=True), Real(low=0, high=1, high_open=True))


@checked(quick=QUICK, valid_size=VALID_SIZE, seed=SEED)
def fashion_mnist(quick: bool | None = None, valid_size: int | float = 0.1, seed: int = 0) -> DataBundle:
    """Fashion-MNIST (Zalando, MIT licence) as normalized ``N x 1 x 28 x 28`` float32 tensors.

    Parameters
    ----------
    quick : the shipped stratified subset (6,000 train, 1,000 test images) instead of the
        full 60,000/10,000; ``None`` follows ``NBH_QUICK``.
    valid_size : validation rows carved from train, stratified: a count or a fraction.
    seed : seed of the train/valid split.

    The full files are looked up in ``$NBH_DATA/fashion-mnist/``, ``$NBH_DATA/``,
    ``datasets/fashion-mnist/`` in a clone (installed: ``~/.cache/nbhelpers/fashion-mnist/``),
    ``/usr/share/datasets/fashion-mnist/``, then downloaded.

    >>> data = fashion_mnist(quick=True, valid_size=600)
    >>> len(data.train[1]), len(data.valid[1]), len(data.test[1])
    (5400, 600, 1000)
    """
    func = "fashion_mnist"
    folder = "fashion-mnist-subset" if (quick_mode() if quick is None else quick) else "fashion-mnist"
    arrays = [_read_idx(_fetch(folder, f), (28, 28) if "images" in f else ()) for f in FASHION_FILES]
    if len(arrays[0]) != len(arrays[1]) or len(arrays[2]) != len(arrays[3]):
        raise DataIntegrityError(f"The image and label files in {folder} differ in length. Delete them and run again.")
    mean, std = FASHION_MEAN_STD
    x_train, x_test = (torch.from_numpy(a.copy()).float().div_(255).sub_(mean).div_(std).unsqueeze(1)
                       for a in arrays[::2])  # fmt: skip
    y_train, y_test = (torch.from_numpy(a.astype(np.int64)) for a in arrays[1::2])
    _check_size(func, "valid_size", valid_size, len(y_train))
    train, valid = _carve_valid(x_train, y_train, valid_size, seed)
    return DataBundle(train, valid, (x_test, y_test), list(FASHION_CLASSES), folder, FASHION_MEAN_STD)


def _mnist1d_arrays(shuffle_seq: bool) -> dict[str, np.ndarray]:
    """The package's default data set, generated once and cached as ``.npz`` by its arguments."""
    from mnist1d.data import get_dataset_args

    args = get_dataset_args(as_dict=True)
    args.pop("url")  # the pickle download is never used
    args["shuffle_seq"] = shuffle_seq
    key = hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_home() / f"mnist1d-{key}.npz"
    if path.is_file():
        with np.load(path) as cached:
            return dict(cached)
    from mnist1d.data import make_dataset

    # make_dataset reseeds the global NumPy and Python RNGs; give the caller theirs back.
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        made = make_dataset(types.SimpleNamespace(**args))
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    arrays = {k: made[k].astype(np.int64 if k.startswith("y") else np.float32) for k in ("x", "y", "x_test", "y_test")}
    atomic_write(path, lambda file: np.savez(file, **arrays))  # readers never see a half-written cache
    return arrays


@checked(quick=QUICK, valid_size=VALID_SIZE, seed=SEED, shuffle_seq=FLAG)
def mnist1d(quick: bool | None = None, valid_size: int | float = 500, seed: int = 0,
            shuffle_seq: bool = False) -> DataBundle:  # fmt: skip
    """MNIST-1D (Greydanus 2020): 4,000 train / 1,000 test sequences as ``N x 1 x 40`` float32.

    Generated locally with the ``mnist1d`` package's default arguments (seed 42) and cached
    in ``$NBH_CACHE``, else ``datasets/.cache/`` in a clone, else ``~/.cache/nbhelpers/``
    (``$XDG_CACHE_HOME`` respected). The set is small, so quick mode (``quick``)
    uses all of it too. ``shuffle_seq=True`` applies one fixed permutation to the 40
    positions of every sequence, destroying the spatial structure a CNN relies on.

    >>> data = mnist1d()
    >>> data.train[0].shape, data.valid[0].shape, data.test[0].shape
    (torch.Size([3500, 1, 40]), torch.Size([500, 1, 40]), torch.Size([1000, 1, 40]))
    """
    func = "mnist1d"
    _check_size(func, "valid_size", valid_size, 4000)
    a = {k: torch.from_numpy(v) for k, v in _mnist1d_arrays(shuffle_seq).items()}
    train, valid = _carve_valid(a["x"].unsqueeze(1), a["y"], valid_size, seed)
    name = "mnist1d" + ("-shuffled" if shuffle_seq else "")
    return DataBundle(train, valid, (a["x_test"].unsqueeze(1), a["y_test"]), [str(d) for d in range(10)], name)


@checked(name=Choice(*TABULAR_SETS), valid_size=FRACTION, test_size=FRACTION, seed=SEED, standardize=FLAG)
def tabular(name: str, valid_size: float = 0.2, test_size: float = 0.2, seed: int = 0,
            standardize: bool = True) -> DataBundle:  # fmt: skip
    """One of scikit-learn's bundled tables, split into train/valid/test (stratified when classifying).

    ``valid_size`` and ``test_size`` are fractions of all rows. ``standardize=True`` scales
    each feature by the mean and std of the TRAIN rows only, so nothing leaks from valid or
    test. Per-feature scaling does not fit ``mean_std``, which stays None.

    >>> data = tabular("wine")
    >>> data.task, data.num_classes, data.input_shape
    ('classification', 3, (13,))
    >>> tabular("diabetes").train[1].dtype
    torch.float32
    """
    func = "tabular"
    if valid_size + test_size >= 1:
        raise fail(func, "valid_size", f"< 1 - test_size = {1 - test_size:g} (train must keep some rows)", valid_size)
    import sklearn.datasets

    raw = getattr(sklearn.datasets, f"load_{name}")()
    regression = name == "diabetes"
    x, y = raw.data.astype(np.float32), raw.target.astype(np.float32 if regression else np.int64)
    n = len(y)
    rest, test = _split(None if regression else y, n, round(test_size * n), seed)
    keep, valid = _split(None if regression else y[rest], len(rest), round(valid_size * n), seed + 1)
    train, valid = rest[keep], rest[valid]
    if standardize:
        mean, std = x[train].mean(0), x[train].std(0)
        x = (x - mean) / np.where(std > 0, std, 1)  # constant features (digits' blank border) stay 0
    part = lambda i: (torch.from_numpy(x[i]), torch.from_numpy(y[i])) if len(i) else None  # noqa: E731
    classes = None if regression else [str(c) for c in raw.target_names]
    return DataBundle(part(train), part(valid), part(test), classes, name)


def data_report() -> list[dict]:
    """One dict per dataset for ``nbhelpers doctor``: name, available, where, hint.

    Fast and offline: files are checked for existence and a non-zero size only, not hashed
    (loading them does that), and nothing is downloaded or generated.

    >>> [row["name"] for row in data_report()]
    ['fashion-mnist', 'fashion-mnist-subset', 'mnist1d', 'tabular']
    """
    hints = {"fashion-mnist": "sudo apt-get install dataset-fashion-mnist, or set NBH_DATA to a folder with the "
             "four files, or go online (downloaded on first use)",
             "fashion-mnist-subset": f"restore it with {RESTORE}"}  # fmt: skip
    rows = []
    for folder, hint in hints.items():
        found = [next((d for d in _search_dirs(folder) if (d / f).is_file() and (d / f).stat().st_size), None)
                 for f in FASHION_FILES]  # fmt: skip
        where = ", ".join(sorted({str(d) for d in found if d is not None})) or "missing"
        rows.append({"name": folder, "available": None not in found, "where": where, "hint": hint})
    for name, module, where in (("mnist1d", "mnist1d", "generated"),
                                ("tabular", "sklearn", "bundled with scikit-learn")):  # fmt: skip
        available = importlib.util.find_spec(module) is not None
        hint = "pip install " + ("scikit-learn" if module == "sklearn" else module)
        rows.append({"name": name, "available": available, "where": where, "hint": hint})
    return rows
