"""Tests of nbhelpers.data: loaders, splits, look-up order, checksums, DeviceLoader."""

from __future__ import annotations

import gzip
import hashlib
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nbhelpers import DataBundle, DataIntegrityError, DataNotFoundError, DeviceLoader, get_device
from nbhelpers.data import datasets as D
from nbhelpers.data.bundle import _split

SUBSET = D.SHIPPED_DIR / "fashion-mnist-subset"
ROOT = Path(__file__).resolve().parents[1]
SYSTEM = Path("/usr/share/datasets/fashion-mnist")
FILES = D.FASHION_FILES


@pytest.fixture(autouse=True)
def _no_user_data_dir(monkeypatch):
    monkeypatch.delenv("NBH_DATA", raising=False)


@pytest.fixture(scope="module")
def quick():
    return D.fashion_mnist(quick=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_keys(x: torch.Tensor) -> np.ndarray:
    """One number per row, so two sets of rows can be compared as multisets."""
    weights = torch.linspace(1, 2, x[0].numel(), dtype=torch.float64)
    return np.sort((x.flatten(1).double() @ weights).numpy())


# ---------------------------------------------------------------- Fashion-MNIST (shipped subset)


def test_subset_files_match_manifest():
    manifest = {p: h for h, p in (line.split() for line in D.MANIFEST.read_text().splitlines() if line.strip())}
    shipped = sorted(p.name for p in SUBSET.iterdir())
    assert shipped == sorted(FILES)
    for name in shipped:
        assert sha256(SUBSET / name) == manifest[f"fashion-mnist-subset/{name}"], name


def test_quick_shapes_dtypes_normalization(quick):
    x, y = quick.train
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.shape[1:] == (1, 28, 28) and quick.input_shape == (1, 28, 28)
    assert (len(y), len(quick.valid[1]), len(quick.test[1])) == (5400, 600, 1000)
    assert abs(x.mean().item()) < 0.05 and abs(x.std().item() - 1) < 0.05
    assert quick.classes[0] == "T-shirt/top" and quick.classes[-1] == "Ankle boot" and quick.num_classes == 10
    assert quick.task == "classification" and quick.mean_std == (0.2860, 0.3530)
    pixels = quick.denormalize(x)
    assert pixels.min().item() == pytest.approx(0, abs=1e-5) and pixels.max().item() == pytest.approx(1, abs=1e-5)


def test_quick_is_stratified_and_a_partition_of_the_subset(quick):
    for _, y in (quick.train, quick.valid, quick.test):
        counts = y.bincount(minlength=10)
        assert counts.max() - counts.min() <= 1
    whole = D.fashion_mnist(quick=True, valid_size=0)
    assert whole.valid is None and len(whole.train[1]) == 6000
    both = torch.cat([quick.train[0], quick.valid[0]])
    np.testing.assert_array_equal(row_keys(both), row_keys(whole.train[0]))


def test_split_is_reproducible_by_seed(quick):
    again = D.fashion_mnist(quick=True, seed=0)
    other = D.fashion_mnist(quick=True, seed=1)
    assert torch.equal(again.valid[0], quick.valid[0]) and torch.equal(again.train[1], quick.train[1])
    assert not torch.equal(other.valid[0], quick.valid[0])
    assert len(D.fashion_mnist(quick=True, valid_size=600).valid[1]) == 600


def test_quick_none_follows_nbh_quick(monkeypatch):
    monkeypatch.setenv("NBH_QUICK", "1")
    assert D.fashion_mnist().name == "fashion-mnist-subset"


@given(n=st.integers(1, 300), frac=st.floats(0, 0.99), classes=st.integers(1, 7), seed=st.integers(0, 99))
@settings(max_examples=60, deadline=None)
def test_split_indices_partition_and_stratify(n, frac, classes, seed):
    y = np.random.default_rng(seed).integers(0, classes, n)
    n_take = round(frac * n)
    rest, taken = _split(y, n, n_take, seed)
    assert len(taken) == n_take and np.array_equal(np.sort(np.concatenate([rest, taken])), np.arange(n))
    counts = np.array([(y[taken] == c).sum() for c in np.unique(y)])
    expected = np.array([(y == c).sum() for c in np.unique(y)]) * n_take / n
    assert np.all(np.abs(counts - expected) < 1)


# ---------------------------------------------------------------- Fashion-MNIST (full set, look-up, checks)


@pytest.mark.skipif(not all((SYSTEM / f).is_file() for f in FILES),
                    reason="Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)")
def test_full_set_from_system_folder():
    data = D.fashion_mnist(quick=False, valid_size=0.1)
    assert (len(data.train[1]), len(data.valid[1]), len(data.test[1])) == (54000, 6000, 10000)
    assert data.name == "fashion-mnist" and data.train[0].shape[1:] == (1, 28, 28)
    assert abs(torch.cat([data.train[0], data.valid[0]]).mean().item()) < 1e-3  # the published mean and std
    assert len(D.fashion_mnist(quick=False, valid_size=5000).valid[1]) == 5000


@pytest.fixture
def fake_full(tmp_path, monkeypatch):
    """A world in tmp_path where the "full" Fashion-MNIST is the subset, listed in a temp manifest."""
    manifest = tmp_path / "MANIFEST"
    manifest.write_text("".join(f"{sha256(SUBSET / f)}  fashion-mnist/{f}\n" for f in FILES))
    server = tmp_path / "server"
    server.mkdir()
    monkeypatch.setattr(D, "MANIFEST", manifest)
    monkeypatch.setattr(D, "DATASETS_DIR", tmp_path / "repo")
    monkeypatch.setattr(D, "SYSTEM_DIRS", (tmp_path / "system",))
    monkeypatch.setattr(D, "FASHION_URL", server.as_uri() + "/")
    monkeypatch.setenv("NBH_DATA", str(tmp_path / "nbh"))
    return tmp_path


def put(folder: Path, corrupt: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        raw = bytearray((SUBSET / name).read_bytes())
        if corrupt:
            raw[len(raw) // 2] ^= 0xFF
        (folder / name).write_bytes(bytes(raw))


PLACES = ["nbh/fashion-mnist", "nbh", "repo/fashion-mnist", "system"]


@pytest.mark.parametrize("first", range(len(PLACES)))
def test_lookup_order_takes_the_first_place_with_the_files(fake_full, first):
    put(fake_full / PLACES[first])
    for later in PLACES[first + 1 :]:
        put(fake_full / later, corrupt=True)  # would raise if it were read
    data = D.fashion_mnist(quick=False, valid_size=0)
    assert len(data.train[1]) == 6000 and len(data.test[1]) == 1000


@pytest.mark.parametrize("first", range(len(PLACES) - 1))
def test_corrupt_early_copy_is_an_error_not_skipped(fake_full, first):
    put(fake_full / PLACES[first], corrupt=True)
    put(fake_full / PLACES[-1])
    with pytest.raises(DataIntegrityError) as err:
        D.fashion_mnist(quick=False)
    message = str(err.value)
    bad = fake_full / PLACES[first] / FILES[0]
    assert str(bad) in message and sha256(SUBSET / FILES[0]) in message and sha256(bad) in message
    assert "Delete it" in message


def test_malformed_idx_with_matching_hash_is_an_integrity_error(fake_full):
    put(fake_full / "system")
    bad = fake_full / "system" / FILES[0]
    bad.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20))
    manifest = D.MANIFEST.read_text().replace(sha256(SUBSET / FILES[0]), sha256(bad))
    D.MANIFEST.write_text(manifest)
    with pytest.raises(DataIntegrityError, match="not an IDX file"):
        D.fashion_mnist(quick=False)


def test_missing_everywhere_says_how_to_get_it(fake_full):
    with pytest.raises(DataNotFoundError) as err:
        D.fashion_mnist(quick=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    for needle in ("apt-get install dataset-fashion-mnist", "NBH_DATA", "quick=True", FILES[0], D.FASHION_URL,
                   str(fake_full / "nbh" / "fashion-mnist"), str(fake_full / "repo" / "fashion-mnist"),
                   str(fake_full / "system")):
        assert needle in message, needle


def test_download_checks_and_leaves_no_temp_files(fake_full):
    put(fake_full / "server")
    data = D.fashion_mnist(quick=False, valid_size=0)
    assert len(data.train[1]) == 6000
    target = fake_full / "nbh" / "fashion-mnist"
    assert sorted(p.name for p in target.iterdir()) == sorted(FILES)  # no .part left
    assert all(sha256(target / f) == sha256(SUBSET / f) for f in FILES)


def test_download_goes_to_the_repo_folder_without_nbh_data(fake_full, monkeypatch):
    monkeypatch.delenv("NBH_DATA")
    put(fake_full / "server")
    D.fashion_mnist(quick=False)
    assert sorted(p.name for p in (fake_full / "repo" / "fashion-mnist").iterdir()) == sorted(FILES)


def test_corrupt_download_leaves_nothing_behind(fake_full):
    put(fake_full / "server", corrupt=True)
    with pytest.raises(DataIntegrityError, match="downloaded from"):
        D.fashion_mnist(quick=False)
    assert list((fake_full / "nbh" / "fashion-mnist").iterdir()) == []


def test_missing_subset_file_says_how_to_restore_it(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "SHIPPED_DIR", tmp_path)
    with pytest.raises(DataNotFoundError, match="git checkout nbhelpers/data/shipped/.*reinstall nbhelpers"):
        D.fashion_mnist(quick=True)


def test_missing_manifest_says_how_to_restore_it(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "MANIFEST", tmp_path / "MANIFEST")
    with pytest.raises(DataNotFoundError, match="cannot be checked. It ships inside nbhelpers.*reinstall"):
        D._verify(SUBSET / FILES[0], f"fashion-mnist-subset/{FILES[0]}", "")


def test_each_file_is_hashed_once_per_process(fake_full, monkeypatch):
    put(fake_full / "system")
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(D.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    D.fashion_mnist(quick=False)
    D.fashion_mnist(quick=False)
    assert len(calls) == len(FILES)


@pytest.mark.skipif(not all((SYSTEM / f).is_file() for f in FILES), reason="needs the full files in " + str(SYSTEM))
def test_generator_script_recreates_the_shipped_subset(tmp_path):
    # every line but the subset's (the full set's, the backbone's): the script keeps them and rewrites the subset's
    kept = [line for line in D.MANIFEST.read_text().splitlines() if line.strip() and " fashion-mnist-subset/" not in line]
    (tmp_path / "MANIFEST").write_text("\n".join(kept) + "\n")
    subprocess.run([sys.executable, str(ROOT / "datasets" / "make_fashion_mnist_subset.py"), str(SYSTEM), str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / "MANIFEST").read_text() == D.MANIFEST.read_text()


# ---------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: D.fashion_mnist(quick="yes"), "quick"),
        (lambda: D.fashion_mnist(quick=True, valid_size=-1), "valid_size"),
        (lambda: D.fashion_mnist(quick=True, valid_size=1.5), "valid_size"),
        (lambda: D.fashion_mnist(quick=True, valid_size=6000), "valid_size"),
        (lambda: D.fashion_mnist(quick=True, seed=-1), "seed"),
        (lambda: D.mnist1d(valid_size=4000), "valid_size"),
        (lambda: D.mnist1d(shuffle_seq="yes"), "shuffle_seq"),
        (lambda: D.tabular("wine", test_size=1.2), "test_size"),
        (lambda: D.tabular("wine", valid_size=0.5, test_size=0.5), "valid_size"),
        (lambda: D.tabular("wine", standardize=1), "standardize"),
        (lambda: DeviceLoader(torch.zeros(5, 2), torch.zeros(4)), "y"),
        (lambda: DeviceLoader(torch.zeros(5, 2), torch.zeros(5), batch_size=0), "batch_size"),
        (lambda: DeviceLoader(torch.zeros(5, 2), torch.zeros(5), batch_size=2.5), "batch_size"),
        (lambda: DeviceLoader(torch.zeros(5, 2), torch.zeros(5), shuffle=1), "shuffle"),
        (lambda: DeviceLoader(torch.zeros(5, 2), torch.zeros(5), augment="flip"), "augment"),
        (lambda: DeviceLoader(torch.zeros(5, 2), torch.zeros(5), generator=0), "generator"),
        (lambda: DeviceLoader(np.zeros((5, 2)), torch.zeros(5)), "x"),
        (lambda: DataBundle((torch.zeros(4, 2), torch.zeros(4)), None, None, None).subset(5), "n_train"),
        (lambda: DataBundle((torch.zeros(4, 2), torch.zeros(4)), None, None, None).to_fastai(), "valid"),
    ],
)
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"`{argument}` must be"):
        call()


def test_unknown_tabular_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'wine'"):
        D.tabular("wines")


# ---------------------------------------------------------------- DeviceLoader


def epoch(loader) -> torch.Tensor:
    return torch.cat([yb for _, yb in loader])


def test_shuffled_epoch_covers_every_index_once():
    n = 103
    loader = DeviceLoader(torch.arange(n).float()[:, None], torch.arange(n), batch_size=10, shuffle=True, device="cpu")
    first, second = epoch(loader), epoch(loader)
    assert torch.equal(first.sort().values, torch.arange(n)) and torch.equal(second.sort().values, torch.arange(n))
    assert not torch.equal(first, torch.arange(n)) and not torch.equal(first, second)
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in loader)  # x and y stay paired


@given(n=st.integers(1, 60), bs=st.integers(1, 70), drop_last=st.booleans(), shuffle=st.booleans())
@settings(max_examples=60, deadline=None)
def test_batch_count_and_sizes(n, bs, drop_last, shuffle):
    loader = DeviceLoader(torch.zeros(n, 3), torch.arange(n), batch_size=bs, shuffle=shuffle, drop_last=drop_last,
                          device="cpu")
    sizes = [len(yb) for _, yb in loader]
    assert len(sizes) == len(loader) == (n // bs if drop_last else math.ceil(n / bs))
    assert all(s == bs for s in sizes[:-1]) and (not sizes or sizes[-1] == (bs if drop_last else n - bs * (len(sizes) - 1)))


def test_unshuffled_order_and_drop_last():
    loader = DeviceLoader(torch.zeros(10, 1), torch.arange(10), batch_size=4, device="cpu")
    assert len(loader) == 3 and torch.equal(epoch(loader), torch.arange(10))
    assert len(DeviceLoader(torch.zeros(10, 1), torch.arange(10), batch_size=4, drop_last=True, device="cpu")) == 2


def test_augment_runs_per_batch_and_cannot_touch_the_stored_data():
    x = torch.zeros(8, 2)
    calls = []

    def augment(xb, yb):
        calls.append(len(xb))
        return xb.add_(1), yb  # in place on purpose

    loader = DeviceLoader(x, torch.arange(8), batch_size=3, shuffle=True, augment=augment, device="cpu")
    assert all(torch.all(xb == 1) for xb, _ in loader)
    assert calls == [3, 3, 2] and torch.all(loader.x == 0) and torch.all(x == 0)


def test_generator_makes_shuffling_repeatable():
    gen = torch.Generator().manual_seed(0)
    loader = DeviceLoader(torch.zeros(50, 1), torch.arange(50), batch_size=8, shuffle=True, generator=gen, device="cpu")
    state = gen.get_state()
    first = epoch(loader)
    gen.set_state(state)
    assert torch.equal(epoch(loader), first)
    torch.manual_seed(0)
    unseeded = epoch(DeviceLoader(torch.zeros(50, 1), torch.arange(50), shuffle=True, device="cpu"))
    torch.manual_seed(0)
    assert torch.equal(epoch(DeviceLoader(torch.zeros(50, 1), torch.arange(50), shuffle=True, device="cpu")), unseeded)


def test_default_device_is_get_device():
    assert DeviceLoader(torch.zeros(2, 1), torch.zeros(2)).x.device.type == get_device().type


# ---------------------------------------------------------------- DataBundle


def test_bundle_subset_to_and_repr(quick):
    small = quick.subset(256, seed=3)
    counts = small.train[1].bincount(minlength=10)
    assert len(small.train[1]) == 256 and counts.max() - counts.min() <= 1
    assert small.valid is quick.valid and small.test is quick.test and len(quick.train[1]) == 5400
    assert torch.equal(quick.subset(256, seed=3).train[0], small.train[0])
    moved = small.to("meta")
    assert moved.train[0].device.type == "meta" and moved.test[1].device.type == "meta"
    assert small.train[0].device.type == "cpu" and moved.classes == small.classes
    text = repr(small)
    assert "(256, 1, 28, 28)" in text and "valid" in text and "T-shirt/top" in text
    regression = DataBundle((torch.randn(10, 2), torch.randn(10)), None, None, None)
    assert regression.task == "regression" and regression.num_classes is None
    assert len(regression.subset(4).train[1]) == 4 and torch.equal(regression.denormalize(regression.train[0]),
                                                                  regression.train[0])


def test_only_classes_keeps_the_named_classes_renumbered_in_their_order(quick):
    names = ["Bag", "Sandal"]
    two = quick.only_classes(names, train=7, test=3)
    x, y = two.train
    assert two.classes == names and y.bincount().tolist() == [7, 7] and two.test[1].bincount().tolist() == [3, 3]
    assert two.valid[1].bincount().tolist() == [(quick.valid[1] == 8).sum(), (quick.valid[1] == 5).sum()]
    bags = quick.train[0][quick.train[1] == 8][:7]  # the first seven bags, now class 0, in the split's order
    assert torch.equal(x[y == 0], bags)
    for bad in (["Bag", "Hat"], ["Bag", "Bag"], "Bag", []):
        with pytest.raises(ValueError, match=r"DataBundle.only_classes\(\): `names` must be a list of distinct names"):
            quick.only_classes(bad)
    with pytest.raises(ValueError, match=r"only_classes\(\): `train` must be"):
        quick.only_classes(names, train=0)
    regression = DataBundle((torch.randn(10, 2), torch.randn(10)), None, None, None)
    with pytest.raises(ValueError, match="regression bundle"):
        regression.only_classes(["a"])


def test_to_fastai_learner_fits_one_epoch(quick):
    from fastai.learner import Learner

    small = quick.subset(256)
    small = DataBundle(small.train, (quick.valid[0][:128], quick.valid[1][:128]), None, small.classes)
    dls = small.to_fastai(batch_size=64, device="cpu")
    assert dls.train.shuffle and not dls.valid.shuffle
    assert dls.train.dataset.tensors[0] is small.train[0]  # the same tensors, not copies
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    learn = Learner(dls, model, loss_func=torch.nn.CrossEntropyLoss())
    with learn.no_logging():
        learn.fit(1, lr=1e-2)
    train_loss, valid_loss = learn.recorder.values[-1][:2]
    assert math.isfinite(train_loss) and math.isfinite(valid_loss) and valid_loss < math.log(10)


# ---------------------------------------------------------------- MNIST-1D


@pytest.fixture(scope="module")
def mnist1d_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_mnist1d_shapes_cache_and_rng_untouched(mnist1d_cache, monkeypatch):
    monkeypatch.setenv("NBH_CACHE", str(mnist1d_cache))
    np.random.seed(123)
    expected_draw = np.random.rand()
    np.random.seed(123)
    start = time.perf_counter()
    data = D.mnist1d()
    generated = time.perf_counter() - start
    assert np.random.rand() == expected_draw  # generation left the caller's NumPy RNG alone
    assert [s[0].shape for s in (data.train, data.valid, data.test)] == [(3500, 1, 40), (500, 1, 40), (1000, 1, 40)]
    assert data.train[0].dtype == torch.float32 and data.train[1].dtype == torch.int64
    assert data.classes == [str(d) for d in range(10)] and data.input_shape == (1, 40)
    all_train = torch.cat([data.train[1], data.valid[1]]).bincount(minlength=10)
    assert torch.all((data.valid[1].bincount(minlength=10) - all_train * 500 / 4000).abs() < 1)  # stratified
    assert [p.suffix for p in mnist1d_cache.iterdir()] == [".npz"]  # no temp file left
    start = time.perf_counter()
    again = D.mnist1d()
    assert time.perf_counter() - start < generated / 5
    assert all(torch.equal(a, b) for s, t in zip((data.train, data.test), (again.train, again.test)) for a, b in zip(s, t))


def test_mnist1d_shuffle_seq_permutes_positions_only(mnist1d_cache, monkeypatch):
    monkeypatch.setenv("NBH_CACHE", str(mnist1d_cache))
    plain, shuffled = D.mnist1d(), D.mnist1d(shuffle_seq=True)
    assert torch.equal(plain.train[1], shuffled.train[1]) and torch.equal(plain.test[1], shuffled.test[1])
    assert not torch.equal(plain.train[0], shuffled.train[0])
    # one fixed permutation: sorting each sequence gives the same values
    assert torch.allclose(plain.test[0].sort(-1).values, shuffled.test[0].sort(-1).values, atol=1e-5)


# ---------------------------------------------------------------- tabular


@pytest.mark.parametrize("name, n_rows, n_features", [("breast_cancer", 569, 30), ("wine", 178, 13),
                                                       ("digits", 1797, 64), ("iris", 150, 4), ("diabetes", 442, 10)])
def test_tabular_sets(name, n_rows, n_features):
    data = D.tabular(name, seed=1)
    (xt, yt), (xv, yv), (_, ys) = data.train, data.valid, data.test
    assert len(yt) + len(yv) + len(ys) == n_rows and data.input_shape == (n_features,)
    assert len(yv) == round(0.2 * n_rows) and len(ys) == round(0.2 * n_rows)
    assert xt.dtype == torch.float32
    if name == "diabetes":
        assert data.task == "regression" and data.classes is None and yt.dtype == torch.float32 and yt.ndim == 1
    else:
        assert data.task == "classification" and yt.dtype == torch.int64
        for y in (yt, yv, ys):  # stratified: each split keeps the class proportions
            share = y.bincount(minlength=data.num_classes) / len(y)
            whole = torch.cat([yt, yv, ys]).bincount(minlength=data.num_classes) / n_rows
            assert torch.all((share - whole).abs() <= 1 / len(y) + 1e-6)
    varying = xt.std(0) > 0
    assert torch.allclose(xt.mean(0), torch.zeros(n_features), atol=1e-4)  # stats from train only...
    assert torch.allclose(xt.std(0, unbiased=False)[varying], torch.ones(int(varying.sum())), atol=1e-3)
    assert xv.mean(0).abs().max() > 1e-3  # ...so valid is not exactly centred


def test_tabular_without_standardize_keeps_raw_values():
    from sklearn.datasets import load_iris

    data = D.tabular("iris", standardize=False)
    rows = torch.cat([data.train[0], data.valid[0], data.test[0]])
    np.testing.assert_allclose(row_keys(rows), row_keys(torch.tensor(load_iris().data, dtype=torch.float32)), rtol=1e-6)
    assert D.tabular("iris", test_size=0).test is None


# ---------------------------------------------------------------- data_report


def test_data_report_is_offline_and_does_not_hash(fake_full, monkeypatch):
    monkeypatch.setattr(D, "_sha256", lambda path: pytest.fail("data_report hashed a file"))
    rows = {row["name"]: row for row in D.data_report()}
    assert list(rows) == ["fashion-mnist", "fashion-mnist-subset", "mnist1d", "tabular"]
    assert all(set(row) == {"name", "available", "where", "hint"} for row in rows.values())
    assert not rows["fashion-mnist"]["available"] and "apt-get install dataset-fashion-mnist" in rows["fashion-mnist"]["hint"]
    put(fake_full / "system")
    rows = {row["name"]: row for row in D.data_report()}
    assert rows["fashion-mnist"]["available"] and rows["fashion-mnist"]["where"] == str(fake_full / "system")
    assert rows["tabular"]["available"] and rows["tabular"]["where"] == "bundled with scikit-learn"
