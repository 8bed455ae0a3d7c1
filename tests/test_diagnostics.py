"""Tests for nbhelpers.diagnostics: gradient norms agree with autograd, dead units are found, tables and plots."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from nbhelpers import MLP, ActivationStats, GradientNorms, fit, layer_gradients, plot_layers

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
