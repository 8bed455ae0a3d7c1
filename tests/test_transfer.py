"""Transfer learning helpers: freeze and unfreeze change exactly the parameters asked for, on the
course's models and torchvision's; the new head replaces the old one or the error says why not;
the table's learning rates are those of the optimizer `fit` builds; the shipped backbone loads
with ``weights_only=True`` and only with the SHA-256 its MANIFEST lists; the ImageNet path works
offline from a local file and says what to do without one, never downloading on its own."""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import random
import shutil
import urllib.error
from pathlib import Path

import pytest
import torch
from torch import nn

from nbhelpers import (CNN, MLP, Callback, DataIntegrityError, DataNotFoundError, InputAdapter, ResNet, evaluate,
                       fashion_mnist, fit, freeze, imagenet_model, pretrained_resnet, replace_head, trainable_table,
                       unfreeze)
from nbhelpers.data import datasets as D
from nbhelpers.transfer import backbones as B

ROOT = Path(__file__).resolve().parents[1]


def torchvision_resnet18():
    import torchvision

    return torchvision.models.resnet18(weights=None)


MODELS = {"ResNet": lambda: ResNet(widths=(8, 16, 32)), "CNN": lambda: CNN(channels=(4, 8)),
          "MLP": lambda: MLP(12, 3, width=8, depth=3), "resnet18": torchvision_resnet18}


def top_with_parameters(model: nn.Module) -> list[str]:
    return [name for name, child in model.named_children() if any(True for _ in child.parameters())]


def trainable(model: nn.Module) -> set[str]:
    return {name for name, p in model.named_parameters() if p.requires_grad}


def scrambled(model: nn.Module, seed: int = 0) -> nn.Module:
    """``model`` with a random pattern of frozen parameters, so a call's untouched ones can be told apart."""
    rng = random.Random(seed)
    for p in model.parameters():
        p.requires_grad_(rng.random() < 0.5)
    return model


# ---------------------------------------------------------------- freeze and unfreeze


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("k", [0, 1, 2])
def test_freezing_all_but_the_last_children_leaves_exactly_them(kind, k):
    model = scrambled(MODELS[kind]())
    tops = top_with_parameters(model)
    before = trainable(model)
    assert freeze(model, but_last=k) is model
    kept = set(tops[len(tops) - k:]) if k else set()
    assert trainable(model) == {n for n in before if n.split(".")[0] in kept}
    unfreeze(model, last=max(k, 1))
    assert trainable(model) == {n for n, _ in model.named_parameters() if n.split(".")[0] in tops[len(tops) - max(k, 1):]}


@pytest.mark.parametrize("kind", MODELS)
def test_freezing_by_prefix_touches_exactly_the_named_parameters(kind):
    model = scrambled(MODELS[kind](), seed=1)
    names = [n for n, _ in model.named_parameters()]
    first, deep = names[0].split(".")[0], names[len(names) // 2].rsplit(".", 1)[0]  # a whole child, a layer inside one
    before = trainable(model)
    under = lambda n, prefixes: any(n == p or n.startswith(p + ".") for p in prefixes)  # noqa: E731
    freeze(model, [first, deep])
    assert trainable(model) == {n for n in before if not under(n, [first, deep])}
    model = scrambled(MODELS[kind](), seed=2)
    before = trainable(model)
    unfreeze(model, deep)
    assert trainable(model) == before | {n for n in names if under(n, [deep])}


def test_freeze_changes_requires_grad_and_nothing_else():
    model = ResNet(widths=(8, 16))
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    freeze(model)
    assert not trainable(model) and model.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    unfreeze(model)
    assert trainable(model) == {n for n, _ in model.named_parameters()}


def test_freeze_says_what_is_wrong():
    model = ResNet(widths=(8, 16))
    with pytest.raises(ValueError, match=r"freeze\(\): `prefixes` must be prefixes of parameter names, such as stem, "
                                         r"stage1, stage2, head; got 'stag1'\. Did you mean 'stage1'\?"):
        freeze(model, "stag1")
    with pytest.raises(ValueError, match=r"`but_last` must be None when prefixes are given"):
        freeze(model, "stem", but_last=1)
    with pytest.raises(ValueError, match=r"unfreeze\(\): `last` must be at most 4, the top-level children of ResNet "
                                         r"with parameters: stem, stage1, stage2, head; got 5"):
        unfreeze(model, last=5)
    assert trainable(model) == {n for n, _ in model.named_parameters()}, "a refused call changed nothing"


# ---------------------------------------------------------------- replace_head


@pytest.mark.parametrize("kind, head", [("ResNet", "head"), ("CNN", "head"), ("MLP", "head"), ("resnet18", "fc")])
def test_replace_head_puts_a_new_trainable_linear_in_place(kind, head):
    model = freeze(MODELS[kind]())
    old = model.get_submodule(head)
    assert replace_head(model, 7) is model
    new = model.get_submodule(head)
    assert isinstance(new, nn.Linear) and new is not old and (new.in_features, new.out_features) == (old.in_features, 7)
    assert trainable(model) == {f"{head}.weight", f"{head}.bias"}, "only the new head trains"
    shape = (2, 12) if kind == "MLP" else (2, 3, 32, 32) if kind == "resnet18" else (2, 1, 28, 28)
    assert model(torch.randn(shape)).shape == (2, 7)
    if hasattr(model, "config"):
        assert model.config["num_classes"] == 7


def test_replace_head_finds_vgg16s_last_classifier_layer():
    import torchvision

    with torch.device("meta"):  # no memory and no time for VGG16's 138 million weights
        model = replace_head(torchvision.models.vgg16(weights=None), 4)
    assert isinstance(model.classifier[6], nn.Linear) and model.classifier[6].out_features == 4
    assert model.classifier[6].in_features == 4096 and model.classifier[3].out_features == 4096


def test_replace_head_says_why_it_cannot_find_one():
    with pytest.raises(ValueError, match=r"replace_head\(\): `model` must be a model whose last layer with parameters "
                                         r"is a torch.nn.Linear \(its head\); got 'Sequential'\. Its last layer with "
                                         r"parameters is '1' \(BatchNorm1d\)"):
        replace_head(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)), 2)
    with pytest.raises(ValueError, match="It has no layer with parameters"):
        replace_head(nn.ReLU(), 2)


# ---------------------------------------------------------------- trainable_table


class Rates(Callback):
    """The learning rate of every parameter in the optimizer `fit` built, read as training begins."""

    def on_fit_begin(self, state):
        self.rates = {id(p): group["lr"] for group in state.optimizer.param_groups for p in group["params"]}


@pytest.mark.parametrize("groups", [None, {"stage1": {"lr": 1e-4}, "stage2.0.conv1": {"lr": 3e-4}, "head": {"lr": 1e-2}},
                                    {"stage2": {"lr": 1e-5}, "stage2.0.conv1": {"lr": 2e-5}}])
def test_the_table_gives_each_layer_the_rate_fit_gives_it(groups):
    model = freeze(ResNet(widths=(8, 16)), "stem")
    table = trainable_table(model, lr=3e-3, param_groups=groups)
    rates = Rates()
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8) % 10
    fit(model, (x, y), epochs=1, lr=3e-3, param_groups=groups, callbacks=[rates], progress=False, device="cpu")
    assert table["parameters"].sum() == sum(p.numel() for p in model.parameters())
    rows = {layer: (frozen, lr) for layer, frozen, lr in zip(table["layer"], ~table["trainable"], table["lr"])}
    assert len(rows) == len(table), "one row per layer here: no layer's parameters differ in their rate"
    for name, p in model.named_parameters():
        frozen, lr = rows[name.rsplit(".", 1)[0]]
        if frozen:
            assert id(p) not in rates.rates and lr != lr  # nan: a frozen layer gets no rate
        else:
            assert rates.rates[id(p)] == pytest.approx(lr), name
    assert set(table.loc[table["layer"].str.startswith("stem"), "trainable"]) == {False}


def test_the_table_groups_by_depth_and_refuses_what_fit_refuses():
    model = freeze(ResNet(widths=(8, 16)), "stem")
    table = trainable_table(model, lr=1e-3, param_groups={"stage1": {"lr": 1e-4}}, depth=1)
    assert table["layer"].tolist() == ["stem", "stage1", "stage2", "head"]
    assert table["trainable"].tolist() == [False, True, True, True]
    assert table["lr"].tolist()[1:] == [1e-4, 1e-3, 1e-3]
    with pytest.raises(ValueError, match=r"trainable_table\(\): `param_groups` must be prefixes of trainable parameter"):
        trainable_table(model, param_groups={"stem": {"lr": 1e-4}})  # frozen: fit refuses it too
    assert trainable_table(freeze(model))["lr"].isna().all()


# ---------------------------------------------------------------- the shipped backbone


def manifest_line(key: str) -> str:
    return next(line.split()[0] for line in D.MANIFEST.read_text().splitlines() if line.endswith("  " + key))


def test_the_shipped_backbone_loads_with_weights_only_and_its_sha256(monkeypatch):
    calls = []
    load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **kw: calls.append(kw) or load(*a, **kw))
    model = pretrained_resnet()
    assert calls and all(kw.get("weights_only") is True for kw in calls)
    path = D.SHIPPED_DIR / B.BACKBONE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest_line(B.BACKBONE) == model.pretraining["sha256"]
    assert path.stat().st_size < 1_000_000
    assert isinstance(model, ResNet) and model.config["num_classes"] == 5
    assert model.pretraining["classes"] == D.FASHION_CLASSES[:5]
    state = load(path, weights_only=True)["state_dict"]
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert pretrained_resnet(num_classes=3).head.out_features == 3


def test_the_backbone_knows_its_source_classes():
    """On the shipped subset's test images of the five source classes (a part of the full test set
    the script scored on), the backbone scores about what the script recorded."""
    data, model = fashion_mnist(quick=True), pretrained_resnet()
    x, y = data.test
    keep = y < 5
    accuracy = evaluate(model, (x[keep], y[keep]), device="cpu")["accuracy"]
    assert accuracy > 0.8 and abs(accuracy - model.pretraining["source_test_accuracy"]) < 0.05


def test_the_script_and_the_shipped_checkpoint_agree():
    spec = importlib.util.spec_from_file_location("pretrain_backbone", ROOT / "datasets" / "pretrain_backbone.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # defines its constants; main() is not run
    record = pretrained_resnet().pretraining
    assert script.KEY == B.BACKBONE
    assert (record["seed"], record["epochs"], record["lr"], record["batch_size"]) == (script.SEED, script.EPOCHS,
                                                                                      script.LR, script.BATCH)
    assert record["classes"] == [D.FASHION_CLASSES[c] for c in script.SOURCE] and record["images"] == 30_000
    assert pretrained_resnet().config["widths"] == script.WIDTHS


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped folder that the package reads instead of its own."""
    copy = tmp_path / "shipped"
    (copy / "backbones").mkdir(parents=True)
    shutil.copy(D.MANIFEST, copy / "MANIFEST")
    shutil.copy(D.SHIPPED_DIR / B.BACKBONE, copy / B.BACKBONE)
    monkeypatch.setattr(D, "SHIPPED_DIR", copy)
    monkeypatch.setattr(D, "MANIFEST", copy / "MANIFEST")
    return copy


def test_a_changed_byte_is_refused(shipped_copy):
    path = shipped_copy / B.BACKBONE
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 1  # one bit of one weight
    path.write_bytes(bytes(raw))
    with pytest.raises(DataIntegrityError, match=r"is corrupt or not the expected file: its SHA-256 is .* but .* "
                                                 r"lists .* for backbones/resnet-fashion-mnist-5\.pt\. Restore it"):
        pretrained_resnet()


def test_a_missing_checkpoint_says_how_to_get_it_back(shipped_copy):
    (shipped_copy / B.BACKBONE).unlink()
    with pytest.raises(DataNotFoundError, match=r"pretrained backbone .* is missing\. Restore it with `git checkout "
                                                r"nbhelpers/data/shipped/`.* recreate it with `python datasets/"
                                                r"pretrain_backbone\.py`"):
        pretrained_resnet()


class Payload:
    """What a malicious checkpoint would carry: an object whose unpickling runs code."""

    def __reduce__(self):
        return (print, ("this ran while loading",))


def test_a_checkpoint_that_would_run_code_is_refused_even_with_the_right_sha256(shipped_copy):
    path = shipped_copy / B.BACKBONE
    torch.save({"format": B.FORMAT, "payload": Payload()}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = shipped_copy / "MANIFEST"
    manifest.write_text(manifest.read_text().replace(manifest_line(B.BACKBONE), digest))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        pretrained_resnet()


# ---------------------------------------------------------------- the ImageNet path, offline


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    """An empty torchvision cache: nothing found there unless a test puts it."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_imagenet_weights_from_a_local_file(tmp_path, torch_home, monkeypatch):
    saved = torchvision_resnet18().state_dict()
    path = tmp_path / "resnet18-local.pth"
    torch.save(saved, path)
    calls = []
    load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **kw: calls.append(kw) or load(*a, **kw))
    model = imagenet_model("resnet18", 5, weights=path, size=32)
    assert calls and all(kw.get("weights_only") is True for kw in calls)
    state = model.state_dict()
    assert set(state) == set(saved) and all(torch.equal(state[k], v) for k, v in saved.items() if not k.startswith("fc."))
    assert isinstance(model.adapter, InputAdapter) and model.fc.out_features == 5
    model.eval()
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 5)
    assert top_with_parameters(model)[-2:] == ["layer4", "fc"]  # freeze(but_last=2) leaves the top block and the head


def test_imagenet_weights_from_torchvisions_cache(torch_home):
    url, cached = B.imagenet_weights("resnet18")
    assert cached == torch_home / "resnet18-f37072fd.pth" and url.endswith("/resnet18-f37072fd.pth")
    torch_home.mkdir(parents=True)
    torch.save(torchvision_resnet18().state_dict(), cached)
    assert imagenet_model("resnet18", 2, size=32).fc.out_features == 2


@pytest.mark.parametrize("name, file", [("resnet18", "resnet18-f37072fd.pth"), ("vgg16", "vgg16-397923af.pth")])
def test_without_the_file_it_says_what_to_do_and_downloads_nothing(name, file, torch_home, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **kw: pytest.fail("a download was attempted"))
    with pytest.raises(DataNotFoundError) as error:
        imagenet_model(name, 5)
    message = str(error.value)
    for part in (f"no {file} in torchvision's cache, {torch_home}", "Nothing is downloaded unless you ask",
                 f"download=True (it fetches https://download.pytorch.org/models/{file}",
                 f"put {file} in {torch_home}", f"weights='path/to/{file}'"):
        assert part in message, (part, message)
    with pytest.raises(DataNotFoundError, match=r"elsewhere\.pth does not exist"):
        imagenet_model(name, 5, weights=torch_home / "elsewhere.pth", download=True)


def test_a_download_asked_for_offline_fails_clearly(torch_home, monkeypatch):
    def offline(url, dst, hash_prefix=None, progress=True):
        assert hash_prefix == "f37072fd" and Path(dst).parent == torch_home
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(DataNotFoundError, match=r"downloading https://download\.pytorch\.org/models/resnet18-f37072fd"
                                                r"\.pth failed \(URLError: .*no network.*\)\. Nothing is downloaded"):
        imagenet_model("resnet18", 5, download=True)


def test_a_file_of_another_net_is_refused(tmp_path, torch_home):
    path = tmp_path / "other.pth"
    torch.save(ResNet().state_dict(), path)
    with pytest.raises(DataIntegrityError, match=r"other\.pth does not hold the weights of resnet18"):
        imagenet_model("resnet18", 5, weights=path)


def test_the_input_adapter_makes_imagenet_inputs():
    mean, std = 0.2860, 0.3530
    adapter = InputAdapter(size=40, mean_std=(mean, std))
    assert not list(adapter.parameters()) and not adapter.state_dict()
    pixels = torch.rand(2, 1, 28, 28)
    out = adapter((pixels - mean) / std)
    assert out.shape == (2, 3, 40, 40)
    back = out * adapter.std + adapter.mean  # ImageNet's normalization undone: the same gray in all three channels
    assert torch.allclose(back[:, 0], back[:, 1], atol=1e-6) and torch.allclose(back[:, 1], back[:, 2], atol=1e-6)
    assert back.min() >= -1e-5 and back.max() <= 1 + 1e-5
    flat = InputAdapter(size=28, mean_std=None)(torch.full((1, 1, 28, 28), 0.5))
    assert torch.allclose(flat[0, :, 0, 0], (0.5 - adapter.mean.flatten()) / adapter.std.flatten())
    with pytest.raises(ValueError, match=r"InputAdapter\.forward\(\): `x` must be images N x 1 x H x W"):
        adapter(torch.randn(2, 28, 28))
