"""Tests for nbhelpers.models: shapes, layer choices, residuals, dropout, gradients, budgets, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from nbhelpers.models import ACTIVATIONS, CNN, MLP, ResNet, count_parameters, make_activation, width_for_budget
from nbhelpers.models.sequence import GRU

IMAGES = (6, 1, 28, 28)  # a Fashion-MNIST batch
SEQUENCES = (6, 1, 40)  # an MNIST-1D batch, channels first


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# (id, factory, input shape, name of the first parameter: the layer gradients must reach)
MODELS = [
    ("mlp-images", lambda: MLP(784, 10), IMAGES, "layer1.0.weight"),
    ("mlp-sequences", lambda: MLP(40, 10, depth=4, norm="batch", skip=True), SEQUENCES, "layer1.0.weight"),
    ("mlp-linear", lambda: MLP(784, 10, depth=0), IMAGES, "head.weight"),
    ("mlp-regression", lambda: MLP(40, 1, activation="tanh", norm="layer"), SEQUENCES, "layer1.0.weight"),
    ("cnn-2-stages", lambda: CNN(), IMAGES, "stage1.block.conv1.weight"),
    ("cnn-3-stages", lambda: CNN(channels=(8, 16, 32), skip=True), IMAGES, "stage1.block.conv1.weight"),
    ("cnn-1d", lambda: CNN(dim=1), SEQUENCES, "stage1.block.conv1.weight"),
    ("cnn-1d-3-stages", lambda: CNN(dim=1, channels=(8, 16, 32), kernel_size=5, norm="group", skip=True),
     SEQUENCES, "stage1.block.conv1.weight"),
    ("cnn-no-norm", lambda: CNN(norm=None, activation="leaky_relu"), IMAGES, "stage1.block.conv1.weight"),
    ("resnet", lambda: ResNet(widths=(8, 16, 32)), IMAGES, "stem.0.weight"),
    ("resnet-deeper", lambda: ResNet(widths=(8, 16), blocks_per_stage=2, norm="group"), IMAGES, "stem.0.weight"),
    ("resnet-1d", lambda: ResNet(dim=1, widths=(8, 16, 32)), SEQUENCES, "stem.0.weight"),
    ("gru", lambda: GRU(), SEQUENCES, "gru.weight_ih_l0"),
    ("gru-bidirectional", lambda: GRU(num_layers=2, bidirectional=True, hidden_size=16), SEQUENCES,
     "gru.weight_ih_l0"),
]
MODEL_IDS = [m[0] for m in MODELS]
MODEL_CASES = [m[1:] for m in MODELS]


@pytest.mark.parametrize(("factory", "shape", "first"), MODEL_CASES, ids=MODEL_IDS)
def test_output_shape_is_batch_by_classes(factory, shape, first) -> None:
    model = factory()
    out = model(torch.randn(shape))
    assert out.shape == (shape[0], model.config["num_classes"])
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(("factory", "shape", "first"), MODEL_CASES, ids=MODEL_IDS)
def test_gradients_reach_the_first_layer(factory, shape, first) -> None:
    model = factory()
    out = model(torch.randn(shape))
    target = torch.randint(0, out.shape[1], (shape[0],))
    loss = F.mse_loss(out[:, 0], torch.randn(shape[0])) if out.shape[1] == 1 else F.cross_entropy(out, target)
    loss.backward()
    name, param = next(iter(model.named_parameters()))
    assert name == first
    assert param.grad is not None and param.grad.abs().sum() > 0


def test_depth_zero_mlp_is_one_linear_map() -> None:
    model = MLP(784, 10, depth=0)
    assert count_parameters(model) == 784 * 10 + 10
    x = torch.randn(IMAGES)
    expected = x.flatten(1) @ model.head.weight.T + model.head.bias
    torch.testing.assert_close(model(x), expected)


def test_parameter_counts_match_hand_counts() -> None:
    # MLP(784, 10): 784->256, 256->256, 256->10, all with biases.
    assert count_parameters(MLP(784, 10)) == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    # CNN(): bias-free 3x3 convs 1->32->32 and 32->64->64, BatchNorm (2 per channel), head 64->10.
    convs = 9 * (1 * 32 + 32 * 32 + 32 * 64 + 64 * 64)
    assert count_parameters(CNN()) == convs + 2 * (32 + 32 + 64 + 64) + 64 * 10 + 10


def test_count_parameters_can_skip_frozen_ones() -> None:
    model = MLP(20, 3, width=8, depth=1)
    model.layer1.requires_grad_(False)
    assert count_parameters(model) == 8 * 3 + 3
    assert count_parameters(model, trainable_only=False) == 20 * 8 + 8 + 8 * 3 + 3


REFERENCE = {
    "relu": F.relu, "leaky_relu": F.leaky_relu, "elu": F.elu, "silu": F.silu, "swish": F.silu,
    "gelu": F.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "identity": lambda x: x,
}


def test_every_activation_has_a_reference() -> None:
    assert set(REFERENCE) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_matches_torch_function(name: str) -> None:
    x = torch.linspace(-4, 4, 101)
    act = make_activation(name)
    assert act is not make_activation(name)
    torch.testing.assert_close(act(x), REFERENCE[name](x))
    model = MLP(5, 2, width=4, depth=2, activation=name.upper())  # names are case-insensitive
    assert sum(isinstance(m, ACTIVATIONS[name]) for m in model.modules()) == 2
    assert model.config["activation"] == name


def test_activation_module_is_copied_per_layer() -> None:
    prelu = nn.PReLU()
    model = MLP(5, 2, width=4, depth=3, activation=prelu)
    copies = [m for m in model.modules() if isinstance(m, nn.PReLU)]
    assert len(copies) == 3 and all(m is not prelu for m in copies)
    assert count_parameters(model) == count_parameters(MLP(5, 2, width=4, depth=3)) + 3
    assert make_activation(prelu).weight is not prelu.weight


def test_activations_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        ACTIVATIONS["relu"] = nn.Tanh  # type: ignore[index]


@pytest.mark.parametrize("skip", [False, True])
def test_mlp_skip_adds_each_later_layer_input(skip: bool) -> None:
    model = MLP(8, 3, width=16, depth=2, skip=skip)
    linear = next(m for m in model.layer2.modules() if isinstance(m, nn.Linear))
    nn.init.zeros_(linear.weight)  # layer 2's body now outputs relu(0) = 0
    nn.init.zeros_(linear.bias)
    x = torch.randn(5, 8)
    with torch.no_grad():
        out = model(x)
        expected = model.head(model.layer1(x)) if skip else model.head.bias.expand(5, 3)
    torch.testing.assert_close(out, expected)


def test_mlp_skip_leaves_the_first_layer_and_the_parameters_alone() -> None:
    plain, residual = MLP(8, 3, depth=1), MLP(8, 3, depth=1, skip=True)
    residual.load_state_dict(plain.state_dict())
    x = torch.randn(5, 8)
    torch.testing.assert_close(plain(x), residual(x))
    assert count_parameters(MLP(8, 3, depth=3)) == count_parameters(MLP(8, 3, depth=3, skip=True))


def test_cnn_skip_adds_the_projected_stage_input() -> None:
    plain, residual = CNN(channels=(8, 16)).eval(), CNN(channels=(8, 16), skip=True).eval()
    result = residual.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == [] and all("shortcut" in k for k in result.missing_keys)
    x = torch.randn(IMAGES)
    with torch.no_grad():
        assert residual(x).shape == plain(x).shape
        assert not torch.allclose(residual(x), plain(x))
        for stage in (residual.stage1, residual.stage2):
            nn.init.zeros_(stage.block.shortcut[0].weight)  # the shortcut now adds 0
        torch.testing.assert_close(residual(x), plain(x))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gru_reads_each_directions_final_state(bidirectional: bool) -> None:
    model = GRU(num_layers=2, hidden_size=8, bidirectional=bidirectional).eval()
    x = torch.randn(SEQUENCES)
    with torch.no_grad():
        seq, _ = model.gru(x.transpose(1, 2))
        last = torch.cat([seq[:, -1, :8], seq[:, 0, 8:]], dim=1) if bidirectional else seq[:, -1]
        torch.testing.assert_close(model(x), model.head(last))


DROPOUT_MODELS = [
    (lambda p: MLP(784, 10, dropout=p), IMAGES),
    (lambda p: CNN(channels=(8, 16), dropout=p), IMAGES),
    (lambda p: ResNet(widths=(8, 16), dropout=p), IMAGES),
    (lambda p: GRU(hidden_size=16, dropout=p), SEQUENCES),
    (lambda p: GRU(hidden_size=16, num_layers=2, dropout=p), SEQUENCES),
]


@pytest.mark.parametrize(("factory", "shape"), DROPOUT_MODELS, ids=["mlp", "cnn", "resnet", "gru", "gru-2-layers"])
def test_dropout_is_random_in_training_only(factory, shape) -> None:
    x = torch.randn(shape)
    with torch.no_grad():
        model = factory(0.5).train()
        assert not torch.equal(model(x), model(x))
        model.eval()
        assert torch.equal(model(x), model(x))
        control = factory(0.0).train()  # without dropout, training mode is deterministic
        assert torch.equal(control(x), control(x))


@pytest.mark.parametrize(
    ("cls", "kwargs", "norm"),
    [
        (MLP, {"in_features": 784, "num_classes": 10}, norm) for norm in (None, "none", "batch", "layer")
    ] + [
        (cls, {}, norm) for cls in (CNN, ResNet) for norm in (None, "batch", "group")
    ] + [(CNN, {"dim": 1}, "batch"), (ResNet, {"dim": 1}, "group")],
)
def test_norm_layers_present_iff_asked(cls, kwargs, norm) -> None:
    model = cls(**kwargs, norm=norm)
    kinds = {type(m) for m in model.modules()}
    has_batch = bool(kinds & {nn.BatchNorm1d, nn.BatchNorm2d})
    assert has_batch == (norm == "batch")
    assert (nn.LayerNorm in kinds) == (norm == "layer")
    assert (nn.GroupNorm in kinds) == (norm == "group")
    shape = SEQUENCES if kwargs.get("dim") == 1 else IMAGES
    assert model(torch.randn(shape)).shape == (shape[0], 10)


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
@pytest.mark.parametrize("budget", [20_000, 100_000, 400_000])
def test_width_for_budget_lands_within_three_percent(depth: int, budget: int) -> None:
    width = width_for_budget(784, 10, depth, budget)
    count = count_parameters(MLP(784, 10, width=width, depth=depth))
    assert abs(count - budget) <= 0.03 * budget
    for other in (width - 1, width + 1):  # no neighbour is closer
        if other >= 1:
            assert abs(count_parameters(MLP(784, 10, width=other, depth=depth)) - budget) >= abs(count - budget)


def test_width_for_budget_narrows_with_depth_and_stays_positive() -> None:
    widths = [width_for_budget(784, 10, depth, 100_000) for depth in (1, 2, 4, 8)]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    assert width_for_budget(784, 10, 3, 10) == 1  # below the smallest net: the smallest net


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (MLP(784, 10), dict(in_features=784, num_classes=10, width=256, depth=2, activation="relu",
                            norm=None, dropout=0.0, skip=False)),
        (CNN(channels=[8, 16], activation="Swish", norm="none", dropout=0.25),
         dict(in_channels=1, num_classes=10, channels=(8, 16), dim=2, kernel_size=3, activation="swish",
              norm=None, dropout=0.25, skip=False)),
        (ResNet(in_channels=np.int64(3), dim=1), dict(in_channels=3, num_classes=10, widths=(32, 64, 128),
                                                     blocks_per_stage=1, dim=1, activation="relu",
                                                     norm="batch", dropout=0.0)),
        (GRU(bidirectional=True), dict(input_size=1, num_classes=10, hidden_size=64, num_layers=1,
                                       bidirectional=True, dropout=0.0)),
    ],
    ids=["mlp", "cnn", "resnet", "gru"],
)
def test_config_records_resolved_arguments_and_rebuilds(model, expected) -> None:
    assert model.config == expected
    json.dumps(model.config)  # a training run can store it as is
    assert type(model.config["dropout"]) is float and all(type(v) is not np.int64 for v in model.config.values())
    rebuilt = type(model)(**model.config)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == shapes


BAD_ARGUMENTS = [
    (lambda: MLP(784, 10, activation="rleu"), "MLP", "activation", "'rleu'", "Did you mean 'relu'?"),
    (lambda: CNN(activation="sigmod"), "CNN", "activation", "'sigmod'", "Did you mean 'sigmoid'?"),
    (lambda: CNN(norm="btach"), "CNN", "norm", "'btach'", "Did you mean 'batch'?"),
    (lambda: MLP(784, 10, norm="group"), "MLP", "norm", "'group'", "'layer'"),
    (lambda: MLP(0, 10), "MLP", "in_features", "0", ">= 1"),
    (lambda: MLP(784, 10, width=2.5), "MLP", "width", "2.5", "integer"),
    (lambda: MLP(784, 10, depth=-1), "MLP", "depth", "-1", ">= 0"),
    (lambda: MLP(784, 10, dropout=1.0), "MLP", "dropout", "1.0", "< 1"),
    (lambda: CNN(dropout=-0.1), "CNN", "dropout", "-0.1", ">= 0"),
    (lambda: MLP(784, 10, skip="yes"), "MLP", "skip", "'yes'", "True or False"),
    (lambda: CNN(dim=3), "CNN", "dim", "3", "<= 2"),
    (lambda: CNN(channels=()), "CNN", "channels", "()", "non-empty"),
    (lambda: CNN(channels=(32, 0)), "CNN", "channels", "(32, 0)", "integers >= 1"),
    (lambda: CNN(channels=64), "CNN", "channels", "64", "sequence"),
    (lambda: CNN(kernel_size=4), "CNN", "kernel_size", "4", "odd"),
    (lambda: ResNet(widths=[]), "ResNet", "widths", "[]", "non-empty"),
    (lambda: ResNet(blocks_per_stage=0), "ResNet", "blocks_per_stage", "0", ">= 1"),
    (lambda: GRU(hidden_size=0), "GRU", "hidden_size", "0", ">= 1"),
    (lambda: GRU(bidirectional=1), "GRU", "bidirectional", "1", "True or False"),
    (lambda: make_activation(nn.ReLU), "make_activation", "name", "ReLU", "nn.Module instance"),
    (lambda: count_parameters("model"), "count_parameters", "model", "'model'", "nn.Module"),
    (lambda: width_for_budget(784, 10, 0, 1000), "width_for_budget", "depth", "0", ">= 1"),
    (lambda: width_for_budget(784, 10, 2, -5), "width_for_budget", "budget", "-5", ">= 1"),
]


@pytest.mark.parametrize(("call", "func", "arg", "value", "allowed"), BAD_ARGUMENTS)
def test_bad_argument_names_argument_and_value(call, func, arg, value, allowed) -> None:
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{func}(): `{arg}` must be ")
    assert value in message.split("; got ")[1]
    assert allowed in message


@pytest.mark.parametrize(
    ("model", "x", "hint"),
    [
        (CNN(dim=1), torch.randn(6, 40), "x.unsqueeze(1)"),
        (CNN(), torch.randn(6, 3, 28, 28), "N x 1 x H x W"),
        (ResNet(dim=1), torch.randn(6, 40), "x.unsqueeze(1)"),
        (GRU(), torch.randn(6, 40), "x.unsqueeze(1)"),
        (MLP(784, 10), torch.randn(6, 40), "784 features"),
    ],
    ids=["cnn", "cnn-channels", "resnet", "gru", "mlp"],
)
def test_wrong_input_shape_says_what_to_do(model, x, hint) -> None:
    with pytest.raises(ValueError, match=r"\.forward\(\): `x` must be") as info:
        model(x)
    assert hint in str(info.value) and str(tuple(x.shape))[1:-1] in str(info.value)


@settings(max_examples=40, deadline=None)
@given(
    depth=st.integers(0, 4),
    width=st.integers(1, 64),
    batch=st.integers(1, 8),
    in_features=st.integers(1, 32),
    num_classes=st.integers(1, 12),
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    norm=st.sampled_from([None, "batch", "layer"]),
    skip=st.booleans(),
    train=st.booleans(),
    channel_axis=st.booleans(),
)
def test_mlp_output_is_finite_batch_by_classes(
    depth, width, batch, in_features, num_classes, activation, norm, skip, train, channel_axis
) -> None:
    # BatchNorm cannot estimate statistics from a single sample while training.
    assume(not (train and norm == "batch" and batch == 1))
    model = MLP(in_features, num_classes, width=width, depth=depth, activation=activation, norm=norm,
                dropout=0.2, skip=skip).train(train)
    x = torch.randn((batch, 1, in_features) if channel_axis else (batch, in_features))
    out = model(x)
    assert out.shape == (batch, num_classes)
    assert torch.isfinite(out).all()
