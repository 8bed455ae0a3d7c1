"""Data-parallel training through `fit` (training/distributed.py) and the script that runs it
(nbhelpers/scale/ddp_train.py): sharding, identical weights on every rank, one process unchanged."""

import socket
import warnings
from collections import Counter

import pytest
import torch
from torch import nn

from nbhelpers import DeviceLoader, fit, launch_ddp, process_group
from nbhelpers.scale import ddp_train
from nbhelpers.training.distributed import Group

def blobs(n=240, features=6, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, features, generator=g) * 3
    y = torch.randint(0, classes, (n,), generator=g)
    return centers[y] + 0.5 * torch.randn(n, features, generator=g), y


def bn_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


# ---------------------------------------------------------------- the loader's shards


@pytest.mark.parametrize("n", [12, 13])
def test_shards_cover_the_set_once_and_differ_by_epoch(n):
    x, y = torch.arange(n).float()[:, None], torch.arange(n)
    loaders = [DeviceLoader(x, y, batch_size=4, shuffle=True, device="cpu", shard=(rank, 3),
                            generator=torch.Generator().manual_seed(5)) for rank in range(3)]
    epochs = []
    for _ in range(2):
        shards = [[int(v) for _, yb in loader for v in yb] for loader in loaders]
        assert len({len(s) for s in shards}) == 1, "every rank must get as many samples (DDP steps together)"
        assert len({len(loader) for loader in loaders}) == 1
        seen = Counter(v for s in shards for v in s)
        assert set(seen) == set(range(n))  # every sample, and ...
        assert sum(seen.values()) == n + (-n) % 3  # ... repeats only to pad to a multiple of the world size
        epochs.append(shards[0])
    assert epochs[0] != epochs[1], "each epoch draws a new order"


def test_an_evaluation_shard_is_not_padded():
    x, y = torch.zeros(10, 1), torch.arange(10)
    shards = [[int(v) for _, yb in DeviceLoader(x, y, batch_size=3, device="cpu", shard=(r, 3)) for v in yb]
              for r in range(3)]
    assert sorted(sum(shards, [])) == list(range(10)) and [len(s) for s in shards] == [4, 3, 3]


def test_a_bad_shard_is_refused():
    with pytest.raises(ValueError, match=r"DeviceLoader\(\): `shard` must be \(rank, world_size\)"):
        DeviceLoader(torch.zeros(4, 1), torch.zeros(4), shard=(3, 3))


# ---------------------------------------------------------------- one process


def test_outside_a_group_fit_is_unchanged(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with process_group() as group:
        assert (group.rank, group.world_size, group.active, group.main) == (0, 1, False, True)
        assert not torch.distributed.is_initialized()
        assert Group.current() == Group()
        x, y = blobs()
        seen = ddp_train.SeenImages()
        result = fit(bn_model(), ((x[:200], y[:200]), (x[200:], y[200:])), epochs=2, lr=1e-2, seed=0,
                     progress=False, device="cpu", callbacks=[seen])
    assert type(result.model) is nn.Sequential and "world_size" not in result.config
    assert all(Counter(d) == Counter(ddp_train.image_digests(x[:200])) for d in seen.epochs.values())


def test_single_group_methods_are_identities():
    group, t = Group(), torch.tensor([3.0, 1.0])
    assert group.totals([t[0], t[1]], 5, 7) == ([3.0, 1.0], 5, 7)
    assert group.all_finite(t) and not group.all_finite(torch.tensor(float("nan")))
    model = nn.Linear(2, 2)
    assert group.wrap(model, torch.device("cpu")) is model and group.shared_seed(11) == 11


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_one_process_group_trains_as_one_process_does(monkeypatch, tmp_path):
    """DDP with one rank: the same shard order, the same steps, the same numbers as plain `fit`;
    only rank 0 (here the one) writes the checkpoint; the model returned is unwrapped."""
    x, y = blobs()
    data = ((x[:200], y[:200]), (x[200:], y[200:]))
    plain = fit(bn_model(), data, epochs=2, lr=1e-2, seed=0, progress=False, device="cpu")
    for name, value in {"WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": str(free_port())}.items():
        monkeypatch.setenv(name, value)
    with process_group() as group:
        assert group.active and group.world_size == 1 and torch.distributed.get_backend() == "gloo"
        ddp = fit(bn_model(), data, epochs=2, lr=1e-2, seed=0, progress=False, device="cpu",
                  checkpoint=tmp_path / "ck.pt")
    assert not torch.distributed.is_initialized(), "process_group tears the group down"
    assert type(ddp.model) is nn.Sequential and ddp.config["world_size"] == 1
    assert (tmp_path / "ck.pt").exists()
    torch.testing.assert_close(torch.tensor(ddp.history["loss"].values), torch.tensor(plain.history["loss"].values))


# ---------------------------------------------------------------- two processes (torchrun, gloo)


@pytest.fixture(scope="module")
def two_ranks():
    """The script under torchrun, 2 processes, gloo, through `launch_ddp` (as the chapter runs it); an odd
    number of validation images, so the ranks score unequal shares that are summed."""
    return launch_ddp(2, epochs=2, train_images=1024, valid_images=251, widths=(8, 16), quick=True, record_seen=True)


def test_both_ranks_end_with_identical_weights(two_ranks):
    a, b = two_ranks
    assert (a["rank"], b["rank"], a["world_size"]) == (0, 1, 2) and a["wall_seconds"] > 0
    assert a["weights_sha256"] == b["weights_sha256"]
    assert a["model_type"] == "ResNet", "the result's model is the plain module, not the DDP wrapper"
    same = ("epoch", "split", "loss", "accuracy", "lr")  # not "seconds": each rank times itself
    assert all(a["history"][k] == b["history"][k] for k in same), "every rank reports the ranks' summed metrics"


def test_the_training_loss_went_down(two_ranks):
    a, _ = two_ranks
    train = [loss for loss, split in zip(a["history"]["loss"], a["history"]["split"]) if split == "train"]
    assert len(train) == 2 and train[1] < train[0]


def test_two_ranks_see_each_training_image_once_per_epoch(two_ranks):
    a, b = two_ranks
    everything = Counter(a["train_digests"])
    assert len(a["train_digests"]) == 1024
    for epoch in ("1", "2"):
        assert len(a["seen"][epoch]) == len(b["seen"][epoch]) == 512
        assert Counter(a["seen"][epoch]) + Counter(b["seen"][epoch]) == everything
    assert set(a["seen"]["1"]) != set(a["seen"]["2"]), "each epoch deals new shards"


# ---------------------------------------------------------------- a reader's own DataLoader in a group


def test_a_dataloader_without_a_distributed_sampler_is_warned_of_inside_a_group():
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    from nbhelpers import UnshardedDataWarning
    from nbhelpers.data.loader import resolve_data

    dataset = TensorDataset(*blobs(n=40))
    options = dict(batch_size=8, device=torch.device("cpu"), generator=torch.Generator(), augment=None)
    with pytest.warns(UnshardedDataWarning, match=r"fit\(\): this process is rank 1 of 2 .* RandomSampler, not a "
                                                  r"DistributedSampler"):
        resolve_data((DataLoader(dataset, batch_size=8, shuffle=True), None), shard=(1, 2), **options)
    sharded = DataLoader(dataset, batch_size=8, sampler=DistributedSampler(dataset, num_replicas=2, rank=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_data((sharded, None), shard=(1, 2), **options)   # sharded: no warning
        resolve_data((DataLoader(dataset), None), shard=(0, 1), **options)   # one process: nothing to shard
        resolve_data((DataLoader(dataset), None), shard=None, **options)   # no group


def test_fit_calls_a_distributed_samplers_set_epoch_every_epoch():
    """Without set_epoch a DistributedSampler repeats epoch 0's order every epoch."""
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    class Recording(DistributedSampler):
        def set_epoch(self, epoch):
            self.epochs = [*getattr(self, "epochs", []), epoch]
            super().set_epoch(epoch)

    dataset = TensorDataset(*blobs(n=40))
    sampler = Recording(dataset, num_replicas=1, rank=0, seed=3)
    fit(bn_model(), (DataLoader(dataset, batch_size=8, sampler=sampler), None), epochs=3, lr=1e-2, progress=False,
        device="cpu")
    assert sampler.epochs == [0, 1, 2]
