"""Chapter 04 (regularization) runs top to bottom in quick mode, and what it prints holds up:
intervals contain their means, verdicts agree with their intervals (gap verdicts in gap words),
L1 leaves more weights near zero than no L1, early stopping hands back the best epoch's
weights, the panel serves the same run the chapter trained directly, the figures are drawn.
Quick mode trains for a dozen epochs on 500 images, so the sizes of the effects are not
checked here (they are the full-mode numbers quoted in the notebook), except the ones that are
large at any budget: the overfitting gap, L1's sparsity and the Adam + L2 / AdamW toy."""

from __future__ import annotations

import re

import pytest
from nbrun import CI, check_interval, check_structure, count_images, run_notebook, text_of

NAME = "04_regularization.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = run_notebook(NAME, cache=tmp_path_factory.mktemp("cache"))
    return notebook, text_of(notebook)


def test_structure_of_the_committed_notebook():
    calls = ("gap_panel(", "sweep(", "summarize(", "paired_gain(", "by_mode(", "decay_toy(", "weight_histogram(",
             "weight_stats(", "plot_gap(", 'optimizer="adamw"', "l1=", "EarlyStopping(", "pipeline(")
    markdown = "\n".join(check_structure(NAME, calls, max_lines=12))
    # the seeds' Keras code next to ours
    for keras, ours in (("kernel_regularizer=l2(0.01)", "weight_decay=0.02"),
                        ("layers.Dropout(0.5)", "MLP(784, 10, width=128, depth=1, dropout=0.5)"),
                        ("EarlyStopping(monitor='val_loss', patience=3, restore_best_weights=True)",
                         'EarlyStopping(patience=3, monitor="valid_loss")')):
        assert keras in markdown and ours in markdown, (keras, ours)
    assert "chapter 02" in markdown.lower()


def test_set_up_and_the_gap_without_regularization(executed):
    _, text = executed
    assert "500 training images, 600 validation, 1,000 test; the MLP has 269,322 weights" in text
    train, valid, gap = map(float, re.search(r"after 12 epochs: ([\d.]+)% of the training images right, ([\d.]+)% of "
                                             r"the validation images; gap ([\d.]+) points", text).groups())
    assert gap == pytest.approx(train - valid, abs=0.11)
    assert gap > 5, "the MLP memorizes 500 images: the gap is what the chapter is about"
    assert 1 <= int(re.search(r"lowest validation loss at epoch (\d+)", text).group(1)) <= 12


def test_decay_toy_adam_l2_against_adamw(executed):
    _, text = executed
    found = {(o, float(s)): float(w) for o, s, w in
             re.findall(r"(adamw?)\s+gradient noise ([\d.e-]+): weight after 300 steps ([\d.]+)", text)}
    assert len(found) == 10
    assert found[("adam", 0.001)] < 0.01 < 0.1 < found[("adam", 1.0)]
    adamw = [w for (o, _), w in found.items() if o == "adamw"]
    assert max(adamw) - min(adamw) < 0.05


def test_weight_decay_chosen_on_validation_and_scored_on_test(executed):
    _, text = executed
    for name in ("adam", "adamw"):
        found = re.search(rf"best {name} weight_decay ([\d.e-]+) \(on validation\): test accuracy {CI}, (.+)", text)
        assert found, name
        assert float(found.group(1)) in ({"adam": (1e-3, 1e-2), "adamw": (1.0, 10.0)}[name])
        check_interval(*found.groups()[1:])
    check_interval(*re.search(rf"AdamW at its best minus Adam \+ L2 at its best: {CI}, (.+)", text).groups())


def test_l1_sparsity_exceeds_no_l1(executed):
    _, text = executed
    rows = {float(l1): tuple(float(v) for v in rest) for l1, *rest in re.findall(
        r"l1 = ([\d.e-]+): ([\d.]+)% of the weights below 1e-3 \(95% CI ([\d.]+)% to ([\d.]+)%\)", text)}
    assert sorted(rows) == [0.0, 1e-4, 1e-3]
    for mean, low, high in rows.values():
        assert low <= mean <= high
    assert rows[1e-3][1] > rows[0.0][2], "the strongest L1: more near-zero weights than none, beyond the intervals"
    assert rows[1e-3][0] > rows[1e-4][0] > rows[0.0][0]
    none, strong = map(float, re.search(r"weights below 1e-3: ([\d.]+)% without L1, ([\d.]+)% with l1 = 0.001",
                                        text).groups())
    assert (none, strong) == (rows[0.0][0], rows[1e-3][0])
    assert re.search(r"\n\s+all\s+268800\s+0\.\d+", text), "weight_stats: per layer and all 268,800 weights"


def test_dropout_batch_norm_and_augmentation_lines(executed):
    _, text = executed
    lines = re.findall(rf"dropout (0\.\d): validation accuracy {CI}, (.+?); gap {CI}, (.+)", text)
    assert [p for p, *_ in lines] == ["0.3", "0.7"]
    for _, *numbers in lines:
        check_interval(*numbers[:4])
        check_interval(*numbers[4:], gap=True)
    best = re.search(r"best dropout on validation: (0\.\d)", text).group(1)
    assert best in ("0.3", "0.7")  # picked among the rates tried (0 is the baseline of the paired gains)
    for what in ("batch norm", "zoom 10%"):
        found = re.search(rf"{what}: validation accuracy {CI}, (.+?); gap {CI}, (.+)", text)
        assert found, what
        check_interval(*found.groups()[:4])
        check_interval(*found.groups()[4:], gap=True)


def test_early_stopping_restores_the_best_weights(executed):
    _, text = executed
    stopped, best = map(int, re.search(r"stopped after epoch (\d+) of 100; best epoch (\d+)", text).groups())
    assert stopped == best + 3, "patience 3: three epochs without improvement, then stop"
    at_best, last, returned = re.search(r"validation loss in the history: best epoch ([\d.]+), last epoch ([\d.]+); "
                                        r"of the model returned: ([\d.]+)", text).groups()
    assert returned == at_best and float(last) >= float(at_best)
    listed = re.search(r"epochs run with patience 3: \[([\d, ]+)\] \(of 12\)", text).group(1)
    epochs = [int(e) for e in listed.split(",")]
    assert len(epochs) == 3 and all(1 <= e <= 12 for e in epochs)


def test_panel_serves_the_run_the_chapter_trained(executed):
    _, text = executed
    assert "explore(train): 3 controls, 8 runs so far (8 from the cache)" in text, "the panel trains nothing"
    plain = re.search(r"after 12 epochs: .+; gap ([\d.]+) points", text).group(1)
    now, base = re.search(r"this setting, epoch \d+: ([-\d.]+) points in eval mode, [-\d.]+ as trained\s+"
                          r"no regularization, epoch \d+: ([-\d.]+) points in eval mode", text).groups()
    assert now == base == plain, "the cached defaults are the run of section 2, to the last digit"
    smallest = float(re.search(r"smallest gap in the grid \(seed 0\): ([\d.]+) points", text).group(1))
    assert smallest <= float(plain)


def test_combinations_and_the_measured_table(executed):
    notebook, text = executed
    combos = re.findall(rf"\n(dropout 0\.\d|adamw? [\d.e-]+|dropout \+ decay[a-z +]*): {CI}, (.+)", text)
    assert len(combos) == 5, combos
    for _, *numbers in combos:
        check_interval(*numbers)
    winner, runner_up, *numbers = re.search(rf"winner: (.+); against the runner-up \((.+)\): {CI}, (.+)", text).groups()
    assert winner != runner_up and {winner, runner_up} <= {c for c, *_ in combos}
    check_interval(*numbers)
    start = re.search(r"what\s+effect\s+verdict\s+seeds", text)
    assert start, "the What we measured table"
    table = text[start.start(): text.index("weights below 1e-3:")]
    words = "helps|hurts|no clear effect|shrinks|widens|no clear change"
    rows = re.findall(rf"\n\s*(.+?)\s+{CI}\s+({words})\s+(\d)", table)
    assert len(rows) == 12, table
    for what, mean, low, high, verdict, seeds in rows:
        check_interval(mean, low, high, verdict, gap=what.endswith(", gap"))
        assert seeds == "3"
    assert count_images(notebook) >= 9, "learning curves, the gap, the toy, decay, histogram, dropout, combined"
    best_epoch = int(re.search(r"best epoch (\d+); weights below 1e-3: [\d.]+%", text).group(1))
    assert 1 <= best_epoch <= 20
