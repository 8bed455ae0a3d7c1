"""Tests for nbhelpers.diagnostics: gradient norms agree with autograd, dead units are found, tables and plots."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from nbhelpers import MLP, ActivationStats, GradientNorms, NonFiniteLossWarning, fit, layer_gradients, plot_layers

X, Y = torch.randn(128, 12), torch.randint(0, 3, (128,))
DATA = ((X, Y), (X, Y))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_layer_gradients_match_autograd_and_clear_the_grads():
    model = MLP(12, 3, depth=2, width=8)
    table = layer_gradients(model, X, Y)
    nn.functional.cross_entropy(model(X), Y).backward()
    expected = [model.layer1[0].weight.grad.norm(), model.layer2[0].weight.grad.norm(), model.head.weight.grad.norm()]
    assert table["grad_norm"].tolist() == pytest.approx([e.item() for e in expected], rel=1e-5)
    assert table["position"].tolist() == [1, 2, 3]
    model.zero_grad(set_to_none=True)
    layer_gradients(model, X, Y)
    assert all(p.grad is None for p in model.parameters())


def test_deep_sigmoid_net_shows_vanishing_gradients_and_relu_with_norm_does_not():
    deep = dict(depth=10, width=32)
    sigmoid = layer_gradients(MLP(12, 3, activation="sigmoid", **deep), X, Y)["grad_norm"]
    normed = layer_gradients(MLP(12, 3, activation="relu", norm="batch", **deep), X, Y)["grad_norm"]
    first_to_last = lambda g: g.iloc[0] / g.iloc[-2]  # noqa: E731  (the head is last; compare hidden layers)
    assert first_to_last(sigmoid) < 1e-3 < first_to_last(normed)


def test_gradient_norms_record_every_k_steps_in_forward_order():
    grads = GradientNorms(every=3)
    fit(MLP(12, 3, depth=2, width=8), DATA, epochs=2, lr=1e-2, batch_size=32, progress=False, callbacks=[grads])
    t = grads.table
    assert sorted(t["step"].unique()) == [1, 4, 7]  # 8 steps: recorded before steps 1, 4 and 7
    assert t.groupby("step")["layer"].apply(list).iloc[0] == ["layer1.0", "layer2.0", "head"]
    assert (t["grad_norm"] > 0).all() and set(t["epoch"]) == {1, 2}


def test_dead_relus_are_counted():
    model = MLP(12, 3, depth=1, width=10)
    with torch.no_grad():
        model.layer1[0].bias[:4] = -100.0  # four units can never fire
    stats = ActivationStats(X)
    fit(model, DATA, epochs=1, lr=1e-4, progress=False, callbacks=[stats])
    t = stats.table
    assert t["dead_fraction"].tolist() == pytest.approx([0.4, 0.4])  # before training and after the epoch
    assert (t["zero_fraction"] >= 0.4).all() and t["activation"].eq("ReLU").all()


def test_activation_stats_keep_the_training_mode_and_record_every_k_steps():
    stats = ActivationStats(X[:16], every=2)
    model = MLP(12, 3, depth=2, width=8, dropout=0.5)
    fit(model, DATA, epochs=1, lr=1e-3, batch_size=32, progress=False, callbacks=[stats])
    assert sorted(stats.table["step"].unique()) == [0, 2, 4]
    assert set(stats.table["layer"]) == {"layer1.1", "layer2.1"}


def test_plot_layers_draws_one_line_per_table():
    t = pd.DataFrame({"position": [1, 2, 3], "grad_norm": [1e-6, 1e-3, 0.0]})
    fig = plot_layers({"a": t, "b": t.assign(grad_norm=1.0)})
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert ax.lines[0].get_ydata()[-1] > 0  # a zero is clipped, not dropped from the log axis


@pytest.mark.parametrize(("call", "arg"), [
    (lambda: GradientNorms(every=0), "every"),
    (lambda: ActivationStats([1, 2]), "probe"),
    (lambda: layer_gradients("model", X, Y), "model"),
    (lambda: layer_gradients(MLP(12, 3), X, Y, loss="hinge"), "loss"),
    (lambda: plot_layers({}), "tables"),
    (lambda: plot_layers({"a": pd.DataFrame({"position": [1]})}), "value"),
])
def test_bad_arguments_name_the_argument(call, arg):
    with pytest.raises(ValueError, match=f"`{arg}` must be"):
        call()


def test_activation_stats_refuse_a_model_without_activations():
    with pytest.raises(ValueError, match="activation modules"):
        fit(MLP(12, 3, depth=0), DATA, epochs=1, lr=1e-3, progress=False, callbacks=[ActivationStats(X)])


# ---- troubleshooting: check_data, diagnose, overfit_batch ----

def flags(table: pd.DataFrame) -> dict[str, bool]:
    return dict(zip(table["check"], table["ok"]))


def test_check_data_flags_each_problem_it_names_and_passes_clean_data():
    from nbhelpers import check_data

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(400, 6, generator=g), torch.arange(400) % 4
    clean = check_data(x, y)
    assert all(clean["ok"]) and (clean["what to try"] == "").all() and len(clean) == 8
    broken = x.clone()
    broken[3, 2] = float("nan")
    assert flags(check_data(broken, y))["inputs are finite"] is False
    assert flags(check_data(x * 255 + 128, y))["inputs are scaled"] is False
    assert flags(check_data(x[:1].repeat(400, 1), y))["inputs vary"] is False
    assert flags(check_data(torch.cat([x[:300], x[:100]]), y))["rows are not duplicated"] is False
    missing = check_data(x, torch.tensor([0, 1, 3, 3] * 100))
    assert flags(missing)["every class is present"] is False and "missing: 2" in missing["evidence"].str.cat()
    assert flags(check_data(x, torch.tensor([0] * 390 + [1] * 10)))["classes are balanced"] is False
    assert flags(check_data(x, torch.rand(400, generator=g)))["labels are class numbers"] is False
    assert flags(check_data(x, y[:399]))["one label per row"] is False


def blobs(n=600, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    return torch.randn(n, 8, generator=g) + 3 * nn.functional.one_hot(y, 8).float(), y


def test_diagnose_passes_a_healthy_run_and_names_what_went_wrong_in_broken_ones():
    from nbhelpers import diagnose

    x, y = blobs()
    data = ((x[:400], y[:400]), (x[400:], y[400:]))
    healthy = diagnose(fit(MLP(8, 3, width=32), data, epochs=5, lr=1e-2, progress=False, seed=0))
    assert all(healthy["ok"]), healthy
    too_high = flags(diagnose(fit(MLP(8, 3, width=32), data, epochs=5, lr=50.0, optimizer="sgd", progress=False,
                                  seed=0)))
    assert too_high["training loss fell"] is False  # it blew up in epoch 1, then fell, but never below a guess's
    shuffled = (data[0], (x[400:], y[400:][torch.randperm(200, generator=torch.Generator().manual_seed(1))]))
    assert flags(diagnose(fit(MLP(8, 3, width=32), shuffled, epochs=5, lr=1e-2, progress=False,
                              seed=0)))["validation beats chance"] is False
    tiny = ((x[:12] * 0 + torch.randn(12, 8), y[:12]), data[1])  # 12 noise images: memorized, no use on the rest
    assert flags(diagnose(fit(MLP(8, 3, width=256), tiny, epochs=60, lr=1e-2, progress=False,
                              seed=0)))["train and validation agree"] is False
    with pytest.warns(NonFiniteLossWarning):
        inf = fit(MLP(8, 3), (x.clone().fill_(float("inf")), y), epochs=2, lr=1e-2, progress=False, seed=0)
    assert flags(diagnose(inf))["loss stayed finite"] is False


def test_diagnose_reads_exploding_and_vanishing_gradients_from_gradient_norms():
    from nbhelpers import diagnose

    x, y = blobs()
    grads = GradientNorms(every=1)
    deep = fit(MLP(8, 3, depth=12, width=32, activation="sigmoid"), (x, y), epochs=1, lr=1e-3, progress=False,
               seed=0, callbacks=[grads])
    vanishing = flags(diagnose(deep, grads.table))
    assert vanishing["no vanishing gradients"] is False
    shallow_grads = GradientNorms(every=1)
    shallow = fit(MLP(8, 3, depth=2, width=32), (x, y), epochs=1, lr=1e-3, progress=False, seed=0,
                  callbacks=[shallow_grads])
    assert flags(diagnose(shallow, shallow_grads.table))["no vanishing gradients"] is True
    spiky = shallow_grads.table.copy()
    spiky.loc[5, "grad_norm"] = spiky["grad_norm"].median() * 1000
    assert flags(diagnose(shallow, spiky))["no exploding gradients"] is False
    assert flags(diagnose(shallow, shallow_grads.table))["no exploding gradients"] is True


def test_overfit_batch_fits_a_sound_model_and_not_a_broken_one_and_leaves_the_model_alone():
    from nbhelpers import overfit_batch

    x, y = torch.randn(64, 10), torch.arange(64) % 3
    model = MLP(10, 3)
    before = [p.detach().clone() for p in model.parameters()]
    sound = overfit_batch(model, x, y, steps=100)
    assert sound["accuracy"] == 1.0 and sound["loss"] < 0.05 * sound["first_loss"] and len(sound["curve"]) == 100
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    frozen = MLP(10, 3)
    for p in frozen.parameters():  # the bug: nothing can learn but the head's... nothing at all
        p.requires_grad_(False)
    frozen.head.bias.requires_grad_(True)
    assert overfit_batch(frozen, x, y, steps=100)["accuracy"] < 0.7
    with pytest.raises(ValueError, match=r"overfit_batch\(\): `y` must be one label per row of x \(64\)"):
        overfit_batch(model, x, y[:10])
