"""Resampling: a 95% bootstrap interval covers the true accuracy about 95% of the time (and a
narrower one visibly less), the paired version bootstraps a difference; k-fold folds are
disjoint, cover every row once and keep the classes' shares; the best of k runs picked on
validation is scored fairly on the other rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nbhelpers import bootstrap, cross_validate, paired_gain, plot_bootstrap, selection_bias, summarize


def coverage(confidence: float, repeats: int = 200, n: int = 200, p: float = 0.7) -> float:
    """Share of `repeats` test sets (each n rows, each row right with probability p) whose
    bootstrap interval contains p."""
    rng, hits = np.random.default_rng(0), 0
    for r in range(repeats):
        right = rng.random(n) < p
        y = rng.integers(0, 2, n)
        scores = np.eye(2)[np.where(right, y, 1 - y)]  # predicts the label where right, the other where wrong
        found = bootstrap(scores, y, resamples=500, confidence=confidence, seed=r)
        hits += found.low <= p <= found.high
    return hits / repeats


def test_a_95_percent_bootstrap_interval_covers_the_truth_at_about_the_nominal_rate():
    # 200 repetitions: a correct 95% interval lands in [0.90, 0.99] (binomial sd 1.5 points; the
    # percentile bootstrap runs a little short on 200 rows); a 70% one does not.
    assert 0.90 <= coverage(0.95) <= 0.99
    assert coverage(0.70) < 0.85


def test_bootstrap_of_a_difference_is_paired_and_any_metric_works():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    a = np.eye(2)[np.where(rng.random(300) < 0.8, y, 1 - y)]
    b = a.copy()
    b[:30] = np.eye(2)[y[:30]]  # b is a, with 30 more rows right (or the same where a was right already)
    gain = (b.argmax(1) == y).mean() - (a.argmax(1) == y).mean()
    found = bootstrap(b, y, baseline=a, resamples=400)
    assert found.value == pytest.approx(gain) and found.paired and found.low >= 0  # never worse on any draw
    assert str(found).startswith(f"{100 * gain:+.1f} points (95% CI")
    auc = bootstrap(a, y, "roc_auc", resamples=200)
    assert auc.low <= auc.value <= auc.high and f"{auc:.3f}".startswith(f"{auc.value:.3f} (95% CI")
    custom = bootstrap(a, y, lambda labels, p: float((p[:, 1] > 0.5).mean()), resamples=100)
    assert custom.metric == "<lambda>" and 0 <= custom.low <= custom.high <= 1
    assert len(plot_bootstrap(found, title="t").axes) == 1
    with pytest.raises(ValueError, match=r"bootstrap\(\): `baseline` must be scores of the same shape"):
        bootstrap(a, y, baseline=np.eye(3)[y])


def test_k_fold_folds_are_disjoint_cover_every_row_and_are_stratified():
    y = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    x = torch.arange(100).float().unsqueeze(1)  # each row's x is its index, to see which rows were given
    seen = []

    def train(train, valid, width=4, seed=0):
        seen.append((train[0].squeeze(1).long(), valid[0].squeeze(1).long(), seed))
        return {"valid_accuracy": float((valid[1] == 0).float().mean()), "width": width, "note": "text is dropped"}

    table = cross_validate(train, (x, y), folds=5, seed=7, width=16)
    valid_rows = table.attrs["valid_rows"]
    assert sorted(np.concatenate(valid_rows).tolist()) == list(range(100)), "every row validates exactly once"
    for (train_rows, valid, seed), rows in zip(seen, valid_rows):
        assert set(train_rows.tolist()).isdisjoint(valid.tolist()) and len(train_rows) + len(valid) == 100
        assert sorted(valid.tolist()) == sorted(rows.tolist()) and seed == 7
        assert np.bincount(y[valid].numpy(), minlength=3).tolist() == [10, 6, 4], "each fold keeps the shares"
    assert table["fold"].tolist() == list(range(5)) and (table["width"] == 16).all() and "note" not in table
    assert table["valid_accuracy"].tolist() == pytest.approx([0.5] * 5)
    assert summarize(table, by="folds", metric="valid_accuracy")["n"].item() == 5
    again = cross_validate(train, (x, y), folds=5, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(again.attrs["valid_rows"], valid_rows)), "the seed fixes the folds"
    with pytest.raises(ValueError, match=r"cross_validate\(\): `folds` must be at most the count of the rarest class"):
        cross_validate(train, (x, y), folds=21)


def test_the_best_of_k_on_validation_is_rescored_on_other_rows():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2_000)
    runs = {f"run {i}": np.eye(2)[np.where(rng.random(2_000) < 0.75, y, 1 - y)] for i in range(8)}  # all equal
    table = selection_bias(runs, y, candidates=(1, 8), valid_size=100, test_size=100, seed=0)
    assert table.attrs["repeats"] == 10 and len(table) == 10 * 2 * 2
    order = np.random.default_rng(0).permutation(2_000)  # repeat 0: the first 100 shuffled rows validate
    valid = order[:100]
    best = max(runs, key=lambda k: (runs[k][valid].argmax(1) == y[valid]).mean())
    row = table.query("candidates == 8 and repeat == 0 and scored_on == 'validation'")
    assert row["winner"].item() == best
    drop = paired_gain(table, column="scored_on", baseline="validation", metric="accuracy", by="candidates",
                       seed="repeat")
    by_k = drop.set_index("candidates")["mean"]
    assert by_k[8] < -0.02, "the best of eight equal runs looks better on validation than on test"
    assert abs(by_k[1]) < abs(by_k[8]), "one run picked at random is the control"
    with pytest.raises(ValueError, match=r"selection_bias\(\): `candidates` must be counts up to the 8 settings"):
        selection_bias(runs, y, candidates=(9,))
