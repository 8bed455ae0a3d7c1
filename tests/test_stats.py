"""Means and t-intervals over seeds."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nbhelpers import mean_ci, summarize


def test_mean_ci_matches_scipy():
    values = [0.81, 0.79, 0.84, 0.80, 0.83]
    mean, low, high = mean_ci(values, 0.9)
    expected = stats.t.interval(0.9, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values)) and (low, high) == pytest.approx(expected)


def test_one_run_has_no_interval_and_empty_is_an_error():
    mean, low, high = mean_ci([0.5])
    assert mean == 0.5 and math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError, match="`values` must be a non-empty sequence"):
        mean_ci([])


def test_summarize_groups_and_names_missing_columns():
    runs = pd.DataFrame({"size": [500, 500, 2000, 2000], "aug": [True] * 4, "acc": [0.6, 0.64, 0.8, 0.8]})
    table = summarize(runs, by=["size", "aug"], metric="acc")
    assert table["mean"].tolist() == pytest.approx([0.62, 0.8]) and table["n"].tolist() == [2, 2]
    assert table.loc[1, "ci_low"] == pytest.approx(0.8)  # no spread, no width
    with pytest.raises(ValueError, match="`metric` must be column names of `runs`"):
        summarize(runs, by="size", metric="accuracy")


# The verdict rule's guards against verdicts that flip on a re-run (the claims issue).

from nbhelpers import effect, paired_gain, say, verdict, versus  # noqa: E402


def seeds_frame(base, treated):
    n = len(base)
    return pd.DataFrame({"setting": ["base"] * n + ["new"] * n, "seed": list(range(n)) * 2,
                         "valid_accuracy": list(base) + list(treated)})


def test_intervals_stay_inside_what_the_metric_can_take():
    near_top = pd.DataFrame({"s": ["a"] * 3, "valid_accuracy": [0.97, 0.99, 1.0], "valid_loss": [0.01, 0.2, 0.02]})
    accuracy = summarize(near_top, "s", "valid_accuracy").iloc[0]
    loss = summarize(near_top, "s", "valid_loss").iloc[0]
    assert accuracy["ci_high"] == 1.0 and accuracy["ci_low"] < accuracy["mean"]
    assert loss["ci_low"] == 0.0 and loss["ci_high"] > loss["mean"]
    unclipped = mean_ci([0.97, 0.99, 1.0])
    assert unclipped[2] > 1.0  # the clip is what keeps it at 100%


def test_images_give_a_discrete_accuracy_an_interval_of_nonzero_width():
    same = seeds_frame([0.9, 0.9, 0.9], [0.8, 0.8, 0.8])  # every seed identical: a t-interval of width 0
    plain = paired_gain(same, column="setting", baseline="base", metric="valid_accuracy").iloc[0]
    counted = paired_gain(same, column="setting", baseline="base", metric="valid_accuracy", images=50).iloc[0]
    assert plain["ci_high"] - plain["ci_low"] == pytest.approx(0, abs=1e-12)
    assert counted["ci_high"] - counted["ci_low"] > 0.1  # 50 images cannot tell 10 points apart for sure
    assert counted["mean"] == pytest.approx(-0.1)
    with pytest.raises(ValueError, match=r"paired_gain\(\): `images` must be None for a metric"):
        paired_gain(same.assign(valid_loss=1.0), column="setting", baseline="base", metric="valid_loss", images=50)


def correctness_runs(agree: float, seeds: int = 4, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Two settings scored on the same ``n`` images; the second changes the verdict on a share
    ``1 - agree`` of the images that are hard for both (the first's errors mostly stay)."""
    rng = np.random.default_rng(seed)
    hard = rng.random(n) < 0.15  # the same hard images for every seed, as with one test set
    rows = []
    for s in range(seeds):
        base = ~hard | (rng.random(n) < 0.3)
        new = base ^ (rng.random(n) > agree)
        rows += [{"setting": name, "seed": s, "valid_accuracy": c.mean(), "correct": c, "images": n}
                 for name, c in (("base", base), ("new", new))]
    return pd.DataFrame(rows)


def test_per_image_correctness_pairs_the_images():
    runs = correctness_runs(agree=0.97)
    counted = paired_gain(runs, column="setting", baseline="base", metric="valid_accuracy", images="images").iloc[0]
    paired = paired_gain(runs, column="setting", baseline="base", metric="valid_accuracy", images="correct").iloc[0]
    plain = paired_gain(runs, column="setting", baseline="base", metric="valid_accuracy").iloc[0]
    assert paired["mean"] == counted["mean"]
    width = {name: row["ci_high"] - row["ci_low"] for name, row in
             (("counted", counted), ("paired", paired), ("plain", plain))}
    assert width["plain"] < width["paired"] < 0.5 * width["counted"], width  # the images' noise, paired, is small
    # summarize takes the count from the arrays
    assert summarize(runs, "setting", "valid_accuracy", images="correct").equals(
        summarize(runs, "setting", "valid_accuracy", images="images"))


def test_per_image_correctness_never_gives_a_zero_width_interval():
    runs = correctness_runs(agree=1.0, seeds=2)
    runs.loc[runs["setting"] == "new", "correct"] = runs.loc[runs["setting"] == "base", "correct"].to_numpy()
    runs["valid_accuracy"] = [c.mean() for c in runs["correct"]]
    row = paired_gain(runs, column="setting", baseline="base", metric="valid_accuracy", images="correct").iloc[0]
    assert row["mean"] == 0 and row["ci_low"] < 0 < row["ci_high"]


def test_per_image_correctness_of_unequal_lengths_is_refused():
    runs = correctness_runs(agree=0.9, seeds=2)
    runs.at[3, "correct"] = runs.at[3, "correct"][:-1]
    with pytest.raises(ValueError, match=r"paired_gain\(\): `images` must be a count, or a column of counts or of "
                                         r"per-image correctness"):
        paired_gain(runs, column="setting", baseline="base", metric="valid_accuracy", images="correct")


def test_a_screen_of_settings_widens_every_interval_and_says_so():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame([{"rate": rate, "seed": s, "valid_accuracy": 0.8 + 0.01 * rate + rng.normal(0, 0.01)}
                         for rate in range(7) for s in range(5)])
    plain = paired_gain(runs, column="rate", baseline=0, metric="valid_accuracy")
    screen = paired_gain(runs, column="rate", baseline=0, metric="valid_accuracy", comparisons="all")
    assert screen.attrs["comparisons"] == 6
    assert ((screen["ci_high"] - screen["ci_low"]) > (plain["ci_high"] - plain["ci_low"])).all()
    assert "corrected for 6 comparisons" in effect(screen, rate=6)["effect"]
    assert "corrected" not in effect(plain, rate=6)["effect"]


def test_borderline_marks_a_bound_within_noise_of_zero():
    assert verdict(0.001, 0.02, n=5) == "helps (borderline)"
    assert verdict(0.015, 0.02, n=5) == "helps"
    assert verdict(-0.02, -0.001, n=10, better="lower") == "helps (borderline)"
    # the rule is the 99% interval reaching 0: checked against scipy for 4 seeds
    half95 = stats.t.ppf(0.975, 3)
    assert verdict(1.0, 1.0 + 2 * half95, n=4) == ("helps (borderline)" if 1 + half95 <= half95 * stats.t.ppf(0.995, 3)
                                                  / stats.t.ppf(0.975, 3) else "helps")


def test_quick_mode_puts_its_note_beside_every_verdict_and_sentence(monkeypatch):
    runs = seeds_frame([0.70, 0.72, 0.71, 0.70], [0.80, 0.83, 0.81, 0.80])
    gains = paired_gain(runs, column="setting", baseline="base", metric="valid_accuracy")
    monkeypatch.setenv("NBH_QUICK", "0")
    assert effect(gains, setting="new")["verdict"] == "helps"
    assert "quick" not in versus(runs, "setting", "new", "base", "valid_accuracy")
    full = say("It gained {g}.", g=effect(gains, setting="new"))
    assert full == "It gained +10.3 points (95% CI +9.5 to +11.0, 4 seeds: helps)."
    monkeypatch.setenv("NBH_QUICK", "1")
    assert effect(gains, setting="new")["verdict"] == "helps [quick mode: not evidence]"
    assert versus(runs, "setting", "new", "base", "valid_accuracy").endswith("helps [quick mode: not evidence])")
    assert say("It gained {g[effect]}.", g=effect(gains, setting="new")).endswith(
        "*(Quick mode: these numbers show that the code runs, not the effect; full mode measures it.)*")


def test_say_names_a_missing_value_and_shows_as_markdown():
    with pytest.raises(ValueError, match=r"say\(\): `values` must be a keyword argument for every \{field\}.*gain"):
        say("It gained {gain} and {loss:.1f}.", loss=0.5)
    with pytest.raises(ValueError, match=r"say\(\): `template` must be fields whose format specs fit"):
        say("{x:.1f}", x="text")
    assert say("**{x:.1%}**", x=0.25)._repr_markdown_().startswith("**25.0%**")


def test_gain_table_widens_for_a_screen_and_for_few_images():
    from nbhelpers import gain_table

    rng = np.random.default_rng(1)
    runs = pd.DataFrame([{"rate": r, "seed": s, "acc": 0.8 + 0.02 * r + rng.normal(0, 0.01), "loss": 1 - 0.1 * r}
                         for r in range(4) for s in range(5)])
    plain = gain_table(runs, column="rate", baseline=0, metrics={"acc": "acc"})
    both = gain_table(runs, column="rate", baseline=0, metrics={"acc": "acc", "loss": "loss"}, comparisons="all",
                      images=200)
    widths = [float(t.split(" to ")[1].split(")")[0].split(",")[0]) - float(t.split("CI ")[1].split(" to")[0])
              for t in (plain.loc[3, "acc"], both.loc[3, "acc"])]
    assert widths[1] > widths[0] and "corrected for 3 comparisons" in both.loc[3, "acc"]
    assert "corrected for 3 comparisons" in both.loc[3, "loss"]  # images= is for shares only; the loss still gets it


def test_the_name_rule_knows_chapter_08s_metrics():
    """A cost is lower-is-better; sensitivity and specificity are shares, written in points, whose
    intervals stay in [0, 1] and may take a small test set's noise (`images=`)."""
    from nbhelpers import better_for, text_format, value_range

    assert better_for("test_cost") == "lower" and better_for("calibration_error") == "lower"
    assert better_for("log_loss") == "lower" and better_for("test_sensitivity") == "higher"
    for metric in ("test_sensitivity", "specificity", "valid_roc_auc", "macro_f1"):
        assert value_range(metric) == (0.0, 1.0) and text_format(metric)["unit"] == " points", metric
    runs = pd.DataFrame({"threshold": ["0.5", "low"] * 3, "seed": [0, 0, 1, 1, 2, 2],
                         "test_cost": [20.0, 12.0, 18.0, 11.0, 25.0, 15.0]})
    assert effect(paired_gain(runs, column="threshold", baseline="0.5", metric="test_cost"),
                  threshold="low")["verdict"].startswith("helps"), "a lower cost helps"


def test_the_name_rule_knows_chapter_10s_alarm_rates():
    """False alarms are a share of batches, written in points and kept in [0, 1], and fewer is
    better; a detection rate is a share where more is better."""
    from nbhelpers import better_for, text_format, value_range

    assert better_for("false_alarms") == "lower" and better_for("detected") == "higher"
    for metric in ("false_alarms", "detected"):
        assert value_range(metric) == (0.0, 1.0) and text_format(metric)["unit"] == " points", metric
    runs = pd.DataFrame({"detector": ["tests", "psi"] * 3, "seed": [0, 0, 1, 1, 2, 2],
                         "false_alarms": [0, 1, 0, 1, 0, 1]})
    assert effect(paired_gain(runs, column="detector", baseline="tests", metric="false_alarms"),
                  detector="psi")["verdict"].startswith("hurts"), "more false alarms hurt"
