"""Chapter 06 (hyperparameter optimization) runs top to bottom in quick mode, and what it prints
holds up: the random screen has its trials and importances that add up, and the sentence names
the parameter the importances put first; the isolation table's best rate per width is the one
the sentence states, and the width comparisons agree with their intervals; the log-uniform
draws fall below 1e-2 more often than the uniform ones; the re-run of the best and the median
trial on fresh seeds is stated with the searched score the table printed; the grid tried K
learning rates and random search K x K; every strategy of section 5 ran the grid's number of
trials, the strategies that do not prune consumed exactly trials x epochs, the cost-vs-quality
table's means lie in their intervals, and the sentence names the cheapest strategy and its
share of the grid's epochs as the table has them; the two worker processes ran every trial
once (the log of calls and the study agree, no number twice, neither worker is the notebook);
the panel ran its trials; "What we measured" repeats the printed effects with the quick-mode
note; the guides' GridSearchCV runs on TorchClassifier. Quick mode trains for three epochs on
400 images, so the sizes and directions of the effects are not checked (the notebook renders
them from the run)."""

from __future__ import annotations

import re

from nbrun import NUMBER, check_effects, check_reference, check_structure, count_images, executed_chapter, said

NAME = "06_hyperparameter_optimization.ipynb"
STRATEGIES = ("grid", "random", "TPE", "Hyperopt", "TPE + median", "TPE + Hyperband")
TRIALS, EPOCHS, K = 4, 3, 2  # quick mode: a 2 x 2 x 1 grid in section 5, 3 epochs, a 2 x 2 grid in section 4


executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    calls = ("search(", "trials_table(", "param_importances(", "plot_importance(", "isolation(", "plot_isolation(",
             "log_uniform(", "uniform(", "sweep(", "seeds=FRESH", "paired_gain(", 'comparisons="all"', "effect(",
             "say(", "by_mode(", 'strategy="grid"', 'strategy="random"', 'strategy="tpe"', 'strategy="hyperopt"',
             'pruner="median"', 'pruner="hyperband"', "workers=2", "plot_history(", 'x="epochs"', "plot_points(",
             "search_panel(", "panel.run()", "TorchClassifier(", "GridSearchCV(estimator=model, param_grid=param_grid")
    markdown = "\n".join(check_structure(NAME, calls))
    assert "https://github.com/google-research/tuning_playbook" in markdown
    for kind in ("scientific", "nuisance", "fixed", "Incremental tuning", "isolation plot"):
        assert kind in markdown, kind
    assert "KerasClassifier(build_fn=create_model, verbose=0)" in markdown, "the guide's code beside ours"
    assert 'storage="postgresql+psycopg://' in markdown and "python -m nbhelpers dashboard" in markdown
    for topic in ("Meta-learning", "AutoML", "Reinforcement learning"):
        assert topic in markdown, topic
    assert "None of them is tested in this chapter" in markdown
    assert not re.search(r"\bseed (?:text|00\d)", markdown), "name the guides, not seeds"


def test_which_parameters_matter(executed):
    _, text = executed
    shares = dict(re.findall(r"(\w+) (\d+)%", re.search(r"importance: (.+)", text).group(1)))
    assert set(shares) == {"lr", "width", "dropout", "weight_decay"}
    assert 98 <= sum(map(int, shares.values())) <= 102
    top, last = list(shares)[0], list(shares)[-1]
    sentence = said(text, "Over 10 random trials, the parameter")
    assert f"was `{top}` ({shares[top]}%); `{last}` explained least ({shares[last]}%)" in sentence, sentence
    best, worst, spread = re.search(r"best trial reached ([\d.]+)% and the worst ([\d.]+)%: ([\d.]+) points",
                                    sentence).groups()
    assert abs(float(best) - float(worst) - float(spread)) < 0.11
    assert "section 2's random search: 10 trials, 30 epochs" in text  # 10 trials x 3 epochs
    draws = said(text, "Of 100 draws")
    uniform, log = map(int, re.search(r"(\d+)% of the uniform ones and (\d+)% of the log-uniform", draws).groups())
    assert uniform < 25 < 50 < log, draws  # a tenth against two thirds, give or take the draws' noise


def test_isolation_table_and_the_width_comparisons(executed):
    _, text = executed
    rows = re.findall(r"\n\s+(32|128|512)\s+([\d.]+)\s+([\d.]+)\s+3\s+3", text)
    assert [w for w, *_ in rows] == ["32", "128", "512"], rows
    sentence = said(text, "The best learning rate was")
    for width, lr, _ in rows:
        assert f"`{float(lr):g}` at width {width}" in sentence, (width, lr, sentence)
    found = check_effects(sentence)
    assert len(found) == 2 and all(comparisons == "2" for _, _, _, comparisons, _, _ in found)
    assert f"both at width 32's rate (`lr={float(rows[0][1]):g}`)" in sentence


def test_the_best_trial_re_run_on_fresh_seeds(executed):
    _, text = executed
    top = re.search(r"\n\s+\d+\s+[\d.]+\s+(?:32|128|512)\s+[\d.]+\s+[\d.]+\s+([\d.]+) complete", text)
    sentence = said(text, "The best of 10 trials scored")
    assert f"scored {float(top.group(1)):.1%} in the search; re-run on 3 fresh seeds" in sentence, sentence
    found = check_effects(sentence)
    assert len(found) == 2 and all(c == "" for _, _, _, c, _, _ in found)  # no screen: nothing to correct


def test_grid_against_random_search(executed):
    _, text = executed
    sentence = said(text, "With 4 trials each, the grid tried")
    assert f"the grid tried {K} learning rates and random search {K * K}." in sentence, sentence
    assert len(check_effects(sentence)) == 2
    assert re.search(r"In the random trials of the first repetition `weight_decay` explained \d+% of the variation",
                     sentence), sentence


def test_cost_against_quality(executed):
    _, text = executed
    table = {}
    for name in STRATEGIES:
        row = re.search(rf"\n{re.escape(name)}\s+" + r"\s+".join([r"([\d.]+)"] * 10) + r"\n", text)
        assert row, name
        table[name] = [float(v) for v in row.groups()]
    for name, (v, vlo, vhi, t, tlo, thi, epochs, elo, ehi, pruned) in table.items():
        assert vlo <= v <= vhi and tlo <= t <= thi and elo <= epochs <= ehi, name
        assert epochs <= TRIALS * EPOCHS
        if "+" not in name:  # no pruner: every trial runs all its epochs
            assert epochs == TRIALS * EPOCHS and pruned == 0, name
    cheapest = min(table, key=lambda n: table[n][6])
    sentence = said(text, "Against random search, on the test accuracy")
    share = round(100 * table[cheapest][6] / table["grid"][6])
    assert f"The cheapest strategy was {cheapest}, at {share}% of the grid's epochs." in sentence, sentence
    found = check_effects(sentence)
    assert [c for *_, c, _, _ in found][:5] == ["5"] * 5 and len(found) == 7
    assert len(check_effects(sentence, NUMBER, lower=True)) == 2  # the epochs pruning saved
    for name in STRATEGIES[:1] + STRATEGIES[2:]:
        printed = re.search(rf"{re.escape(name)} minus random, test accuracy of the chosen setting: (.+)", text).group(1)
        assert f"{name} {printed}" in sentence, name


def test_two_workers_lose_no_trial_and_run_none_twice(executed):
    _, text = executed
    line = re.search(r"study: (\d+) trials \{(.+?)\}, numbers 0 to (\d+), (\d+) distinct; log: (\d+) "
                     r"calls from (\d+) processes \{'(\d+)': (\d+), '(\d+)': (\d+)\}; notebook process (\d+)", text)
    assert line, "the parallel section's line"
    n, states, last, distinct, calls, processes, pid_a, a, pid_b, b, notebook = line.groups()
    states = {k: int(v) for k, v in re.findall(r"'(\w+)': (\d+)", states)}
    assert set(states) <= {"complete", "pruned"} and sum(states.values()) == int(n), states  # none failed or lost
    assert n == distinct == calls and int(last) == int(n) - 1 and 6 <= int(n) <= 7
    assert processes == "2" and notebook not in (pid_a, pid_b) and int(a) + int(b) == int(n)
    assert "every call is a trial and every trial a call: True; settings run twice: 0" in text
    sentence = said(text, "The two workers ran")
    assert f"The two workers ran {a} and {b} trials. The study holds {n} trials with {n} distinct numbers" in sentence
    assert "none lost, none run twice" in sentence


def test_the_panel_what_we_measured_and_the_own_data(executed):
    notebook, text = executed
    assert re.search(r"tpe \+ median: 4 trials \(\d pruned\), \d+ epochs, best valid_accuracy [\d.]+ \(trial \d\)", text)
    table = text[text.index("width 512 minus 32, each at its own best lr"):]
    lines = table[:table.index("\n\n")].splitlines()
    rows = [re.fullmatch(r"\s*(.+?)\s+([+-]\d+\.\d+(?: points)? \(95% CI .+?\))\s+(.+?)\s{2,}(\d+)", line)
            for line in lines]
    assert all(rows) and len(rows) == 15, lines
    for what, _, verdict, seeds in (row.groups() for row in rows):
        assert verdict.endswith("[quick mode: not evidence]") and seeds == "3", (what, verdict)
    table_of = {row.group(1): row.group(2) for row in rows}
    printed = re.search(r"TPE \+ Hyperband minus TPE: epochs (.+?), 3 seeds", text).group(1) + ")"
    assert table_of["TPE + Hyperband minus TPE, epochs consumed"] == printed  # the table repeats the effect
    check_reference(text, "06")
    assert re.search(r"best of [67] trials: \{'lr': [\d.e-]+, 'width': (16|64)\}, valid accuracy [\d.]+%", text)
    best = re.search(r"Best: ([\d.]+) using \{'activation': '(relu|elu)', 'optimizer': '(adam|rmsprop)'\}", text)
    assert best and 0 < float(best.group(1)) <= 1
    assert count_images(notebook) >= 8, "importance, isolation, draws, re-runs, points, history, cost-quality, workers"
