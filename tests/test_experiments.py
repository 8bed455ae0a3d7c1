"""Experiment helpers: epochs for a step budget, per-class accuracy, scores for sweep, paired
gains with t-intervals, the sentence that reads them, and the figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from torch import nn

from nbhelpers import MLP, fit, pipeline, sweep
from nbhelpers import (better_for, ci_text, effect, epochs_for, gain_table, gallery, paired_gain, per_class_accuracy,
                                   per_class_long, plot_ci, scores, soft_label_grid, summarize, text_format, verdict,
                       versus)  # fmt: skip


class Fixed(nn.Module):
    """A 'model' that predicts the label stored in the first pixel: accuracy is whatever we set."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        labels = x.flatten(1)[:, 0].long()
        return nn.functional.one_hot(labels, 3).float() + 0 * self.dummy


def split_with_predictions(y, predicted):
    x = torch.zeros(len(y), 1, 2, 2)
    x[:, 0, 0, 0] = torch.tensor(predicted, dtype=torch.float)
    return x, torch.tensor(y)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 100_000), steps=st.integers(1, 5000), batch=st.integers(1, 512), low=st.integers(1, 5))
def test_epochs_for_gives_about_the_steps_asked(n, steps, batch, low):
    epochs = epochs_for(n, steps, batch_size=batch, min_epochs=low)
    per_epoch = -(-n // batch)
    assert epochs >= low
    if epochs > low:  # not clamped: the step count is as close as whole epochs allow
        assert abs(epochs * per_epoch - steps) <= per_epoch / 2 + 1e-9


def test_epochs_for_checks_its_arguments():
    with pytest.raises(ValueError, match=r"epochs_for\(\): `steps` must be an integer >= 1; got 0"):
        epochs_for(500, 0)
    with pytest.raises(ValueError, match="`n_train`"):
        epochs_for(2.5, 10)
    assert epochs_for(np.int64(500), np.int64(400)) == 100  # numpy integers pass


def test_per_class_accuracy_counts_each_class():
    split = split_with_predictions([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 2])
    acc = per_class_accuracy(Fixed(), split, ["a", "b", "c"])
    assert acc == pytest.approx({"a": 0.5, "b": 2 / 3, "c": 1.0})
    assert per_class_accuracy(Fixed(), split) == pytest.approx({"0": 0.5, "1": 2 / 3, "2": 1.0})
    # a class missing from the split is left out rather than reported as 0/0
    assert set(per_class_accuracy(Fixed(), split_with_predictions([0, 2], [0, 2]), ["a", "b", "c"])) == {"a", "c"}


def test_per_class_accuracy_agrees_with_sklearn_recall():
    from sklearn.metrics import recall_score

    g = torch.Generator().manual_seed(0)
    y, p = torch.randint(0, 3, (200,), generator=g), torch.randint(0, 3, (200,), generator=g)
    acc = per_class_accuracy(Fixed(), split_with_predictions(y.tolist(), p.tolist()))
    assert list(acc.values()) == pytest.approx(recall_score(y, p, average=None).tolist())


def test_per_class_accuracy_errors_name_the_argument():
    split = split_with_predictions([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="`classes` must be a name for every label 0..2"):
        per_class_accuracy(Fixed(), split, ["a", "b"])
    with pytest.raises(ValueError, match="`split` must be an \\(x, y\\) pair"):
        per_class_accuracy(Fixed(), torch.zeros(3, 1, 2, 2))
    with pytest.raises(ValueError, match="`model` must be a torch.nn.Module"):
        per_class_accuracy("model", split)


def test_scores_is_what_sweep_stores():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(96, 1, 2, 2, generator=g), torch.arange(96) % 3
    x[:, 0, 0, 0] += 3 * y  # learnable
    data = ((x[:66], y[:66]), (x[66:], y[66:]))  # 10 of each class to validate

    def train(width=8, seed=0):
        result = fit(MLP(4, 3, width=width), data[0], epochs=2, lr=3e-2, progress=False, seed=seed)
        return scores(result, {"valid": data[1]}, ["a", "b", "c"])

    out = train()
    assert list(out)[:4] == ["valid_accuracy", "valid_accuracy[a]", "valid_accuracy[b]", "valid_accuracy[c]"]
    assert {"train_loss", "train_accuracy", "history"} <= set(out)
    assert out["valid_accuracy"] == pytest.approx(np.mean([out[f"valid_accuracy[{c}]"] for c in "abc"]))  # balanced
    table = sweep(train, {"width": [4, 8]}, seeds=(0, 1), progress=False, cache=False)
    assert len(table) == 4 and "valid_accuracy[b]" in table.columns and table["status"].eq("completed").all()


def test_scores_checks_its_arguments():
    with pytest.raises(ValueError, match="`result` must be a TrainResult"):
        scores({"valid_accuracy": 0.5}, {"valid": (torch.zeros(2, 1), torch.zeros(2, dtype=torch.long))})
    result = fit(MLP(4, 2, width=4), (torch.randn(8, 4), torch.arange(8) % 2), epochs=1, lr=1e-2, progress=False)
    with pytest.raises(ValueError, match="`splits` must be a non-empty dict"):
        scores(result, {})
    with pytest.raises(ValueError, match=r"`splits` must be a dict of name -> \(x, y\); splits\['valid'\] is not an \(x, y\) pair"):
        scores(result, {"valid": torch.zeros(3)})


def runs_table(diffs_by_size, base=0.7):
    rows = []
    for n, diffs in diffs_by_size.items():
        for seed, d in enumerate(diffs):
            b = base + 0.01 * seed  # the seed moves both runs: pairing removes it
            rows += [{"n_train": n, "recipe": "none", "seed": seed, "acc": b},
                     {"n_train": n, "recipe": "flip", "seed": seed, "acc": b + d}]
    return pd.DataFrame(rows)


def test_paired_gain_is_the_t_interval_of_the_per_seed_differences():
    diffs = [0.02, 0.035, 0.01, 0.03]
    gain = paired_gain(runs_table({500: diffs, 2000: [0.0, 0.001, -0.002, 0.001]}), column="recipe",
                       baseline="none", metric="acc", by="n_train")
    assert gain["n"].tolist() == [4, 4] and gain["n_train"].tolist() == [500, 2000]
    assert gain["recipe"].tolist() == ["flip", "flip"]
    low, high = stats.t.interval(0.95, 3, loc=np.mean(diffs), scale=stats.sem(diffs))
    first = gain.iloc[0]
    assert first["mean"] == pytest.approx(np.mean(diffs))
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((low, high))
    assert gain.iloc[1]["ci_low"] < 0 < gain.iloc[1]["ci_high"]


def test_paired_gain_pairs_only_seeds_present_in_both():
    runs = runs_table({500: [0.02, 0.03, 0.04]})
    runs = runs.drop(runs[(runs["recipe"] == "none") & (runs["seed"] == 2)].index)
    gain = paired_gain(runs, column="recipe", baseline="none", metric="acc", by=["n_train"])
    assert gain.loc[0, "n"] == 2 and gain.loc[0, "mean"] == pytest.approx(0.025)


def test_paired_gain_errors_name_the_argument():
    runs = runs_table({500: [0.01, 0.02]})
    with pytest.raises(ValueError, match=r"`baseline` must be a value of runs\['recipe'\]: none, flip; got 'nothing'"):
        paired_gain(runs, column="recipe", baseline="nothing", metric="acc")
    with pytest.raises(ValueError, match="`metric` must be column names of `runs`"):
        paired_gain(runs, column="recipe", baseline="none", metric="accuracy")
    with pytest.raises(ValueError, match="`runs` must be a pandas DataFrame"):
        paired_gain([], column="recipe", baseline="none", metric="acc")
    with pytest.raises(ValueError, match="`by` must be names other than"):
        paired_gain(runs.rename(columns={"n_train": "n"}), column="recipe", baseline="none", metric="acc", by="n")


def test_ci_text_reads_the_numbers():
    assert ci_text(0.0234, 0.011, 0.0351) == "+2.3 points (95% CI +1.1 to +3.5)"
    assert ci_text(-0.03, -0.05, -0.01) == "-3.0 points (95% CI -5.0 to -1.0)"
    assert ci_text(0.8123, 0.8, 0.82, unit="%", digits=2, confidence=0.9) == "+81.23% (90% CI +80.00 to +82.00)"
    assert ci_text(0.01, math.nan, math.nan) == "+1.0 points (one seed: no interval)"
    with pytest.raises(ValueError, match="`mean` must be a real number"):
        ci_text("big", 0, 1)


def test_plot_ci_draws_error_bars_for_lines_points_and_horizontal_bars():
    table = pd.DataFrame({"n": [500, 2000, 500, 2000], "recipe": ["none", "none", "flip", "flip"],
                          "mean": [0.7, 0.8, 0.72, 0.8], "ci_low": [0.68, 0.79, 0.7, 0.79],
                          "ci_high": [0.72, 0.81, 0.74, 0.81]})
    fig = plot_ci(table, "n", hue="recipe", logx=True, scale=100, ylabel="accuracy (%)")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.containers) == 2 and ax.get_legend() is not None
    fig = plot_ci(table[table["n"] == 500], "recipe", horizontal=True, zero_line=True)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["none", "flip"]  # sorted by the mean
    nan_ci = table.assign(ci_low=np.nan, ci_high=np.nan)
    assert plot_ci(nan_ci, "n").axes  # one seed: points without bars, no error
    with pytest.raises(ValueError, match="`hue` must be a column of `table`"):
        plot_ci(table, "n", hue="aug")
    with pytest.raises(ValueError, match="`table` must be a non-empty DataFrame"):
        plot_ci(table.iloc[:0], "n")


def test_plot_ci_colours_a_gain_like_its_settings_and_keeps_a_long_title_inside():
    runs = pd.DataFrame([{"method": m, "seed": s, "acc": 0.6 + 0.05 * i + 0.01 * s}
                         for i, m in enumerate(["scratch", "probe", "top", "all"]) for s in range(3)])
    settings = plot_ci(summarize(runs, by="method", metric="acc"), "method", hue="method")
    long = "gain over training from scratch, corrected for 3 comparisons at each label count"
    gains = plot_ci(paired_gain(runs, column="method", baseline="scratch", metric="acc", comparisons="all"),
                    "method", hue="method", title=long)
    colour = [{c.get_label(): c.lines[0].get_color() for c in fig.axes[0].containers} for fig in (settings, gains)]
    assert set(colour[1]) == {"probe", "top", "all"} and len(set(colour[0].values())) == 4
    assert all(colour[1][m] == colour[0][m] for m in colour[1]), colour  # the baseline's colour is left out
    gains.canvas.draw()
    box, frame = gains.axes[0].title.get_window_extent(), gains.bbox
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (box, frame)  # wrapped, not cut off by the legend's side


def test_gallery_shows_the_same_images_in_every_row():
    x = torch.rand(5, 1, 8, 8)
    fig = gallery(x, {"none": lambda b: b, "flip": pipeline(hflip=1.0)}, n=3, mean_std=None)
    axes = np.array(fig.axes).reshape(3, 3)
    first = axes[0, 0].get_images()[0].get_array()
    assert np.allclose(first, x[0, 0].numpy()) and np.allclose(axes[1, 0].get_images()[0].get_array(), first)
    assert np.allclose(axes[2, 0].get_images()[0].get_array(), x[0, 0].flip(-1).numpy())
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["original", "none", "flip"]
    with pytest.raises(ValueError, match=r"`augments` must be a dict of row label -> augmentation.*`augments\['bad'\]` is 3, which is not callable"):
        gallery(x, {"bad": 3})
    with pytest.raises(ValueError, match="`x` must be a float tensor"):
        gallery(torch.zeros(2, 8, 8), {})


def test_soft_label_grid_titles_the_two_largest_shares():
    x = torch.rand(3, 1, 8, 8)
    y = torch.tensor([[0.25, 0.75, 0.0], [0.0, 0.0, 1.0], [0.5, 0.2, 0.3]])
    fig = soft_label_grid(x, y, ["a", "b", "c"], mean_std=None)
    assert [ax.get_title() for ax in fig.axes] == ["75% b\n25% a", "100% c", "50% a\n30% c"]
    hard = soft_label_grid(x, torch.tensor([2, 0, 1]), ["a", "b", "c"], mean_std=None)
    assert [ax.get_title() for ax in hard.axes] == ["100% c", "100% a", "100% b"]
    with pytest.raises(ValueError, match="`y` must be N x 3 soft labels"):
        soft_label_grid(x, torch.ones(3, 4) / 4, ["a", "b", "c"])


def test_per_class_long_turns_class_columns_into_rows():
    runs = pd.DataFrame({"recipe": ["none", "flip"], "seed": [0, 0], "valid_accuracy": [0.8, 0.7],
                         "valid_accuracy[Bag]": [0.9, 0.6], "valid_accuracy[Sandal]": [0.7, 0.8],
                         "other_accuracy[Bag]": [0.5, 0.5]})
    long = per_class_long(runs)
    assert list(long.columns) == ["recipe", "seed", "valid_accuracy", "class", "accuracy"]
    assert long.sort_values(["class", "recipe"])["accuracy"].tolist() == [0.6, 0.9, 0.8, 0.7]
    assert per_class_long(runs, "other")["class"].tolist() == ["Bag", "Bag"]
    gains = paired_gain(long, column="recipe", baseline="none", metric="accuracy", by="class")
    assert dict(zip(gains["class"], gains["mean"].round(3))) == {"Bag": -0.3, "Sandal": 0.1}
    with pytest.raises(ValueError, match="`split` must be a split with per-class columns in `runs`: other, valid"):
        per_class_long(runs, "test")


def test_gain_table_sorts_best_first_and_writes_sentences():
    runs = runs_table({500: [0.02, 0.03, 0.025]}).assign(other=lambda t: 1 - t["acc"])
    runs = pd.concat([runs, runs[runs["recipe"] == "flip"].assign(recipe="vflip", acc=lambda t: t["acc"] - 0.05)])
    table = gain_table(runs, column="recipe", baseline="none", metrics={"gain": "acc", "mirror": "other"}, by="n_train")
    assert list(table.index) == [(500, "flip"), (500, "vflip")] and list(table.columns) == ["gain", "mirror"]
    assert table.loc[(500, "flip"), "gain"].startswith("+2.5 points (95% CI +1.3 to +3.7)")
    assert table.loc[(500, "flip"), "mirror"].startswith("-0.025 (95% CI")  # not a share by its name: no points
    with pytest.raises(ValueError, match="`metrics` must be a non-empty dict"):
        gain_table(runs, column="recipe", baseline="none", metrics={})


def test_verdict_and_effect_decline_to_judge_too_few_seeds():
    assert verdict(0.01, 0.03) == "helps" and verdict(-0.03, -0.01) == "hurts"
    assert verdict(-0.01, 0.01) == "no clear effect"
    assert verdict(0.02, 0.02, n=2) == "too few seeds to tell (2)"  # two seeds that agree: width 0, not evidence
    assert verdict(0.02, math.nan) == "too few seeds to tell (1)"
    assert verdict(0.01, 0.03, n=2, min_seeds=2) == "helps (borderline)"  # one degree of freedom: 99% is 5x wider
    assert verdict(0.025, 0.03, n=2, min_seeds=2) == "helps"
    gains = paired_gain(runs_table({500: [0.02, 0.03, 0.025], 2000: [0.0, 0.01, -0.01]}), column="recipe",
                        baseline="none", metric="acc", by="n_train")
    assert effect(gains, recipe="flip", n_train=500) == {"effect": "+2.5 points (95% CI +1.3 to +3.7)",
                                                         "verdict": "helps (borderline)", "seeds": 3}
    assert effect(gains, n_train=2000)["verdict"] == "no clear effect"
    with pytest.raises(ValueError, match=r"`where` must be conditions that pick exactly one row .+ \(they pick 2\)"):
        effect(gains, recipe="flip")
    with pytest.raises(ValueError, match="`size` must be a column of `table`"):
        effect(gains, size=500)
    with pytest.raises(ValueError, match="`n` must be an integer >= 0"):
        verdict(0.0, 0.1, n=1.5)


def test_versus_words_two_settings_with_the_one_rule():
    runs = pd.DataFrame({"setting": ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2] * 2,
                         "accuracy": [0.80, 0.91, 0.70, 0.75, 0.85, 0.66]})
    assert versus(runs, "setting", "a", "b", "accuracy") == (
        "a minus b, accuracy: +5.0 points (95% CI +2.5 to +7.5, 3 seeds: helps (borderline))")
    loss = runs.rename(columns={"accuracy": "loss"})
    assert versus(loss, "setting", "a", "b", "loss").endswith("+0.050 (95% CI +0.025 to +0.075, 3 seeds: hurts (borderline))")
    assert versus(loss, "setting", "b", "a", "loss").endswith("3 seeds: helps (borderline))"), "a lower loss helps"
    assert versus(runs[runs["seed"] < 2], "setting", "a", "b", "accuracy").endswith("2 seeds: too few seeds to tell (2))")
    with pytest.raises(ValueError, match=r"^versus\(\): `a` must be a value of runs\['setting'\] other than b: a, b; got 'c'"):
        versus(runs, "setting", "c", "b", "accuracy")
    with pytest.raises(ValueError, match=r"^versus\(\): `metric` must be a column of `runs`: setting, seed, accuracy; got 'f1'"):
        versus(runs, "setting", "a", "b", "f1")


def test_the_unit_and_direction_come_from_the_metric_name():
    assert [better_for(m) for m in ("valid_accuracy", "train_loss", "rmse", "gap", "rare_f1")] == [
        "higher", "lower", "lower", "higher", "higher"]
    assert text_format("valid_accuracy[Bag]")["unit"] == " points" and text_format("valid_loss")["unit"] == ""
    gains = paired_gain(pd.DataFrame({"opt": ["x", "y"] * 3, "seed": [0, 0, 1, 1, 2, 2],
                                      "valid_loss": [0.5, 0.4, 0.6, 0.45, 0.5, 0.42]}),
                        column="opt", baseline="x", metric="valid_loss")
    assert effect(gains, opt="y") == {"effect": "-0.110 (95% CI -0.200 to -0.020)", "verdict": "helps (borderline)",
                                      "seeds": 3}
    assert verdict(-0.2, -0.1, 3, better="lower") == "helps" and verdict(0.1, 0.2, 3, better="lower") == "hurts"
    with pytest.raises(ValueError, match=r"^verdict\(\): `better` must be one of 'higher', 'lower'; got 'up'"):
        verdict(0.1, 0.2, 3, better="up")
    with pytest.raises(ValueError, match=r"^ci_text\(\): `confidence` must be a real number > 0 and < 1; got 2"):
        ci_text(0.1, 0.0, 0.2, confidence=2)
