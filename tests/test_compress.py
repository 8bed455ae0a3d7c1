"""Tests for nbhelpers.compress: pruning reaches the sparsity asked for, quantized outputs stay close, the table."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nbhelpers import CNN, GRU, MLP, fit
from nbhelpers import file_bytes, prune, quantize, size_speed_table, sparsity


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@settings(max_examples=15, deadline=None)
@given(amount=st.floats(0.0, 1.0))
def test_pruning_reaches_the_sparsity_asked_for(amount):
    model = MLP(40, 10, width=32, depth=2)
    total = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert sparsity(prune(model, amount)) == pytest.approx(round(amount * total) / total, abs=1e-9)
    assert sparsity(model) == 0.0  # the model passed in is untouched


def test_pruning_removes_the_smallest_weights_and_leaves_no_masks():
    model = CNN(dim=1, channels=(8, 16))
    pruned = prune(model, 0.5)
    weights = lambda net: torch.cat([m.weight.flatten() for m in net.modules()  # noqa: E731
                                     if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))])
    kept, original = weights(pruned), weights(model)
    threshold = original.abs().kthvalue(len(original) // 2).values
    assert (kept[kept != 0].abs() >= threshold).all()
    assert not any(name.endswith("_mask") for name, _ in pruned.named_buffers())
    assert pruned(torch.randn(2, 1, 40)).shape == (2, 10)


@pytest.mark.parametrize("model, x", [(MLP(40, 10, width=64), torch.randn(32, 1, 40)),
                                      (GRU(hidden_size=64), torch.randn(32, 1, 40))])
def test_quantized_output_is_close_to_float_and_the_file_smaller(model, x):
    model.eval()
    small = quantize(model)
    assert (small(x) - model(x)).abs().max() < 0.05 * model(x).abs().max()
    assert file_bytes(small)[0] < 0.6 * file_bytes(model)[0]
    assert next(model.parameters()).dtype == torch.float32  # the original is untouched


def test_table_measures_each_model():
    model = MLP(40, 10, width=64)
    x, y = torch.randn(200, 1, 40), torch.randint(0, 10, (200,))
    t = size_speed_table({"float": model, "pruned 90%": prune(model, 0.9), "int8": quantize(model)}, (x, y), repeats=3)
    rows = t.set_index("model")
    weights = 40 * 64 + 64 * 64 + 64 * 10
    assert rows.loc["float", "nonzero_weights"] == weights
    assert rows.loc["pruned 90%", "nonzero_weights"] == pytest.approx(0.1 * weights, abs=1)
    assert rows.loc["pruned 90%", "zipped_kb"] < 0.5 * rows.loc["float", "zipped_kb"]
    assert rows.loc["int8", "parameters"] == rows.loc["float", "parameters"]
    assert rows.loc["int8", "file_kb"] < 0.6 * rows.loc["float", "file_kb"]
    assert (t["latency_ms"] > 0).all() and t["accuracy"].between(0, 1).all()


@pytest.mark.parametrize(("call", "arg"), [
    (lambda: prune(MLP(4, 2), 1.5), "amount"),
    (lambda: prune(MLP(4, 2), 0.5, fine_tune="fit"), "fine_tune"),
    (lambda: prune("model", 0.5), "model"),
    (lambda: prune(torch.nn.ReLU(), 0.5), "model"),
    (lambda: quantize(None), "model"),
    (lambda: size_speed_table({}, (torch.zeros(1), torch.zeros(1))), "models"),
    (lambda: size_speed_table({"a": MLP(4, 2)}, torch.zeros(3)), "split"),
])
def test_bad_arguments_name_the_argument(call, arg):
    with pytest.raises(ValueError, match=f"`{arg}` must be"):
        call()


def test_fine_tuning_keeps_the_pruned_weights_at_zero_and_changes_the_rest():
    model = MLP(40, 10, width=32)
    x, y = torch.randn(256, 1, 40), torch.randint(0, 10, (256,))
    untuned = prune(model, 0.8)
    tuned = prune(model, 0.8, fine_tune=lambda m: fit(m, (x, y), epochs=3, lr=1e-2, progress=False))
    assert sparsity(tuned) == pytest.approx(sparsity(untuned))
    for a, b in zip(untuned.parameters(), tuned.parameters()):
        assert torch.equal(a == 0, b == 0) if a.ndim == 2 else True  # the same weights stay pruned
    assert not torch.allclose(untuned.head.weight, tuned.head.weight)  # and the kept ones were trained
