"""Chapter 11 (the capstone) runs top to bottom in quick mode, and what it prints holds up: step 1's
rate is one of the screen's and its gap is its training minus its validation accuracy; the grid's
winner is the top row of the grid's table; every step's effect lies in its interval and agrees with
its verdict; the test-score lines are corrected for the five steps compared, and the closing
sentence names the step best on validation and the clear gains among them; the drift sentence
repeats the drift table's flag rates; the guides' claims table gives, for each claim, the line and
the verdicts of the recorded runs of the chapter that tested it (as `reference_runs` reads them);
"What we measured" repeats the printed effects with the quick-mode note. Quick mode trains tiny
networks on a hundred images for three epochs, so the sizes and directions of the effects are not
checked (the notebook renders them from the run)."""

from __future__ import annotations

import re

import pytest
from nbrun import (POINTS, check_effects, check_reference, check_structure, count_images, executed_chapter,
                   said, table_rows)

NAME = "11_capstone.ipynb"
SEEDS, RATES = 3, ("0.001", "0.01")  # quick mode
STEPS = ["2 grid search", "3 augmentation", "4 L2 + early stopping", "5 pretrained, top layers", "ResNet from scratch"]

executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    calls = ("only_classes(", "check_data(", "sweep(", "summarize(", "plot_ci(", "learning_curves(", "compare_curves(",
             "pipeline(", "preview(", "paired_gain(", "effect(", "say(", "pretrained_resnet(", "freeze(", "unfreeze(",
             "replace_head(", "trainable_table(", "explore(train", "drift_trials(", "LabelShift(", "by_mode(")
    markdown = "\n".join(check_structure(NAME, calls))
    flat = " ".join(markdown.split())  # the prose wraps its lines anywhere
    for quote in ("high training accuracy but low validation accuracy",
                  "the batch size, the number of convolutional and dense layers, and the dropout rate",
                  "random rotations, flips, and scaling", "L2 regularization and early stopping",
                  "by unfreezing and retraining the top layers, while keeping the lower-level feature extractors frozen",
                  "significantly faster and more efficient than training the entire model from scratch",
                  "excellent accuracy on both the training and validation sets"):
        assert quote in flat, quote
    assert "*Myths* guide" in markdown and "*Boosting* guide" in markdown
    assert not re.search(r"\bseed (?:text|00\d)", markdown), "name the guides, not seeds"


def test_step_1_rate_and_gap(executed):
    notebook, text = executed
    sentence = said(text, "Step 1's rate, picked on validation, is")
    rate = re.search(r"is ([\d.e-]+)\. Over", sentence).group(1)
    assert rate in RATES, sentence
    train, valid, gap = (float(v) for v in re.findall(r"([\d.]+)%", sentence))
    assert gap == pytest.approx(train - valid, abs=0.11), sentence
    assert f"Over {SEEDS} seeds" in sentence
    assert count_images(notebook) >= 6, "images, rate screen, curves, augmentation, curves, test scores"


def test_the_grid_winner_is_the_top_of_its_table(executed):
    _, text = executed
    table = text[text.index("batch_size  stages  dropout"):].split("\n")[1:3]  # quick mode: two settings
    top = table[0].split()
    sentence = said(text, "The grid's winner")
    assert sentence.startswith(f"The grid's winner (batch_size {top[0]}, stages {top[1]}, dropout {float(top[2]):g})")
    best = float(re.search(r"scored ([\d.]+)% on validation in the grid", sentence).group(1))
    assert best == pytest.approx(100 * float(top[4]), abs=0.06)
    assert len(check_effects(sentence, seeds=SEEDS)) == 1


@pytest.mark.parametrize("start", ["Against step 2, the rotations", "Against step 3, L2 regularization",
                                   "Against step 4's CNN, the pretrained"])
def test_each_step_against_the_one_before(executed, start):
    _, text = executed
    sentence = said(text, start)
    assert len(check_effects(sentence, seeds=SEEDS)) == (2 if "pretrained" in start else 1)
    if "pretrained" in start:  # and the training time, in seconds: lower is better
        seconds = re.search(r"training time of a run by ([+-][\d.]+ \(95% CI [^)]+\))", sentence).group(1)
        mean, low, high = (float(v) for v in re.findall(r"[+-][\d.]+", seconds)[:3])
        assert low <= mean <= high and (("helps" in seconds) == (high < 0)), seconds
        top, whole = (float(v) for v in re.findall(r"\(([\d.]+) s against ([\d.]+) s", sentence)[0])
        assert mean == pytest.approx(top - whole, abs=0.11), "the difference of the two mean times (printed to 0.1 s)"


def test_the_score_on_test(executed):
    _, text = executed
    printed = text.split("**Recorded full-mode runs of chapter 11**")[0]  # not the recorded runs' fragile lines
    lines = dict(re.findall(r"\n(.+?) minus 1 basic CNN, test accuracy: (.+)", printed))
    assert list(lines) == STEPS, lines
    for found in lines.values():
        check_effects(found, seeds=SEEDS, comparisons=len(STEPS), whole=True)
    sentence = said(text, "The step with the best validation accuracy is")
    pick = re.search(r"is (.+?): [\d.]+% on its training images", sentence).group(1)
    assert pick in ["1 basic CNN", *STEPS], sentence
    clear = [s for s, found in lines.items() if re.fullmatch(POINTS, found).group(6).startswith("helps [")]
    assert sentence.rstrip().endswith(f"corrected for {len(STEPS)} comparisons: {', '.join(clear) or 'none'}."), sentence


def test_after_shipping(executed):
    _, text = executed
    table = dict(re.findall(r"\n(darker photos \(x0\.7\)|tilted \(up to 20°\)|mostly shoes \(80%\))\s+[-\d.]+\s+[-\d.]+"
                            r"\s+[-\d.]+\s+([\d.]+)", text))
    assert len(table) == 3, table
    sentence = said(text, "Against the same batches undrifted")
    assert len(check_effects(sentence, seeds=10)) == 3
    for name, share in table.items():
        assert f"{round(100 * float(share))}% of the {name} batches" in sentence, (name, share, sentence)
    panel = text[text.index("explore(train): 5 controls"):]
    assert re.search(r"augment\s+= True\b", panel) and re.search(r"lr\s+= 0\.001\b", panel), panel[:500]


def test_the_guides_claims_come_from_the_recorded_runs(executed):
    from nbhelpers import reference_runs

    _, text = executed
    block = text[text.index("measured (one thread)"):].split("\n\n")[0]
    rows = [line for line in block.splitlines()[1:] if re.match(r"\s*(Boosting|Optimize|Improve|Myths)\s", line)]
    assert len(rows) == 14, rows
    for row in rows:
        chapter = re.search(r"\s(\d\d)\s", row).group(1)
        shown = reference_runs(chapter)
        labels = [r["label"] for r in shown.records]
        lines = shown.verdicts[f"line {labels[0]}"]
        match = [i for i, line in lines.items() if line and line in row]
        assert match, row
        second = shown.verdicts.loc[match[-1], labels[1]] if len(labels) > 1 else "(not recorded)"
        assert row.rstrip().endswith(second), (row, second)


def test_what_we_measured_and_reference(executed):
    _, text = executed
    rows = table_rows(text, "2 grid search minus the step before, validation accuracy")
    assert len(rows) == 4 + 2 + 5 + 3, rows
    assert all("[quick mode: not evidence]" in line for line in rows)
    check_reference(text, "11")
    check_effects(said(text, "Dropout 0.3 against none, validation accuracy:"), seeds=3)
