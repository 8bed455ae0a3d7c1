"""Chapter 09's techniques: where a step's time goes (scale/timing.py), the fastest recipe's parts
(models/fast.py, scale/recipe.py)."""

import pytest
import torch
from torch import nn

from nbhelpers import (CNN, EMA, MLP, FastNet, Flip, ablation, fit, plot_time_breakdown, predict_tta, time_breakdown,
                       recorded_time_to_accuracy, time_to, train_fast)
from nbhelpers.scale.recipe import TRICKS
from nbhelpers.scale.timing import PHASES


def data(n=512, features=64):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, features, generator=g), torch.randint(0, 4, (n,), generator=g)


def test_the_phases_add_up_to_the_step_and_leave_the_model_alone(one_thread):
    model = MLP(64, 4, width=32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    table = time_breakdown(model, data(), batch_size=64, steps=4, warmup=1, device="cpu")
    assert table["phase"].tolist() == list(PHASES)
    assert (table["ms"] >= 0).all() and table.loc[table.phase != "other", "ms"].gt(0).all()
    assert table["ms"].sum() == pytest.approx(table.attrs["step_ms"])
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.attrs["device"] == "cpu" and table.attrs["amp"] == "float32" and not table.attrs["channels_last"]
    ops = table.attrs["ops"]
    assert list(ops.columns) == ["op", "self_ms", "calls"] and len(ops) > 0 and ops["self_ms"].is_monotonic_decreasing
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the reader's model is not trained"


def test_a_dataloader_spends_longer_getting_a_batch_than_slicing_tensors(one_thread):
    """Per-image indexing and collation against one index slice: the point of keeping data on the device."""
    x, y = data(2048)
    model = nn.Linear(64, 4)
    device = time_breakdown(model, (x, y), batch_size=256, steps=6, warmup=2, device="cpu", loader="device")
    loader = time_breakdown(model, (x, y), batch_size=256, steps=6, warmup=2, device="cpu", loader="dataloader")
    data_ms = lambda t: float(t.set_index("phase").loc["data", "ms"])  # noqa: E731
    assert data_ms(loader) > 3 * data_ms(device)


def test_bad_data_is_named():
    with pytest.raises(ValueError, match=r"time_breakdown\(\): `data` must be an \(x, y\) pair of tensors"):
        time_breakdown(nn.Linear(2, 2), (torch.zeros(3, 2), torch.zeros(4)))


def test_the_figure_has_one_bar_per_setting():
    t = time_breakdown(nn.Linear(64, 4), data(64), batch_size=32, steps=1, warmup=0, device="cpu")
    fig = plot_time_breakdown({"on the device": t, "again": t}, title="where the time goes")
    ax = fig.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["again", "on the device"]
    assert len(ax.patches) == 2 * len(PHASES)
    assert len(plot_time_breakdown(t).axes[0].patches) == len(PHASES)


# ---------------------------------------------------------------- the fastest recipe's parts


def images(n=128, seed=0):
    """Two classes told apart by which half of the image is bright: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, 12, 12, generator=g) * 0.3
    x[y == 0, :, :6] += 1.0
    x[y == 1, :, 6:] += 1.0
    return x, y


def test_whitening_decorrelates_the_patches():
    x = torch.randn(256, 1, 16, 16).cumsum(-1).cumsum(-2) / 8  # strongly correlated neighbours
    net = FastNet(widths=(4,)).whiten(x, eps=1e-7)  # eps (default 5e-4) damps the faintest directions
    out = net.stem.whiten(x)  # the first 4 channels are the whitened patches, the next 4 their negatives
    flat = out[:, :4].permute(0, 2, 3, 1).reshape(-1, 4)
    cov = torch.cov(flat.T)
    torch.testing.assert_close(cov, torch.eye(4), atol=0.02, rtol=0)
    torch.testing.assert_close(out[:, 4:], -out[:, :4] + 2 * net.stem.whiten.bias[4:].view(1, -1, 1, 1), atol=1e-5,
                               rtol=0)
    assert not net.stem.whiten.weight.requires_grad and net.stem.whiten.bias.requires_grad
    assert net(x).shape == (256, 10)


def test_whiten_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match=r"FastNet.whiten\(\): `x` must be images N x 1 x H x W"):
        FastNet(widths=(4,)).whiten(torch.zeros(3, 2, 8, 8))
    with pytest.raises(ValueError, match="whitening=True"):
        FastNet(widths=(4,), whitening=False).whiten(torch.zeros(3, 1, 8, 8))


def test_ema_averages_and_puts_the_average_into_the_model(one_thread):
    torch.manual_seed(0)
    x, y = torch.randn(256, 4), torch.arange(256) % 2
    ema = EMA(decay=0.9, every=1)
    result = fit(MLP(4, 2, width=8), (x, y), epochs=3, lr=0.5, optimizer="sgd", progress=False, callbacks=[ema],
                 seed=0)
    assert ema.updates == result.config["steps_per_epoch"] * 3
    assert all(torch.equal(a, b) for a, b in zip(result.model.state_dict().values(), ema.model.state_dict().values()))
    torch.manual_seed(0)
    plain = fit(MLP(4, 2, width=8), (x, y), epochs=3, lr=0.5, optimizer="sgd", progress=False, seed=0)
    assert not torch.equal(next(iter(plain.model.parameters())), next(iter(result.model.parameters()))), \
        "the average is not the last weights"


def test_ema_with_apply_false_leaves_the_last_weights():
    x, y = torch.randn(64, 4), torch.arange(64) % 2
    ema = EMA(decay=0.5, every=1, apply=False)
    result = fit(MLP(4, 2, width=8), (x, y), epochs=2, lr=0.5, optimizer="sgd", progress=False, callbacks=[ema])
    assert not all(torch.equal(a, b) for a, b in zip(result.model.parameters(), ema.model.parameters()))


def test_flip_tta_averages_an_image_and_its_mirror():
    torch.manual_seed(0)
    model, x = CNN(channels=(4,)), torch.randn(6, 1, 10, 10)
    both = predict_tta(model, x)
    model.eval()
    with torch.no_grad():
        expected = (model(x) + model(x.flip(-1))) / 2
    torch.testing.assert_close(both, expected)
    torch.testing.assert_close(predict_tta(model, x, flips=False), model(x).detach())
    assert model.training is False  # the mode it had


def test_shift_tta_adds_copies_moved_both_ways_at_a_quarter_each():
    torch.manual_seed(0)
    model, x = CNN(channels=(4,)).eval(), torch.randn(6, 1, 10, 10)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), value=float(x.min()))  # black, as the training crop fills
    down_right, up_left = padded[..., :10, :10], padded[..., 4:, 4:]
    assert torch.equal(down_right[..., 2:, 2:], x[..., :8, :8]) and torch.equal(up_left[..., :8, :8], x[..., 2:, 2:])
    with torch.no_grad():
        expected = model(x) / 2 + (model(down_right) + model(up_left)) / 4
    torch.testing.assert_close(predict_tta(model, x, flips=False, shift=2), expected)
    assert not torch.allclose(predict_tta(model, x, shift=2), predict_tta(model, x)), "the shifted copies count"
    assert not torch.allclose(predict_tta(model, x, shift=2, fill=5.0), predict_tta(model, x, shift=2)), "fill is used"


def test_the_goal_sentence_says_borderline_when_the_mean_is_within_two_standard_errors():
    from examples_scale import time_record

    def goal(mean: float, std: float, seconds: float = 500.0) -> str:
        record = time_record()
        record["runs"] = record["runs"] * 4  # 4 seeds: the standard error is half the deviation
        record["summary"].update(accuracy_mean=mean, accuracy_std=std, train_seconds_median=seconds)
        return str(recorded_time_to_accuracy(record, goal_accuracy=0.94, goal_seconds=600)).split("; ")[-1]

    assert goal(0.945, 0.002) == "the goal, 94.0% in at most 600 s of training, was met."  # 5 errors above
    assert goal(0.941, 0.002) == ("the goal, 94.0% in at most 600 s of training, was met (borderline: the mean is "
                                  "within two standard errors, 0.20 points, of 94.0%).")
    assert goal(0.939, 0.002).endswith("was not met (borderline: the mean is within two standard errors, "
                                       "0.20 points, of 94.0%).")
    assert goal(0.930, 0.002).endswith("was not met.")
    assert goal(0.945, 0.002, seconds=700).endswith("was not met."), "too slow, however accurate"
    assert goal(0.941, 0.002, seconds=700).endswith("was not met."), "too slow: not a near miss of the accuracy"


def test_train_fast_learns_and_records_a_curve(one_thread):
    x, y = images(256)
    run = train_fast((x, y), images(128, seed=1), epochs=3, widths=(8, 16), batch_size=32, lr=0.05, device="cpu",
                     augment=Flip())
    assert run["accuracy"] > 0.9
    assert [row["epoch"] for row in run["curve"]] == [1, 2, 3]
    seconds = [row["train_seconds"] for row in run["curve"]]
    assert seconds == sorted(seconds) and 0 < run["train_seconds"] < run["seconds"]
    assert time_to(run["curve"], 0.0) == seconds[0] and (time_to(run["curve"], 1.0) is None or run["accuracy"] == 1.0)
    assert run["config"]["whitening"] and run["config"]["train_images"] == 256
    assert type(run["model"]) is FastNet
    last = train_fast((x, y), images(128, seed=1), epochs=3, widths=(8, 16), batch_size=32, lr=0.05, device="cpu",
                      augment=Flip(), curve=False)
    assert [row["epoch"] for row in last["curve"]] == [3], "curve=False scores the last epoch only"
    assert last["accuracy"] == run["accuracy"] and last["train_seconds"] > 0, "the same run, scored once"


def test_the_ablation_removes_one_trick_at_a_time(one_thread):
    table = ablation(images(128), images(64, seed=1), seeds=[0, 1],
                     remove=["test-time augmentation", "label smoothing"], epochs=1, widths=(4,), batch_size=32,
                     device="cpu")
    assert list(table["removed"]) == ["none", "test-time augmentation", "label smoothing"] * 2
    assert list(table["seed"]) == [0, 0, 0, 1, 1, 1]
    assert table["accuracy"].between(0, 1).all() and (table["train_seconds"] > 0).all()
    assert all(c.shape == (64,) and c.mean() == a for c, a in zip(table["correct"], table["accuracy"]))
    assert set(TRICKS) >= {"flips and translations", "whitening layer", "weight averaging (EMA)"}
