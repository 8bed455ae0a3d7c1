"""Chapter 08 (evaluation and interpretation) runs top to bottom in quick mode, and what it prints
holds up: the metrics sentence repeats the report's accuracy and its best and worst classes; the
breast-cancer table's means lie in their intervals, and the prevalence sentence's accuracy and
precision follow from its sensitivity and specificity; the temperature's direction matches its
words and leaves the accuracy as the bootstrap found it; the calibration, recipe, best-of-k and
threshold effects lie in their intervals and agree with their verdicts (lower is better for ECE,
NLL and cost), corrected where the sentences say; the bootstrap interval holds its value and the
stated width; the folds of the cross-validation cover the 569 tumours once and the sentence
repeats their mean and range; the threshold panel's counts add up to the test split and its cost
to the hand formula, and the slider set to the least cost shows it; the randomization sentence
follows its numbers; "What we measured" repeats the printed effects with the quick-mode note.
Quick mode trains tiny models for a few epochs, so the sizes and directions of the effects are
not checked (the notebook renders them from the run)."""

from __future__ import annotations

import re

import pytest
from nbrun import (NUMBER, POINTS, check_effects, check_reference, check_structure, count_images, executed_chapter,
                   firm_word, said)

NAME = "08_evaluation_and_interpretation.ipynb"
BOOT = r"([\d.]+)% \(95% CI ([\d.]+)% to ([\d.]+)%, (\d+) resamples\)"
SEEDS, SPLITS, REPEATS, TEST = 3, 3, 5, 1000  # quick mode: seeds of the MLPs and splits of the tumours; 1,000 test images


executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    calls = ("class_report(", "plot_confusion(", "confusion(", "classification_metrics(", "positive=MALIGNANT",
             "at_prevalence(", "plot_prevalence(", "fit_temperature(", "plot_reliability(", "bootstrap(",
             "plot_bootstrap(", "cross_validate(", "paired_gain(", "versus(", "effect(", "say(", "summarize(",
             "selection_bias(", "best_threshold(", "threshold_table(", "plot_threshold(", "threshold_panel(",
             "panel.threshold.value =", 'comparisons="all"', "by_mode(", "attribute(", "plot_attributions(",
             "randomization_check(", "plot_randomization(", "activation_maps(", "plot_activation_maps(", "embeddings(",
             "plot_tsne(", "confidently_wrong(", "plot_confidently_wrong(", "baseline=")
    markdown = "\n".join(check_structure(NAME, calls))
    for quote in ("Accuracy, precision, recall, F1-score, and AUC are common choices", "statistically significant",
                  "spurious", "Techniques like activation maps, saliency maps, and t-SNE"):
        assert quote in markdown, quote
    for source in ("https://arxiv.org/abs/1706.04599", "https://arxiv.org/abs/1810.03292"):
        assert source in markdown, source
    assert "this chapter does not test" in markdown, "the guide's untested claim is marked"
    assert not re.search(r"\bseed (?:text|00\d)", markdown), "name the guides, not seeds"


def test_metrics_and_the_report_agree(executed):
    _, text = executed
    report = {name: float(recall) for name, _, recall in
              re.findall(r"\n(macro avg|weighted avg)\s+([\d.]+)\s+([\d.]+)", text)[:2]}
    rows = {name.strip(): (float(p), float(r), float(f)) for name, p, r, f in
            re.findall(r"\n([A-Z][\w/ -]+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+\d+\s+[\d.]+\s+[\d.]+", text)}
    classes = {k: v for k, v in rows.items() if k not in ("macro avg", "weighted avg")}
    assert len(classes) == 10, list(rows)
    sentence = said(text, "On 1,000 test images the CNN's accuracy was")
    accuracy = float(re.search(r"accuracy was ([\d.]+)%", sentence).group(1))
    assert accuracy / 100 == pytest.approx(report["weighted avg"], abs=0.0006), "weighted recall is accuracy"
    worst = min(classes, key=lambda c: classes[c][2])
    best = max(classes, key=lambda c: classes[c][2])
    assert f"{classes[worst][2]:.3f} for {worst} to {classes[best][2]:.3f} for {best}" in sentence, sentence
    mistake = re.search(r"the most common mistake was a (.+?) taken for a (.+?) \((\d+) images\)", sentence)
    assert mistake and mistake[1] != mistake[2] and int(mistake[3]) > 0


def test_sensitivity_specificity_and_the_prevalence_arithmetic(executed):
    _, text = executed
    table = re.findall(r"\n\s*(accuracy|sensitivity|specificity|roc_auc)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)", text)
    assert [row[0] for row in table] == ["accuracy", "sensitivity", "specificity", "roc_auc"], table
    for _, mean, low, high, n in table:
        assert float(low) <= float(mean) <= float(high) and int(n) == SPLITS
    sentence = said(text, f"Pooled over the {SPLITS} test splits")
    sens, spec, acc, never, ppv = (float(v) / 100 for v in re.search(
        r"flagged ([\d.]+)% of malignant tumours and left ([\d.]+)% of benign ones alone.*right ([\d.]+)% of the time, "
        r"against ([\d.]+)% for never flagging anyone, and ([\d.]+)% of its flags", sentence).groups())
    assert acc == pytest.approx(0.01 * sens + 0.99 * spec, abs=0.0011) and never == pytest.approx(0.99)
    assert ppv == pytest.approx(0.01 * sens / (0.01 * sens + 0.99 * (1 - spec)), abs=0.06)  # from rounded inputs
    assert ("rule that never flags anyone above the model" in sentence) == (never > acc + 0.0005) or acc == never


def test_temperature_scaling_on_the_cnn_and_over_seeds(executed):
    _, text = executed
    sentence = said(text, "Fitted on the 600 validation images, the temperature was")
    t, how = re.search(r"temperature was ([\d.]+): the CNN was (\w+)", sentence).groups()
    expected = "overconfident" if float(t) > 1.1 else "underconfident" if float(t) < 0.9 else "close"
    assert how == expected, sentence
    kept = float(re.search(r"accuracy stayed at ([\d.]+)%", sentence).group(1))
    boot = said(text, "On its 1,000 test images the CNN's accuracy was")
    value, low, high, resamples = re.search(BOOT, boot).groups()
    assert float(value) == kept and float(low) <= kept <= float(high) and resamples == "2000"
    assert float(re.search(r"test images alone: ([\d.]+) points", boot).group(1)) == pytest.approx(
        float(high) - float(low), abs=0.11)
    seeds = said(text, f"Over {SEEDS} MLPs (one per seed), temperature scaling")
    assert len(check_effects(seeds, NUMBER, comparisons=0, lower=True)) == 2
    lo, hi = (float(v) for v in re.search(r"ran from ([\d.]+) to ([\d.]+)", seeds).groups())
    assert lo <= hi and ("overconfident" in seeds) == (lo > 1 or hi > 1)


def test_cross_validation_covers_every_tumour_once(executed):
    _, text = executed
    folds = re.findall(r"\n\s+(\d)\s+5\s+0\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text)
    assert [int(f[0]) for f in folds] == list(range(5)), folds
    assert all(int(tr) + int(va) == 569 for _, tr, va, *_ in folds) and sum(int(f[2]) for f in folds) == 569
    accuracy = [float(f[3]) for f in folds]
    sentence = said(text, "Over 5 folds, every tumour scored once")
    mean, low, high, fmin, fmax = (float(v) / 100 for v in re.search(
        r"averaged ([\d.]+)% \(95% interval ([\d.]+)% to ([\d.]+)%\); the folds ranged from ([\d.]+)% to ([\d.]+)%",
        sentence).groups())
    assert mean == pytest.approx(sum(accuracy) / 5, abs=0.0006) and low <= mean <= high
    assert (fmin, fmax) == (pytest.approx(min(accuracy), abs=0.0006), pytest.approx(max(accuracy), abs=0.0006))


def test_a_one_seed_win_under_scrutiny(executed):
    _, text = executed
    over = re.search(r"weight decay minus as is, test_accuracy: (.+)", text).group(1)
    check_effects(over, comparisons=0)
    seed, one = re.search(r"seed (\d) alone, weight decay minus as is, test images bootstrapped: (.+)", text).groups()
    mean, low, high = (float(v) for v in re.fullmatch(r"([+-][\d.]+) points \(95% CI ([+-][\d.]+) to ([+-][\d.]+), "
                                                      r"2000 resamples\)", one).groups())
    assert low <= mean <= high
    sentence = said(text, f"On seed {seed}, where it looked best of the {SEEDS} seeds")
    assert f"changed the test accuracy by {one}" in sentence
    assert f"it changed it by {over.split(', 3 seeds')[0]}" in sentence
    assert ("looks clear of zero" in sentence) == (low > 0), sentence
    word = firm_word(re.search(POINTS, over).group(0))
    expected = {"helps": "held up over the seeds", "hurts": "pointed the wrong way"}.get(word, "cannot be told from zero")
    assert expected in sentence


def test_the_best_of_k_is_rescored_on_other_images(executed):
    _, text = executed
    sentence = said(text, "The winner of 3 equally good runs, picked on 100 validation images")
    most, one = check_effects(sentence, seeds=REPEATS, comparisons=0)
    word = most[5].split(" [")[0]
    assert ("promised more than it delivered" in sentence) == word.startswith("hurts"), sentence
    assert ("only just clears zero" in sentence) == (word == "hurts (borderline)"), sentence


def test_thresholds_judged_on_test_and_the_panel(executed):
    _, text = executed
    sentence = said(text, "With a missed cancer costing 10 false alarms")
    low, high, median = (float(v) for v in re.search(r"ranged from ([\d.]+) to ([\d.]+) over the 3 splits \(median "
                                                     r"([\d.]+)\)", sentence).groups())
    assert 0 <= low <= median <= high <= 1 and "the cost rule says 0.091" in sentence
    costs = check_effects(sentence, NUMBER, comparisons=2, lower=True)
    sensitivity = check_effects(sentence, comparisons=2)
    assert len(costs) == 2 and len(sensitivity) == 2
    helped = any(c[5].split(" [")[0] == "helps" for c in costs)
    assert ("paid off on tumours it was not chosen on" in sentence) == helped
    shown = re.findall(r"threshold ([\d.]+): TP (\d+), FP (\d+), TN (\d+), FN (\d+);.*?cost (\d+) x 1 \+ (\d+) x 10 = "
                       r"(\d+) \(least (\d+), at threshold ([\d.]+)\)", text)
    assert len(shown) == 2 and shown[0][0] == "0.50", shown
    tumours = int(re.search(r"breast cancer: 3 splits of \d+ validation and (\d+) test tumours", text).group(1))
    for t, tp, fp, tn, fn, fp_again, fn_again, cost, least, best in shown:
        tp, fp, tn, fn, cost, least = map(int, (tp, fp, tn, fn, cost, least))
        assert (fp, fn) == (int(fp_again), int(fn_again)) and cost == fp + 10 * fn and least <= cost
        assert tp + fp + tn + fn == tumours
    moved = shown[1]
    assert moved[0] == moved[9] and int(moved[7]) == int(moved[8]), "the slider at the least cost shows it"


def test_interpretation_sentences(executed):
    _, text = executed
    sentence = said(text, "With every layer randomized, the maps' rank correlation")
    values = [float(v) for v in re.findall(r"(-?[\d.]+) for (?:saliency|integrated gradients|grad cam)", sentence)]
    assert len(values) == 3 and all(-1 <= v <= 1 for v in values)
    assert ("Every method changed with the weights" in sentence) == all(v < 0.5 for v in values)
    knn = said(text, "A 5-nearest-neighbour classifier on the same 300 test images")
    channels = re.search(r"CNN with channels \((\d+), (\d+), (\d+)\)", text).group(3)
    assert f"CNN's {channels} features" in knn, "the CNN's features are its last stage's channels, pooled"
    wrong = said(text, "The 16 most confident mistakes were made with confidence from")
    lo, hi, n = re.search(r"from ([\d.]+)% to ([\d.]+)%.*\((\d+) of 16\)", wrong).groups()
    assert float(lo) <= float(hi) and 1 <= int(n) <= 16


def test_what_we_measured_and_the_figures(executed):
    notebook, text = executed
    block = text[text.index("temperature scaling, test ECE (MLPs)"):]
    lines = block[:block.index("\n\n")].splitlines()
    rows = [re.fullmatch(r"\s*(.+?)\s+([+-]\d+\.\d+(?: points)? \(95% CI .+?\))\s+(.+?)\s{2,}(\d+)", line)
            for line in lines]
    assert all(rows), [line for line, row in zip(lines, rows) if not row]
    rows = {r[1]: (r[2], r[3], int(r[4])) for r in rows}
    assert len(rows) == 2 + 1 + 3 + 4, list(rows)
    assert all(verdict.endswith("[quick mode: not evidence]") for _, verdict, _ in rows.values())
    over = re.search(r"weight decay minus as is, test_accuracy: (.+?), 3 seeds", text).group(1) + ")"
    assert rows["weight decay minus as is, test accuracy (over seeds)"][0] == over
    own = re.search(r"\nT ([\d.]+), threshold ([\d.]+): sensitivity ([\d.]+)%, specificity ([\d.]+)%, test accuracy "
                    + BOOT, text)
    assert own and float(own[1]) > 0 and 0 <= float(own[2]) <= 1
    assert count_images(notebook) >= 16, "confusion, prevalence, reliability (2), bootstrap, folds, seeds, best of k, " \
                                         "threshold (2), attributions, randomization, activations, t-SNE (2), mistakes"


def test_the_chapter_shows_which_verdicts_held_on_its_recorded_runs(executed):
    check_reference(executed[1], "08")
