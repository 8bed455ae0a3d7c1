"""Chapter 10 (monitoring and troubleshooting) runs top to bottom in quick mode, and what it prints
holds up: the darker batch's sentence names the features its table flagged; the false-alarm
sentence's rates are shares, its effect lies in its interval, agrees with its verdict (lower is
better) and is the difference of the two rates it names; each drift's accuracy change lies in its
interval, and the costliest and mildest drifts named are the table's; the retraining sentence's
effects agree with their intervals and its counts with the policies (a schedule of every 5
batches retrains twice in 12); `check_data` flags raw pixels; the troubleshooting table gives
each broken run's flags and each fix's effect, which the exploding-gradient sentence repeats;
both one-batch runs are stated; "What we measured" repeats the printed effects with the
quick-mode note. Quick mode trains a tiny CNN and tiny MLPs for a few epochs, so the sizes and
directions of the effects are not checked (the notebook renders them from the run)."""

from __future__ import annotations

import re

import pytest
from nbrun import (check_effects, check_reference, check_structure, count_images, executed_chapter,
                   said, table_rows)

NAME = "10_monitoring_and_troubleshooting.ipynb"
TRIALS, STREAMS, SEEDS, BATCHES = 10, 3, 3, 12  # quick mode

executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    calls = ("image_summary(", "drift_table(", "drift_words(", "drift_trials(", "LabelShift(", "summarize(",
             "plot_ci(", "paired_gain(", "effect(", "say(", "explore(drift_check", "DriftMonitor(", "replay(",
             "drifting_stream(", "plot_stream(", "check_data(", "diagnose(", "GradientNorms(", "plot_layers(",
             "overfit_batch(", "grad_clip=1.0", "show_images(", "by_mode(")
    markdown = "\n".join(check_structure(NAME, calls))
    for quote in ("Continual monitoring and retraining are essential for maintaining model performance over time",
                  "Implement automated monitoring systems to detect performance degradation and trigger",
                  "Data preprocessing pipelines should also be monitored for drift",
                  "What if my neural network is not converging during training?",
                  "Reduce the learning rate or use a learning rate scheduler",
                  "Implement gradient clipping if necessary", "Experiment with different batch sizes"):
        assert quote in " ".join(markdown.split()), quote  # the prose wraps its lines anywhere
    assert "*Boosting* guide" in markdown and "*Myths* guide" in markdown
    assert "this chapter does not test" in markdown, "the guide's untested step is marked"
    assert "https://mitpress.mit.edu/9780262170055/dataset-shift-in-machine-learning/" in markdown
    assert not re.search(r"\bseed (?:text|00\d)", markdown), "name the guides, not seeds"


def test_the_darker_batch_names_what_its_table_flagged(executed):
    _, text = executed
    sentence = said(text, "One batch of 200 test images made darker")
    table = text[:text.index(sentence)].rsplit("feature", 1)[1]
    drifted = re.findall(r"\d\s+(\w+)\s+(?:KS|chi-square)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(True|False)", table)
    assert len(drifted) == 5, table
    named = [f for f, flag in drifted if flag == "True"]
    assert (f"{len(named)} drifted ({', '.join(named)};" in sentence) if named else "none drifted" in sentence


def test_false_alarms(executed):
    _, text = executed
    sentence = said(text, "With no drift at all, the tests flagged")
    rates = [int(v) / 100 for v in re.findall(r"(\d+)%", sentence.split(". At ")[0])]
    assert len(rates) == 6 and all(0 <= r <= 1 for r in rates), sentence
    (mean, *_), = check_effects(sentence, seeds=TRIALS, lower=True)
    tests_small, psi_small = rates[0], rates[2]
    assert float(mean) / 100 == pytest.approx(psi_small - tests_small, abs=0.011), "the effect is the rates' difference"


def test_what_each_drift_cost(executed):
    _, text = executed
    block = text[text.index("The costliest drift was"):]
    sentence = said(text, "The costliest drift was")
    costs = dict(re.findall(r"\n\s*(.+? minus none), accuracy\s+([+-][\d.]+) points", text))
    assert len(costs) == 5, costs
    worst = min(costs, key=lambda k: float(costs[k]))
    mildest = max(costs, key=lambda k: float(costs[k]))
    assert sentence.startswith(f"The costliest drift was {worst[:-len(' minus none')]}:"), (sentence, costs)
    assert f"The mildest was {mildest[:-len(' minus none')]}:" in sentence, (sentence, costs)
    assert len(check_effects(sentence, seeds=TRIALS)) == 2 and block


def test_the_panel_ran_the_setting_set_from_code(executed):
    _, text = executed
    panel = text[text.index("explore(drift_check): 3 controls"):]
    assert re.match(r"explore\(drift_check\): 3 controls, 1 run so far \(0 from the cache\)", panel), panel[:200]
    assert re.search(r"rotation\s+= 30\b", panel), panel[:400]


def test_retraining(executed):
    _, text = executed
    sentence = said(text, "After the drift began, retraining on the alarm changed the accuracy by")
    assert len(check_effects(sentence, seeds=STREAMS)) == 2
    alarm, every = (float(v) for v in re.findall(r"with ([\d.]+)(?: retrainings a stream on average)?[;.]", sentence))
    assert every == BATCHES // 5 and 0 <= alarm <= BATCHES, sentence
    share = int(re.search(r"on (\d+)% of the batches before it", sentence).group(1))
    assert 0 <= share <= 100


def test_troubleshooting(executed):
    notebook, text = executed
    assert re.search(r"inputs are scaled\s+False\s+mean 72\.\d, standard deviation 89\.\d", text), "raw pixels flagged"
    fixes = re.findall(r"\n\s*(.+?), (fixed|clipped|lower rate) minus broken, validation accuracy\s+([+-][\d.]+) points "
                       r"\(95% CI ([+-][\d.]+) to ([+-][\d.]+)\)", text)  # "What we measured"
    assert [(s, v) for s, v, *_ in fixes] == [("inputs not scaled", "fixed"), ("learning rate far too high", "fixed"),
                                               ("vanishing gradients", "fixed"), ("exploding gradients", "clipped"),
                                               ("exploding gradients", "lower rate"),
                                               ("labels shuffled apart from inputs", "fixed")], fixes
    sentence = said(text, "`diagnose` flagged at least one check of")
    k, n = (int(v) for v in re.search(r"of (\d+) of the (\d+) broken runs", sentence).groups())
    assert n == 5 and 0 <= k <= n
    printed = check_effects(sentence, seeds=SEEDS)
    assert [p[:3] for p in printed] == [tuple(f[2:5]) for f in fixes[3:5]], "the sentence repeats the table"
    flags = re.search(r"For the shuffled labels, `diagnose` flagged: (.+?)\.", sentence).group(1)
    assert "validation beats chance" in flags
    one = said(text, "On one batch of 32 images, the MLP reached")
    assert len(re.findall(r"(\d+)% training accuracy|(\d+)% with", one)) == 2
    assert count_images(notebook) >= 5, "drifted images, false alarms, drift costs, the stream, gradient flow"


def test_what_we_measured_and_reference(executed):
    _, text = executed
    rows = table_rows(text, "PSI > 0.25 minus tests, false alarms at 50 images a batch")
    assert len(rows) == 1 + 5 + 2 + 6, rows
    assert all("[quick mode: not evidence]" in line for line in rows)
    check_reference(text, "10")
    assert "Of 13 features, 1 drifted (alcohol;" in text, "the shifted sensor is found, and only it"
