"""nbhelpers.regularize: the gap, the sparsity L1 creates, Adam + L2 against AdamW, the gap panel."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import torch
from torch import nn

from nbhelpers import MLP, EarlyStopping, fit, sweep
from nbhelpers import (Figure, decay_toy, gap_effect, gap_panel, gap_scores, gap_table, plot_gap, weight_histogram,
                                  weight_stats)


def history(train_acc, valid_acc, train_loss=None, valid_loss=None) -> pd.DataFrame:
    rows = []
    for epoch, (ta, va) in enumerate(zip(train_acc, valid_acc), start=1):
        tl = train_loss[epoch - 1] if train_loss else 1.0
        vl = valid_loss[epoch - 1] if valid_loss else 1.0
        rows += [{"epoch": epoch, "split": "train", "loss": tl, "accuracy": ta},
                 {"epoch": epoch, "split": "valid", "loss": vl, "accuracy": va}]
    return pd.DataFrame(rows)


def toy_problem(n=256, features=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()  # two useful columns, thirty useless ones
    return (x[:192], y[:192]), (x[192:], y[192:])


def test_weight_stats_counts_near_zero_weights_per_layer_and_overall():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.fill_(0.5)
        model[0].weight[0] = 1e-5  # 4 of 12 near zero
        model[2].weight.zero_()    # 6 of 6
    table = weight_stats(model)
    assert table["layer"].tolist() == ["0.weight", "2.weight", "all"]  # biases are left out
    assert table["weights"].tolist() == [12, 6, 18]
    assert table["near_zero"].tolist() == pytest.approx([4 / 12, 1.0, 10 / 18])
    assert weight_stats(model, threshold=1.0)["near_zero"].iloc[-1] == 1.0


@pytest.mark.parametrize("call, name", [
    (lambda: weight_stats(nn.Linear(2, 2), threshold=0), "threshold"),
    (lambda: weight_stats("model"), "model"),
    (lambda: weight_stats(nn.ReLU()), "model"),
    (lambda: weight_histogram({}), "models"),
    (lambda: weight_histogram({"a": nn.Linear(2, 2)}, bins=1), "bins"),
    (lambda: gap_table(history([0.9], [0.8]), metric="acc"), "metric"),
    (lambda: gap_table({"x": pd.DataFrame({"epoch": [1], "split": ["train"], "accuracy": [1.0]})}), "histories['x']"),
    (lambda: decay_toy("sgd", 0.1), "optimizer"),
    (lambda: decay_toy("adam", -1.0), "weight_decay"),
    (lambda: decay_toy("adam", 0.1, grad_scales=(1.0, 0.0)), "grad_scales"),
    (lambda: gap_scores("not a result", None, None), "result"),
    (lambda: gap_scores(fit(MLP(2, 2, width=4), (torch.randn(8, 2), torch.arange(8) % 2), epochs=1, lr=1e-2,
                            progress=False), None, None), "train"),  # checked in the order of the signature
    (lambda: gap_scores(fit(MLP(2, 2, width=4), (torch.randn(8, 2), torch.arange(8) % 2), epochs=1, lr=1e-2,
                            progress=False), (torch.randn(8, 2), torch.arange(8) % 2), None), "valid"),
])
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=re.escape(f"`{name}`")):
        call()


def test_decay_toy_did_you_mean():
    with pytest.raises(ValueError, match="Did you mean 'adamw'"):
        decay_toy("adamW_", 0.1)


def test_gap_table_signs_for_accuracy_and_loss():
    h = history([0.6, 0.9, 1.0], [0.55, 0.7, 0.72], train_loss=[1.0, 0.3, 0.05], valid_loss=[1.1, 0.8, 1.2])
    acc = gap_table(h)
    assert acc["gap"].round(3).tolist() == [0.05, 0.2, 0.28]  # train minus valid: positive when it overfits
    loss = gap_table({"a": h, "b": h}, metric="loss")
    assert loss["label"].tolist() == ["a"] * 3 + ["b"] * 3
    assert loss["gap"].round(3).tolist()[:3] == [0.1, 0.5, 1.15]  # valid minus train loss: positive too


def test_plot_gap_draws_one_line_per_run():
    fig = plot_gap({"none": history([0.9, 1.0], [0.8, 0.8]), "dropout": history([0.8, 0.85], [0.8, 0.81])})
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    labels = [line.get_label() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert labels == ["none", "dropout"]
    assert fig.axes[0].get_lines()[0].get_ydata().tolist() == pytest.approx([10.0, 20.0])  # in points


def test_weight_histogram_labels_agree_with_weight_stats():
    sparse = nn.Linear(10, 10)
    with torch.no_grad():  # exactly 70 of the 100 weights at zero (random ones may fall below 0.001 too)
        sparse.weight.fill_(0.5)
        sparse.weight[:7] = 0.0
    fig = weight_histogram({"dense": nn.Linear(10, 10), "sparse": sparse})
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    share = weight_stats(sparse)["near_zero"].iloc[-1]
    assert texts[1] == f"sparse: {share:.0%} below 0.001" == "sparse: 70% below 0.001"


def test_l1_training_creates_more_near_zero_weights_than_none(one_thread):
    train, valid = toy_problem()
    share = {}
    for l1 in (0.0, 3e-3):
        torch.manual_seed(0)
        result = fit(MLP(32, 2, width=32, depth=1), (train, valid), epochs=40, lr=1e-2, l1=l1, progress=False, seed=0)
        share[l1] = weight_stats(result.model)["near_zero"].iloc[-1]
    assert share[3e-3] > share[0.0] + 0.3, share


def test_adam_l2_decays_by_gradient_size_adamw_does_not():
    adam = decay_toy("adam", 0.5, grad_scales=(1e-3, 1.0)).set_index("grad_scale")["mean"]
    adamw = decay_toy("adamw", 0.5, grad_scales=(1e-3, 1.0)).set_index("grad_scale")["mean"]
    assert adam[1e-3] < 0.01 < 0.1 < adam[1.0]       # small gradients: pulled to zero; large: barely decayed
    assert abs(adamw[1e-3] - adamw[1.0]) < 0.05        # the same shrinkage whatever the gradient size
    expected = (1 - 1e-2 * 0.5) ** 300                 # lr * weight_decay of itself per step
    assert adamw.mean() == pytest.approx(expected, abs=0.05)


def test_gap_scores_measures_the_model_fit_returned(one_thread):
    train, valid = toy_problem()
    torch.manual_seed(0)
    stop = EarlyStopping(patience=2)
    result = fit(MLP(32, 2, width=64), (train, valid), epochs=60, lr=3e-2, early_stopping=stop, progress=False, seed=0)
    scores = gap_scores(result, train, valid, test=valid)
    assert result.stop_reason.startswith("early stopping")
    assert scores["gap"] == pytest.approx(scores["train_accuracy"] - scores["valid_accuracy"])
    assert scores["test_accuracy"] == scores["valid_accuracy"]
    assert scores["best_epoch"] == result.best_epoch == scores["epochs"] - 2
    in_history = result.history.query("split == 'valid' and epoch == @result.best_epoch")["loss"].item()
    assert scores["valid_loss"] == pytest.approx(in_history, abs=1e-5)  # the best weights were restored
    assert scores["model"] is result.model and scores["train_loss"] < scores["valid_loss"]


def test_gap_effect_words():
    table = pd.DataFrame({"p": [0.1, 0.5, 0.7], "mean": [0.02, -0.05, 0.0], "ci_low": [0.01, -0.07, -0.01],
                          "ci_high": [0.03, -0.03, 0.01], "n": [3, 3, 2]})
    assert gap_effect(table, p=0.1)["verdict"] == "widens (borderline)"  # 99% would reach 0 with 3 seeds
    assert gap_effect(table, p=0.5)["verdict"] == "shrinks"
    assert gap_effect(table, p=0.7)["verdict"] == "too few seeds to tell (2)"


def test_gap_panel_draws_the_cached_gap_next_to_the_baseline(tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("NBH_CACHE", str(tmp_path))
    train_split, valid_split = toy_problem()

    def train(dropout=0.0, seed=0):
        torch.manual_seed(seed)
        result = fit(MLP(32, 2, width=64, dropout=dropout), (train_split, valid_split), epochs=8, lr=1e-2,
                     progress=False, seed=seed)
        return gap_scores(result, train_split, valid_split)

    runs = sweep(train, {"dropout": [0.0, 0.5]}, progress=False, cache_tag="toy").set_index("dropout")["gap"]
    panel = gap_panel(train, {"dropout": [0.0, 0.5]}, cache_tag="toy")
    assert panel.baseline == {"dropout": 0.0}
    assert panel.image.value[:4] == b"\x89PNG"  # drawn from the cache, nothing trained
    panel.panel.run(dropout=0.5)
    text = repr(panel)
    assert "2 runs so far (2 from the cache)" in text
    assert f"this setting, epoch 8: {runs[0.5] * 100:.1f} points in eval mode" in text, text
    assert f"no regularization, epoch 8: {runs[0.0] * 100:.1f} points in eval mode" in text, text
    with pytest.raises(ValueError, match="`baseline`"):
        gap_panel(train, {"dropout": [0.0, 0.5]}, baseline={"l1": 0.0})


def test_the_gap_panel_title_gives_the_numbers_its_lines_and_markers_show(tmp_path, monkeypatch, one_thread):
    """With dropout, fit's training accuracy (batches, dropout on) is lower than the eval-mode
    one of gap_scores: the title once gave the eval-mode gap above a line that ended elsewhere.
    Each number in the title must be the one drawn, and say which gap it is."""
    monkeypatch.setenv("NBH_CACHE", str(tmp_path))
    train_split, valid_split = toy_problem()

    def train(dropout=0.0, seed=0):
        torch.manual_seed(seed)
        result = fit(MLP(32, 2, width=64, dropout=dropout), (train_split, valid_split), epochs=6, lr=1e-2,
                     progress=False, seed=seed)
        return gap_scores(result, train_split, valid_split)

    panel = gap_panel(train, {"dropout": [0.0, 0.8]})
    panel.panel.run(dropout=0.0)
    panel.panel.run(dropout=0.8)
    scores = panel.panel.record()["metrics"]
    ax = panel.figure().axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    trained, diamond = lines["this setting, as trained"], lines["this setting, eval mode"]
    title = ax.get_title().splitlines()[0]
    assert title == (f"this setting, epoch 6: {scores['gap'] * 100:.1f} points in eval mode, "
                     f"{trained.get_ydata()[-1]:.1f} as trained")
    assert (diamond.get_xdata()[0], diamond.get_ydata()[0]) == (6, pytest.approx(scores["gap"] * 100))
    assert abs(scores["gap"] * 100 - trained.get_ydata()[-1]) > 0.5  # two gaps that differ, each named
    assert "no regularization, as trained" in lines and "no regularization, epoch 6" in ax.get_title()
    assert "diamonds: eval mode" in panel.figure()._supxlabel.get_text()  # what each gap measures, on the figure


def test_plot_gap_puts_the_eval_mode_gap_at_the_epoch_of_the_weights_returned():
    fig = plot_gap({"early stop": history([0.8, 0.9, 0.95], [0.7, 0.75, 0.72])}, eval_gaps={"early stop": (2, 0.12)})
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert lines["early stop, as trained"].get_ydata().tolist() == pytest.approx([10.0, 15.0, 23.0])
    assert lines["early stop, eval mode"].get_xydata().tolist() == [[2.0, pytest.approx(12.0)]]
    with pytest.raises(ValueError, match="`eval_gaps` must be a dict whose labels are those of `histories`"):
        plot_gap({"a": history([0.8], [0.7])}, eval_gaps={"b": (1, 0.1)})
