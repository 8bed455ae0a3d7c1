"""Chapter 04 (regularization) runs top to bottom in quick mode, and what it prints holds up:
intervals contain their means, verdicts agree with their intervals (gap verdicts in gap words),
every sentence `say` writes carries the numbers printed above it, L1 leaves more weights near
zero than no L1, early stopping hands back the best epoch's weights, the best dropout rate is
trained again on fresh seeds, the ensemble test scores one mask, the mask average and the
weight-scaled network on the same networks, the panel serves the same run the chapter trained
directly, the figures are drawn. Quick mode trains for a dozen epochs on 500 images, so the
sizes of the effects are not checked here (the notebook renders them from the run), except the
ones that are large at any budget: the overfitting gap, L1's sparsity and the Adam + L2 / AdamW toy."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import (CI, NOTEBOOKS, QUICK_NOTE, VERDICT, check_interval, check_reference, check_structure, count_images,
                   executed_chapter, said)

NAME = "04_regularization.ipynb"
# An `effect` as a sentence of `say` writes it: the interval, the seeds and the verdict in one parenthesis.
PHRASE = (r"([+-]\d+\.\d) points \(95% CI ([+-]\d+\.\d) to ([+-]\d+\.\d)(?:, corrected for \d+ comparisons)?, "
          rf"(\d+) seeds: {VERDICT}\)")


def phrases(text: str) -> list[tuple[str, ...]]:
    """Every effect phrase in ``text``, checked: (mean, low, high, seeds, verdict)."""
    found = re.findall(PHRASE, text)
    for mean, low, high, _, verdict in found:
        check_interval(mean, low, high)
        assert verdict.endswith("[quick mode: not evidence]"), verdict
    return found


def table_row(text: str, start: str, end: str, index: str) -> list[str]:
    """The cells of the row whose index matches the regex ``index`` in a table printed between ``start`` and
    ``end``, read across the blocks pandas wraps a wide table into."""
    begin = text.index(start)
    block = text[begin:text.index(end, begin)]
    lines = re.findall(rf"\n{index}\s+(.+)", block)
    return [cell for line in lines for cell in re.split(r"\s{2,}", line.strip().rstrip("\\").strip())]


executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    calls = ("gap_panel(", "sweep(", "summarize(", "paired_gain(", "by_mode(", "decay_toy(", "weight_histogram(",
             "weight_stats(", "plot_gap(", 'optimizer="adamw"', "l1=", "EarlyStopping(", "pipeline(", "say(",
             'comparisons="all"', "mask_average(", "seeds=FRESH", "seeds=CONFIRM")
    markdown = "\n".join(check_structure(NAME, calls, max_lines=12))
    # the guides' Keras code next to ours
    for keras, ours in (("kernel_regularizer=l2(0.01)", "weight_decay=0.02"),
                        ("layers.Dropout(0.5)", "MLP(784, 10, width=128, depth=1, dropout=0.5)"),
                        ("EarlyStopping(monitor='val_loss', patience=3, restore_best_weights=True)",
                         'EarlyStopping(patience=3, monitor="valid_loss")')):
        assert keras in markdown and ours in markdown, (keras, ours)
    assert "chapter 02" in markdown.lower()
    # "seed" means a random seed only: the guides go by their short names
    assert not re.search(r"\bseed (?:text|00\d)|\bseeds' |\bSeed 00\d", markdown), "name the guides, not seeds"
    for guide in ("*Boosting* guide", "*Improve* guide", "*Optimize* guide"):
        assert guide in markdown, guide
    code = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / NAME, as_version=4).cells if c.cell_type == "code")
    assert not re.search(r"#.*\bseed(?:s'| text| 00\d)", code), "code comments name the guides, not seeds"


def test_set_up_and_the_gap_without_regularization(executed):
    _, text = executed
    assert "500 training images, 600 validation, 1,000 test; the MLP has 269,322 weights" in text
    assert "seeds: screens [0, 1, 2], confirmation [3, 4, 5], batch norm and combinations [3, 4, 5]" in text, \
        "the fresh seeds are not the screens' seeds"
    train, valid, gap = map(float, re.search(r"after 12 epochs: ([\d.]+)% of the training images right, ([\d.]+)% of "
                                             r"the validation images; gap ([\d.]+) points", text).groups())
    assert gap == pytest.approx(train - valid, abs=0.11)
    assert gap > 5, "the MLP memorizes 500 images: the gap is what the chapter is about"
    best = int(re.search(r"lowest validation loss at epoch (\d+)", text).group(1))
    assert 1 <= best <= 12
    sentence = said(text, "After 12 epochs the network got")
    assert sentence.startswith(f"After 12 epochs the network got {train}% of its 500 training images right and "
                               f"{valid}% of the validation images, a gap of {gap} points, while its validation loss "
                               f"had been lowest at epoch {best}."), sentence


def test_decay_toy_adam_l2_against_adamw(executed):
    _, text = executed
    found = {(o, float(s)): float(w) for o, s, w in
             re.findall(r"(adamw?)\s+gradient noise ([\d.e-]+): weight after 300 steps ([\d.]+)", text)}
    assert len(found) == 10
    assert found[("adam", 0.001)] < 0.01 < 0.1 < found[("adam", 1.0)]
    adamw = [w for (o, _), w in found.items() if o == "adamw"]
    assert max(adamw) - min(adamw) < 0.05
    sentence = said(text, "At the same `weight_decay=0.5`")
    lo, hi, big, small = map(float, re.search(r"between ([\d.]+) and ([\d.]+) \(about the same size, whatever its "
                                              r"gradient noise\); Adam \+ L2 left ([\d.]+) where the gradient noise "
                                              r"was 1 and ([\d.]+) where it was 0\.0001", sentence).groups())
    assert (lo, hi, big, small) == (min(adamw), max(adamw), found[("adam", 1.0)], found[("adam", 0.0001)])
    gone = float(re.search(r"below 0\.01 wherever it was ([\d.]+) or less", sentence).group(1))
    assert all(w < 0.01 for (o, s), w in found.items() if o == "adam" and s <= gone)
    above = min(s for o, s in found if o == "adam" and s > gone)
    assert found[("adam", above)] >= 0.01, "the largest noise up to which Adam + L2 left less than 0.01"


def test_weight_decay_chosen_on_validation_and_scored_on_test(executed):
    _, text = executed
    best, printed = {}, {}
    for name in ("adam", "adamw"):
        found = re.search(rf"best {name} weight_decay ([\d.e-]+) \(on validation\): test accuracy {CI}, {VERDICT}", text)
        assert found, name
        assert float(found.group(1)) == {"adam": 1e-2, "adamw": 1.0}[name], "quick mode tries one strength of each"
        check_interval(*found.groups()[1:])
        best[name], printed[name] = found.group(1), found.groups()[1:]
    head = re.search(rf"AdamW at its best minus Adam \+ L2 at its best: {CI}, {VERDICT}", text).groups()
    check_interval(*head)
    sentence = said(text, "On validation the best strength was")
    assert f"was {best['adam']} for Adam + L2" in sentence and f"and {best['adamw']} for AdamW" in sentence
    in_sentence = [(m, lo, hi, v) for m, lo, hi, _, v in phrases(sentence)]
    assert in_sentence == [printed["adam"], printed["adamw"], head], "the sentence carries the printed effects"
    if all(v.startswith("no clear effect") for *_, v in in_sentence):
        assert "bought nothing that 3 seeds can measure" in sentence


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
    sentence = said(text, "The share of near-zero weights went from")
    assert f"from {rows[0.0][0]}% without L1 to {rows[1e-4][0]}% at l1 = 0.0001 and {rows[1e-3][0]}% at l1 = 0.001" \
        in sentence
    width = float(re.search(r"intervals at most ([\d.]+) points wide", sentence).group(1))
    assert width == pytest.approx(max(high - low for _, low, high in rows.values()), abs=0.15)
    gap, acc, train = phrases(sentence)
    row = [re.fullmatch(CI, cell).groups() for cell in table_row(text, "\nl1 ", "layer", r"0\.0010")]
    assert row == [acc[:3], gap[:3]], "the sentence carries the gain table's row"
    assert gap[4].startswith(("shrinks", "no clear change")), "the strongest L1 does not widen the gap"
    assert ("the gap closed" in sentence) == gap[4].startswith("shrinks ["), "a lesson only from a firm verdict"


def test_dropout_screen_confirmation_and_ensemble(executed):
    _, text = executed
    lines = re.findall(rf"dropout (0\.\d): validation accuracy {CI}, {VERDICT}; gap {CI}, {VERDICT}", text)
    assert [p for p, *_ in lines] == ["0.3", "0.7"]
    assert all("corrected for 2 comparisons" in line for line in re.findall(r"dropout 0\.\d: validation.+", text))
    for _, *numbers in lines:
        check_interval(*numbers[:4])
        check_interval(*numbers[4:], gap=True)
    best = re.search(r"best dropout on validation: (0\.\d) \(of 2 rates\)", text).group(1)
    gains = {p: float(n[0]) for p, *n in lines}
    assert gains[best] == max(gains.values()), "the best rate is the one with the highest mean gain"
    screen = said(text, "The gap changed by")
    assert f"The best rate on validation was {best}, inside" in screen
    assert "at most, and, corrected for 2 comparisons" in screen
    assert f"by {max(gains.values()):+.1f} points at most" in screen
    assert [p[:3] for p in phrases(screen)] == [tuple(n[4:7]) for _, *n in lines], "the gaps as printed"
    confirmed = re.search(rf"dropout {best} on 3 fresh seeds, test accuracy: {PHRASE}", text).groups()
    check_interval(*confirmed[:3], confirmed[4])
    ways = dict((w, g) for w, *g in re.findall(rf"(one mask|average of 5 masks) minus weights scaled, test accuracy: "
                                               rf"{PHRASE}", text))
    assert set(ways) == {"one mask", "average of 5 masks"}
    for mean, low, high, seeds, verdict in ways.values():
        check_interval(mean, low, high, verdict)
        assert seeds == "3"
    sentence = said(text, "Trained again on 3 fresh seeds")
    test, gap, one, average = phrases(sentence)
    assert test == confirmed and one == tuple(ways["one mask"]) and average == tuple(ways["average of 5 masks"])
    tr, va = map(float, re.search(r"training accuracy moving by ([+-][\d.]+) points and the validation accuracy by "
                                  r"([+-][\d.]+)\.", sentence).groups())
    assert float(gap[0]) == pytest.approx(tr - va, abs=0.15), "the gap's change is the training minus the validation's"
    agree = float(re.search(r"class for ([\d.]+)% of the test images", sentence).group(1))
    assert 50 < agree <= 100, "the average of the masks mostly predicts what the weight-scaled network predicts"
    assert ("a single thinned network did worse than" in sentence) == one[4].startswith("hurts ["), sentence
    firm_one, firm_average = one[4].startswith("hurts ["), average[4].startswith("helps [")
    assert ("was at least as good as the ensemble" in sentence) == (firm_one and not firm_average), sentence


def test_batch_norm_and_the_higher_learning_rate(executed):
    _, text = executed
    line = re.search(rf"batch norm: validation accuracy {CI}, {VERDICT}; gap {CI}, {VERDICT}", text).groups()
    check_interval(*line[:4])
    check_interval(*line[4:], gap=True)
    table = {lr: [re.fullmatch(CI, cell).groups() for cell in table_row(text, "\nlr    norm", "batch norm:",
                                                                         rf"{lr}\s+batch")] for lr in ("0.001", "0.030")}
    assert len(table["0.001"]) == 3 and table["0.001"][0] == line[:3] and table["0.001"][2] == line[4:7], \
        "the line is the table's row: validation accuracy, test accuracy, gap"
    arms = {a: g for a, *g in re.findall(rf"((?:none|batch) at lr 0\.03) minus none at lr 0\.001: validation accuracy "
                                         rf"{PHRASE}", text)}
    assert set(arms) == {"none at lr 0.03", "batch at lr 0.03"}
    fast = re.search(rf"batch minus none, both at lr 0\.03: validation accuracy {PHRASE}", text).groups()
    assert fast[:3] == table["0.030"][0]
    sentence = said(text, "At the chapter's `lr=1e-3`, batch norm changed")
    found = phrases(sentence)
    assert [f[:3] for f in found] == [line[:3], line[4:7], tuple(arms["none at lr 0.03"][:3]), fast[:3],
                                      tuple(arms["batch at lr 0.03"][:3])]
    lessons = ("let the higher rate pay", "kept the higher rate from costing accuracy", "made the higher rate less "
               "harmful", "do not show batch norm making the higher rate work better")
    assert sum(lesson in sentence for lesson in lessons) == 1
    if not fast[4].startswith("helps ["):  # no firm gain at the higher rate: no lesson that batch norm allowed it
        assert "do not show batch norm making the higher rate work better" in sentence


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
    sentence = said(text, "The runs with patience 3 stopped after")
    assert sentence.startswith(f"The runs with patience 3 stopped after {min(epochs)} to {max(epochs)} of the 12 epochs")
    low, high = map(int, re.search(r"for (\d+)% to (\d+)% of the training", sentence).groups())
    assert (low, high) == (round(100 * min(epochs) / 12), round(100 * max(epochs) / 12))
    test, gap = re.findall(PHRASE, sentence)
    loss = re.search(r"the test loss by ([+-][\d.]+) \(95% CI ([+-][\d.]+) to ([+-][\d.]+)", sentence).groups()
    row = table_row(text, "\npatience", "The runs with patience 3", "3")
    assert len(row) == 3, row
    assert test[:3] == re.fullmatch(CI, row[0]).groups() and gap[:3] == re.fullmatch(CI, row[2]).groups()
    assert row[1] == f"{loss[0]} (95% CI {loss[1]} to {loss[2]})", "the sentence carries the gain table's row"


def test_augmentation_line_and_sentence(executed):
    _, text = executed
    found = re.search(rf"zoom 10%: validation accuracy {CI}, {VERDICT}; gap {CI}, {VERDICT}", text).groups()
    check_interval(*found[:4])
    check_interval(*found[4:], gap=True)
    gap, acc = phrases(said(text, "Zoom 10% changed the gap by"))
    assert (gap[:3], gap[4], acc[:3], acc[4]) == (found[4:7], found[7], found[:3], found[3])


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
    combos = re.findall(rf"\n(dropout 0\.\d|adamw? [\d.e-]+|dropout \+ decay[a-z +]*): {CI}, {VERDICT}", text)
    assert len(combos) == 5, combos
    assert all("corrected for 5 comparisons" in line for line in re.findall(r"\n(?:dropout|adam)[^\n]+: [+-][^\n]+",
                                                                            text) if "seeds" not in line)
    for _, *numbers in combos:
        check_interval(*numbers)
    winner, runner_up, *numbers = re.search(rf"winner: (.+); against the runner-up \((.+)\): {CI}, {VERDICT}",
                                            text).groups()
    assert winner != runner_up and [winner, runner_up] == [c for c, *_ in combos][:2]
    check_interval(*numbers)
    sentence = said(text, "Corrected for 5 comparisons,")
    beat = [c for c, *n in combos if n[3].startswith("helps [")]
    assert f"{len(beat)} of the 5 combinations clearly beat" in sentence
    assert f"The highest mean, {winner}, gained" in sentence and f"against the runner-up, {runner_up}, its lead" in sentence
    assert [p[:3] for p in phrases(sentence)] == [tuple(combos[0][1:4]), tuple(numbers[:3])]

    start = re.search(r"what\s+effect\s+verdict\s+seeds", text)
    assert start, "the What we measured table"
    table = text[start.start(): text.index("weights below 1e-3:")]
    rows = re.findall(rf"\n\s*(.+?)\s+{CI}\s+{VERDICT}\s+(\d+)", table)
    assert len(rows) == 18, table
    for what, mean, low, high, verdict, seeds in rows:
        check_interval(mean, low, high, verdict, gap=what.endswith(", gap"))
        assert verdict.endswith("[quick mode: not evidence]") and seeds == "3", (what, verdict, seeds)
    measured = {what: (mean, low, high, verdict) for what, mean, low, high, verdict, _ in rows}
    assert [measured[f"{c}, test accuracy"][:3] for c, *_ in combos] == [tuple(n[:3]) for _, *n in combos]
    assert count_images(notebook) >= 9, "learning curves, the gap, the toy, decay, histogram, dropout, combined"

    summary = said(text, "At 500 training images and 12 epochs, the gap")
    for name, change in re.findall(r"([\w.% ]+) \(([+-][\d.]+) points\)", summary):  # the gaps that shrank clearly
        row = measured[f"{name.strip()}, gap"] if f"{name.strip()}, gap" in measured else None
        if row is not None:
            assert row[0] == change and row[3].startswith("shrinks ["), (name, row)
    sparse = re.search(r"weights below 1e-3: [\d.]+% without L1, ([\d.]+)% with", text).group(1)
    assert f"L1 left {sparse}% of the weights near zero" in summary
    best_epoch = re.search(r"early stopping: best epoch (\d+), stopped after \d+; validation loss ([\d.]+) restored "
                           r"\(last epoch: ([\d.]+)\)", text).groups()
    assert (f"weights of epoch {best_epoch[0]} (validation loss {best_epoch[1]}, against {best_epoch[2]} when it "
            "stopped)") in summary
    assert 1 <= int(re.search(r"best epoch (\d+); weights below 1e-3: [\d.]+%", text).group(1)) <= 20


def test_every_said_sentence_says_it_is_quick_mode(executed):
    notebook, text = executed
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert text.count(QUICK_NOTE) == sum(source.lstrip().startswith("say(") or "\nsay(" in source for source in code)


def test_the_chapter_shows_which_verdicts_held_on_its_recorded_runs(executed):
    check_reference(executed[1], "04")
