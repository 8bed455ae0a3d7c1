"""Drift detection, the monitor and the stream replay (chapter 10): the statistics say what they
promise on samples whose truth we know."""

import numpy as np
import pytest
import torch
from torch import nn

from nbhelpers import DriftMonitor, drift_table, drift_words, holm, image_summary, plot_stream, psi, replay


def test_psi_is_zero_for_the_same_shares_and_matches_the_formula():
    values = torch.arange(1000.0)
    assert psi(values, values) == pytest.approx(0.0, abs=1e-12)
    # two categories: reference 50/50, current 25/75
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert psi([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(expected)
    # a category the reference never saw stays finite (its share counts as 0.0001)
    assert np.isfinite(psi([0, 0, 1, 1], [2, 2, 2, 2]))


def test_psi_grows_with_the_shift_and_is_noisy_on_small_batches():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(20_000, generator=g)
    shifts = [psi(ref, torch.randn(5_000, generator=g) + s) for s in (0.0, 0.25, 0.5, 1.0)]
    assert shifts == sorted(shifts) and shifts[0] < 0.01 and shifts[-1] > 0.5
    small = [psi(ref, torch.randn(50, generator=g)) for _ in range(200)]  # no drift at all
    large = [psi(ref, torch.randn(5_000, generator=g)) for _ in range(20)]
    assert np.mean(small) > 10 * np.mean(large)  # chance alone: the rules of thumb ignore the sample size


def test_holm_adjusts_as_its_step_down_rule_says():
    p = [0.01, 0.04, 0.03, 0.5]
    # sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 = 0.04, 0.09, 0.08, 0.5; then running max
    assert holm(p).tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert (holm(p) >= np.array(p)).all()


def test_holm_keeps_false_alarms_near_alpha_where_raw_p_values_do_not():
    g = torch.Generator().manual_seed(1)
    corrected, raw = [], []
    for _ in range(200):  # 10 features, no drift in any
        ref, now = torch.randn(300, 10, generator=g), torch.randn(200, 10, generator=g)
        table = drift_table(ref, now)
        corrected.append(table["drifted"].any())
        raw.append((table["p_value"] < 0.05).any())
    assert np.mean(corrected) < 0.10 and np.mean(raw) > 0.25  # 1 - 0.95**10 = 0.40 expected without correction


def test_drift_table_finds_the_drifted_feature_and_tests_categories_by_chi_square():
    g = torch.Generator().manual_seed(2)
    ref = {"shifted": torch.randn(2000, generator=g), "same": torch.randn(2000, generator=g),
           "class": torch.randint(0, 4, (2000,), generator=g)}
    now = {"shifted": torch.randn(1000, generator=g) + 0.3, "same": torch.randn(1000, generator=g),
           "class": torch.cat([torch.zeros(500), torch.randint(0, 4, (500,), generator=g)])}
    table = drift_table(ref, now).set_index("feature")
    assert table["drifted"].to_dict() == {"shifted": True, "same": False, "class": True}
    assert table.loc["class", "test"] == "chi-square" and table.loc["same", "test"] == "KS"
    assert table.attrs["current_size"] == 1000 and table.attrs["features"] == 3
    assert "2 drifted (shifted, class;" in drift_words(table.reset_index())
    with pytest.raises(ValueError, match=r"drift_table\(\): `current` must be the features of `reference`"):
        drift_table(ref, {"shifted": now["shifted"]})


def test_image_summary_reads_the_images_and_the_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    x = torch.randn(6, 1, 2, 2)
    table = image_summary(model, x)
    assert table["brightness"].to_numpy() == pytest.approx(x.flatten(1).mean(1).numpy(), abs=1e-6)
    assert table["contrast"].to_numpy() == pytest.approx(x.flatten(1).std(1).numpy(), abs=1e-6)
    probabilities = model(x).softmax(1).detach()
    assert table["predicted"].tolist() == probabilities.argmax(1).tolist()
    assert table["confidence"].to_numpy() == pytest.approx(probabilities.max(1).values.numpy(), abs=1e-6)
    assert ((table["entropy"] >= 0) & (table["entropy"] <= np.log(3) + 1e-6)).all()


def stream_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


def test_the_alarm_needs_patience_drifted_batches_in_a_row():
    g = torch.Generator().manual_seed(3)
    monitor = DriftMonitor(stream_model(), torch.randn(1000, 4, generator=g), patience=2)
    shifts = [0, 3, 0, 3, 3, 3]
    rows = [monitor.check(torch.randn(300, 4, generator=g) + s) for s in shifts]
    assert [r["drifted"] for r in rows] == [False, True, False, True, True, True]
    assert [r["alarm"] for r in rows] == [False, False, False, False, True, True]
    assert np.isnan(rows[0]["accuracy"]) and "brightness" in rows[1]["drifted_features"]
    assert len(monitor.history) == 6
    with pytest.raises(ValueError, match=r"DriftMonitor.check\(\): `y` must be a tensor of 300 labels"):
        monitor.check(torch.randn(300, 4), torch.zeros(5))


def test_the_psi_detector_ignores_p_values():
    g = torch.Generator().manual_seed(4)
    monitor = DriftMonitor(stream_model(), torch.randn(2000, 4, generator=g), detector="psi", patience=1)
    # a small shift on a large batch: the tests see it, PSI stays under its 0.25 line
    row = monitor.check(torch.randn(5000, 4, generator=g) + 0.1)
    assert row["smallest_p"] < 0.05 and row["largest_psi"] < 0.25 and not row["drifted"]


def test_replay_retrains_on_its_policy_with_the_latest_batches():
    g = torch.Generator().manual_seed(5)
    seen = []

    def retrain(model, x, y):
        seen.append((len(x), float(x.mean())))
        return stream_model()

    def stream(shifts):
        return [(torch.randn(200, 4, generator=g) + s, torch.zeros(200, dtype=torch.long)) for s in shifts]

    ref = torch.randn(1000, 4, generator=g)
    history = replay(stream([0, 0, 3, 3, 3, 3, 3]), DriftMonitor(stream_model(), ref, patience=2), retrain, window=2)
    assert history["retrained"].tolist() == [False, False, False, True, False, False, False]
    assert history["model_version"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert seen[0][0] == 400 and seen[0][1] > 2.5  # the two drifted batches before the alarm
    assert not history["alarm"].iloc[4:].any()  # watched against the new data, the shift is no drift any more
    every = replay(stream([0] * 6), DriftMonitor(stream_model(), ref), retrain, policy=3)
    assert every["retrained"].tolist() == [False, False, True, False, False, True]
    never = replay(stream([3] * 4), DriftMonitor(stream_model(), ref, patience=1), retrain, policy="never")
    assert never["alarm"].all() and not never["retrained"].any()
    with pytest.raises(ValueError, match=r"replay\(\): `retrain` must be a function that returns"):
        replay(stream([3, 3]), DriftMonitor(stream_model(), ref, patience=1), lambda m, x, y: None)


def test_plot_stream_shades_the_alarms():
    g = torch.Generator().manual_seed(6)
    monitor = DriftMonitor(stream_model(), torch.randn(1000, 4, generator=g), patience=1)
    history = replay([(torch.randn(200, 4, generator=g) + s, torch.zeros(200, dtype=torch.long)) for s in (0, 0, 3)],
                     monitor)
    fig = plot_stream({"never": history}, title="a stream")
    top, bottom = fig.axes
    assert len(top.lines) == 1 and len(top.patches) == history["alarm"].sum() == 1
    assert bottom.get_yscale() == "log"
    assert "alarm;" in bottom.get_xlabel()  # one history: no need to say whose alarm
    two = plot_stream({"on alarm": history, "never": history.assign(alarm=False)})
    assert len(two.axes[0].lines) == 2 and len(two.axes[0].patches) == 1
    assert "alarm of 'on alarm'" in two.axes[1].get_xlabel() and "'on alarm'" in two.axes[1].get_ylabel()


def test_drift_trials_pair_the_drifts_on_one_draw_and_measure_accuracy_and_alarms():
    from nbhelpers import LabelShift, drift_trials

    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(2000, 4, generator=g), torch.arange(2000) % 2
    model = stream_model()
    rows = drift_trials(model, x[:500], x[500:], y[500:], batch_size=200, batches=6, seed=1,
                        drifts={"none": None, "same": lambda b, generator: b.clone(), "shifted": lambda b, generator: b + 2,
                                "class 0": LabelShift([0], share=1.0)})
    assert len(rows) == 24 and rows.groupby("drift").size().tolist() == [6, 6, 6, 6]
    by = rows.set_index(["drift", "seed"])
    assert (by.loc["none", "accuracy"] == by.loc["same", "accuracy"]).all()  # the same images in every drift of a trial
    assert by.loc["shifted", "tests"].mean() == 1.0 and by.loc["none", "tests"].mean() <= 1 / 6
    predicted = model(x[500:]).argmax(1)  # class 0 only: accuracy is the share of those predicted 0
    assert by.loc["class 0", "accuracy"].mean() == pytest.approx(float((predicted[y[500:] == 0] == 0).float().mean()),
                                                                 abs=0.08)
    again = drift_trials(model, x[:500], x[500:], y[500:], drifts={"none": None}, batch_size=200, batches=6, seed=1)
    assert again["accuracy"].tolist() == by.loc["none", "accuracy"].tolist()  # the seed decides the draw
    with pytest.raises(ValueError, match=r"drift_trials\(\): `batch_size` must be at most the 1500 images of x"):
        drift_trials(model, x[:500], x[500:], y[500:], drifts={"none": None}, batch_size=5000)


def test_label_shift_draws_its_share_from_the_listed_classes():
    from nbhelpers import LabelShift

    y = torch.arange(1000) % 10
    rows = LabelShift([3, 4], share=0.6).draw(y, 500, torch.Generator().manual_seed(0))
    share = torch.isin(y[rows], torch.tensor([3, 4])).float().mean().item()
    assert len(rows) == 500 and 0.6 <= share <= 0.6 + 0.4 * 0.2 + 0.05  # 60% drawn from them, a fifth of the rest too
    with pytest.raises(ValueError, match=r"LabelShift\(\): `classes` must be classes present in the labels"):
        LabelShift([12]).draw(y, 10, torch.Generator())


def test_drifting_stream_turns_at_its_onset():
    from nbhelpers import drifting_stream

    x, y = torch.zeros(100, 1, 2, 2), torch.arange(100) % 2
    stream = drifting_stream(x, y, drift=lambda b, generator: b - 1, batches=5, batch_size=20, onset=3, seed=0)
    assert [float(b[0].mean()) for b in stream] == [0.0, 0.0, 0.0, -1.0, -1.0]
    assert all(len(b[1]) == 20 for b in stream)
    assert torch.equal(drifting_stream(x, y, drift=None, batches=2, batch_size=20, seed=4)[1][1],
                       drifting_stream(x, y, drift=None, batches=2, batch_size=20, seed=4)[1][1])
