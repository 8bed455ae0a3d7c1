"""Tests for nbhelpers.sequence: the RNN's recurrence and activations, attention pooling's weights, errors."""

from __future__ import annotations

import pytest
import torch

from nbhelpers import AttentionPooling, RNN, fit
from nbhelpers import GRU

X = torch.randn(6, 1, 40)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_rnn_matches_the_recurrence_written_out():
    model = RNN(hidden_size=5, activation="sigmoid")
    h = torch.zeros(6, 5)
    for t in range(40):
        h = torch.sigmoid(X[:, :, t] @ model.input.weight.T + model.input.bias + h @ model.recurrent.weight.T)
    assert torch.allclose(model(X), model.head(h), atol=1e-6)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_rnn_state_stays_in_the_activations_range(activation):
    model = RNN(hidden_size=8, activation=activation)
    states = []
    model.head.register_forward_hook(lambda _m, inputs, _out: states.append(inputs[0]))
    model(X * 10)
    low, high = {"tanh": (-1, 1), "sigmoid": (0, 1), "relu": (0, float("inf"))}[activation]
    assert states[0].min() >= low and states[0].max() <= high
    assert model.config["activation"] == activation


def test_rnn_reads_the_whole_sequence():
    model = RNN(hidden_size=8)
    x = X[:, :, :5]
    changed = x.clone()
    changed[:, :, 0] += 5  # the first step must still reach the output, through four recurrences
    assert (model(x) - model(changed)).abs().max() > 1e-3


def test_attention_weights_are_a_distribution_over_positions():
    model = AttentionPooling(length=40, dim=16, heads=2, layers=2)
    out = model(X)
    assert out.shape == (6, 10)
    w = model.last_weights
    assert w.shape == (6, 40) and (w >= 0).all()
    assert torch.allclose(w.sum(1), torch.ones(6))
    assert not w.requires_grad


def test_attention_without_encoder_layers_still_pools():
    model = AttentionPooling(length=40, dim=8, heads=1, layers=0)
    assert model.encoder is None and model(X).shape == (6, 10)


def test_sequence_models_learn_a_position_dependent_rule():
    # class = whether the bump is in the first or the second half: needs order, not just values
    torch.manual_seed(1)
    n = 256
    y = torch.randint(0, 2, (n,))
    x = torch.randn(n, 1, 20) * 0.1
    where = torch.randint(0, 10, (n,)) + 10 * y
    x[torch.arange(n), 0, where] += 3.0
    for model in (RNN(hidden_size=16, num_classes=2), AttentionPooling(length=20, dim=16, num_classes=2),
                  GRU(hidden_size=16, num_classes=2)):
        result = fit(model, ((x, y), (x, y)), epochs=30, lr=1e-2, batch_size=64, progress=False, seed=0)
        assert result.history.query("split == 'valid'")["accuracy"].max() > 0.9, type(model).__name__


@pytest.mark.parametrize(("call", "arg", "allowed"), [
    (lambda: RNN(activation="gelu"), "activation", "tanh"),
    (lambda: RNN(hidden_size=0), "hidden_size", ">= 1"),
    (lambda: AttentionPooling(dim=30, heads=4), "heads", "divisor of dim=30"),
    (lambda: AttentionPooling(layers=-1), "layers", ">= 0"),
    (lambda: AttentionPooling(dropout=1.0), "dropout", "< 1"),
])
def test_bad_arguments_name_the_argument(call, arg, allowed):
    with pytest.raises(ValueError, match=f"`{arg}` must be") as info:
        call()
    assert allowed in str(info.value)


def test_wrong_length_or_layout_says_what_to_do():
    with pytest.raises(ValueError, match="length=40"):
        AttentionPooling(length=40)(torch.randn(2, 1, 30))
    with pytest.raises(ValueError, match=r"unsqueeze\(1\)"):
        RNN()(torch.randn(2, 40))
