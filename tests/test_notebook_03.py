"""Chapter 03 (architecture) runs top to bottom in quick mode, and what it prints holds up.

Quick mode trains for an epoch or two on part of the data, so the sizes of the effects are not
checked here: their verdicts say "[quick mode: not evidence]". Checked are the results that do
not depend on training length (the gradient flow at initialization, dead units at a large step,
the budgeted widths, the pruning and quantization table); that every interval printed contains
its mean and agrees with its verdict; and that every sentence `say` renders carries the numbers
and verdicts the cells above it printed, with words that agree with those verdicts.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import (CI, NOTEBOOKS, VERDICT, check_interval, check_reference, check_structure, count_images,
                   executed_chapter)

NAME = "03_architecture.ipynb"
CALLS = ("width_for_budget(", "layer_gradients(", "ActivationStats(", "plot_layers(", "shuffle_seq=shuffled", "RNN(",
         "AttentionPooling(", "prune(", "quantize(", "size_speed_table(", "explore(", "sweep(", "paired_gain(", "by_mode(",
         "say(", "verdict(", 'comparisons="all"', "images=")
EFFECT = CI[:-2] + r", (\d+) seeds: " + VERDICT + r"\)"  # an effect as say() writes it: mean, low, high, seeds, verdict
QUICK_NOTE = "*(Quick mode: these numbers show that the code runs, not the effect; full mode measures it.)*"
PERCENT = r"(\d+\.\d)%"


executed = executed_chapter(NAME)


def printed(text: str, label: str) -> tuple[str, ...]:
    """The effect a cell printed as ``label: <ci_text>, <verdict>``: (mean, low, high, verdict), checked."""
    found = re.search(rf"{re.escape(label)}: {CI}, {VERDICT}", text)
    assert found, label
    check_interval(*found.groups())
    return found.groups()


def sentence(text: str, start: str) -> str:
    """The sentence `say` rendered that begins with ``start``, up to its quick-mode note."""
    found = re.search(re.escape(start) + r".*?" + re.escape(QUICK_NOTE), text, flags=re.S)
    assert found, start
    return found.group(0)


def said(text: str, before: str) -> tuple[str, ...]:
    """The effect written right after ``before`` in a sentence: (mean, low, high, verdict), checked."""
    found = re.search(re.escape(before) + EFFECT, text)
    assert found, before
    mean, low, high, seeds, verdict = found.groups()
    check_interval(mean, low, high, verdict)
    assert seeds == "3", seeds
    return mean, low, high, verdict


def firm(verdict: str) -> str:
    """The verdict's word where prose may state it: clear and not borderline; else ''."""
    word = verdict.split(" [")[0]
    return word if word in ("helps", "hurts") else ""


def phrase(verdict: str, words: dict[str, str]) -> str:
    """The phrase a sentence should use for ``verdict``: a borderline one reads as no clear effect."""
    return words[firm(verdict)]


def test_structure_of_the_committed_notebook():
    markdown = check_structure(NAME, CALLS)
    notebook = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    joined = "\n".join(markdown)
    assert not re.search(r"\bseeds? 00\d|seed texts?|seeds'? (?:advice|anecdote)", joined, flags=re.I)
    for guide in ("*Optimize* guide", "*Myths* guide", "*Boosting*", "*Improve* guide"):
        assert guide in joined, guide
    cited = [p for p in re.split(r"(?<=[.!?])\s+", joined) if "68%" in p or "human expert got 96%" in p]
    assert cited and all("](https://arxiv.org/abs/2011.14439)" in p for p in cited), "published figures cite the paper"
    for full_seeds in ("MANY_SEEDS = by_mode(full=tuple(range(10))", "RNN_SEEDS = by_mode(full=tuple(range(5))"):
        assert full_seeds in code, full_seeds
    assert "16-layer" not in joined and "20-layer" not in joined, "quick mode draws other depths: render them"


def test_depth_at_a_fixed_budget(executed):
    _, text = executed
    for name in ("Fashion-MNIST, 200,000", "MNIST-1D, 20,000"):
        widths = re.search(rf"{name} weights: width by depth \{{(.+?)\}}", text).group(1)
        values = [int(w) for w in re.findall(r"\d+: (\d+)", widths)]
        assert len(values) == 2 and values[0] > values[1], "a deeper net at the same budget is narrower"
    effects = {}
    for name in ("Fashion-MNIST", "MNIST-1D"):
        found = re.search(rf"{name}: highest mean at depth (\d+) \(([\d.]+)%\); depth 4 vs depth 1: ", text)
        assert found and found.group(1) in ("1", "4") and 10 < float(found.group(2)) <= 100
        effects[name] = printed(text, f"{name}: highest mean at depth {found.group(1)} ({found.group(2)}%); "
                                      "depth 4 vs depth 1")
    words = sentence(text, "Over 3 seeds, with the same number of weights, the 4-layer MLP")
    assert said(words, "against the one-hidden-layer one: ") == effects["Fashion-MNIST"]
    assert said(words, "on Fashion-MNIST, ") == effects["MNIST-1D"]
    found = re.search(r"clearly above the one-hidden-layer net: (\S+) \(Fashion-MNIST\) and (\S+) \(MNIST-1D\); "
                      r"clearly below: (\S+) and (\S+)\. So here, deeper plain MLPs (.+?)\.", words)
    above, below = dict(zip(effects, found.groups()[:2])), dict(zip(effects, found.groups()[2:4]))
    for name, (*_, verdict) in effects.items():  # quick mode compares one deeper net: depth 4
        assert above[name] == ("4" if firm(verdict) == "helps" else "none"), (name, verdict, above)
        assert below[name] == ("4" if firm(verdict) == "hurts" else "none"), (name, verdict, below)
    assert found.group(5) == ("did not pay" if set(above.values()) == {"none"} else "paid at the depths clearly above")


def test_gradient_flow_and_dead_units(executed):
    _, text = executed
    shown = dict(re.findall(r"'(\w+)': '([\d.e+-]+)'", re.search(r"layer 10, at initialization: (\{.+\})", text)[1]))
    ratios = {k: float(v) for k, v in shown.items()}
    assert set(ratios) == {"relu", "leaky_relu", "elu", "silu", "gelu", "tanh", "sigmoid"}
    assert ratios["sigmoid"] < 1e-4 and all(ratios["sigmoid"] < r / 100 for k, r in ratios.items() if k != "sigmoid")
    words = sentence(text, "At the initial weights, the first layer's gradient as a share")
    assert dict(re.findall(r"(\w+) ([\d.]+e[+-]\d+)", words.split(". The smallest")[0])) == shown
    assert f"The smallest, sigmoid's, is {shown['sigmoid']}: its first layer gets practically no signal." in words
    dead = {k: float(v) for k, v in re.findall(r"'((?:relu|leaky_relu), lr=[\d.e-]+)': '([\d.]+)%'", text)}
    assert dead["relu, lr=0.03"] > dead["relu, lr=0.001"], "a larger step kills more ReLUs"
    assert dead["leaky_relu, lr=0.03"] == dead["leaky_relu, lr=0.001"] == 0.0
    # over three seeds: dead units counted, and whether the two remedies pay in accuracy
    swept = re.search(r"ReLUs dead at the end: \{'lr=0.001': '(\d+)%', 'lr=0.03': '(\d+)%'\}", text)
    assert int(swept[2]) > int(swept[1]), "a larger step kills more ReLUs, over three seeds too"
    leaky, step = printed(text, "leaky_relu vs relu at lr=0.03"), printed(text, "relu, lr=0.001 vs lr=0.03")
    words = sentence(text, "At `lr=0.03`, ")
    assert words.startswith(f"At `lr=0.03`, {swept[2]}% of the ReLU units had died by the end (mean over 3 seeds; "
                            f"{swept[1]}% at `lr=0.001`)")
    assert said(words, "cannot die, against ReLU: ") == leaky and said(words, "with ReLU: ") == step
    paid = {"helps": "paid", "hurts": "cost accuracy", "": "made no clear difference"}
    assert f"So here, Leaky ReLU {phrase(leaky[3], paid)} and the smaller step {phrase(step[3], paid)}." in words


def test_activations_in_a_deep_net(executed):
    _, text = executed
    table = text[text.index("valid_accuracy  dead_fraction"):text.index("gelu vs relu")]
    rows = {name: (float(acc), float(dead)) for name, acc, dead in re.findall(r"\n(\w+)\s+([\d.]+)\s+([\d.]+)", table)}
    assert len(rows) == 7, rows
    gelu, sigmoid = printed(text, "gelu vs relu"), printed(text, "sigmoid vs relu")
    assert "corrected for 6 comparisons" in text[text.index("gelu vs relu"):text.index("sigmoid vs relu")]
    words = sentence(text, "Over 3 seeds, the nets with the six activations other than the sigmoid")
    low, high = map(float, re.search(rf"ended between {PERCENT} and {PERCENT} validation accuracy", words).groups())
    family = [acc for name, (acc, _) in rows.items() if name != "sigmoid"]
    assert low == pytest.approx(100 * min(family), abs=0.051) and high == pytest.approx(100 * max(family), abs=0.051)
    assert ("gelu " in words) != gelu[3].startswith("no clear"), "the clear differences within the family are named"
    found = re.search(rf"The sigmoid net ended at {PERCENT}: ", words)
    assert float(found[1]) == pytest.approx(100 * rows["sigmoid"][0], abs=0.051)
    assert said(words, found[0]) == sigmoid
    dead = int(re.search(r"The ReLU net ended with (\d+)% of its units dead", words)[1])
    assert dead == pytest.approx(100 * rows["relu"][1], abs=0.51)


def test_batch_norm_and_skip_connections(executed):
    _, text = executed
    shown = dict(re.findall(r"'([\w +]+)': '([\d.e+-]+)'", re.search(r"layer 12, at initialization: (\{.+\})", text)[1]))
    assert list(shown) == ["plain", "batch norm", "skip", "batch norm + skip"]
    assert all(float(shown["plain"]) < float(v) / 10 for k, v in shown.items() if k != "plain"), "fixes keep the flow"
    effects = {name: printed(text, f"\n{name} vs plain") for name in ("batch norm", "skip", "batch norm + skip")}
    assert float(effects["batch norm + skip"][0]) > 0, "both fixes together train the deep plain net better, even briefly"
    words = sentence(text, "At the initial weights, the 12-layer plain net")
    fixed = [shown[k] for k in shown if k != "plain"]
    assert (f"first layer got {shown['plain']} of its last hidden layer's gradient; with batch norm, skips or both, "
            f"{min(fixed, key=float)} to {max(fixed, key=float)}.") in words
    plain_mean = float(re.search(r"\n\s+plain ([\d.]+) ", text)[1])
    worst, best = map(float, re.search(rf"the plain net ended between {PERCENT} and {PERCENT}", words).groups())
    assert worst - 0.051 <= 100 * plain_mean <= best + 0.051
    for name, before in (("batch norm", "against it, batch norm "), ("skip", "skip connections "),
                         ("batch norm + skip", "both ")):
        assert said(words, before) == effects[name], name
    helped = [name for name, e in effects.items() if firm(e[3]) == "helps"]
    assert f"{len(helped)} of the 3 fixes trained clearly better than the plain net" in words


def test_mnist1d_table_and_sequence_models(executed):
    _, text = executed
    sizes = {k: int(v) for k, v in re.findall(r"'([\w ,]+)': (\d+)", re.search(r"(\{'MLP'.+\}) weights", text).group(1))}
    for model, paper_size in (("MLP", 15_210), ("CNN", 5_200), ("GRU", 5_000)):
        assert abs(sizes[model] - paper_size) / paper_size < 0.15, (model, sizes[model])
    assert abs(sizes["GRU, small"] - sizes["RNN, tanh"]) / sizes["RNN, tanh"] < 0.05, "the gated net at the RNN's size"
    rows = re.findall(r"\n(MLP|CNN|GRU)\s+(0\.\d+)\s+(\d\.\d+)\s+(\d\.\d+)", text)
    assert [r[0] for r in rows[:3]] == ["MLP", "CNN", "GRU"] and [r[1] for r in rows[:3]] == ["0.68", "0.94", "0.91"]
    assert all(0 <= float(v) <= 1 for r in rows for v in r[2:])
    words = sentence(text, "Over 3 seeds, on the 1,000 test sequences: ")
    ours = re.search(rf"the MLP reached {PERCENT}, the CNN {PERCENT} and the GRU {PERCENT} \(the \[MNIST-1D paper\]"
                     r"\(https://arxiv.org/abs/2011.14439\) reports 68%, 94% and 91%\)", words)
    for (model, _, mean, _), value in zip(rows[:3], ours.groups()):
        assert float(value) == pytest.approx(100 * float(mean), abs=0.051), model
    for before in ("the CNN ", "the GRU ", "changed the MLP by ", "the CNN by ", "and the GRU by "):
        said(words, before)
    cnn = re.search(r"CNN, larger, batch norm: ([\d.]+)% test accuracy \(95% CI ([\d.]+)% to ([\d.]+)%\)", text)
    words = sentence(text, "Over 3 seeds the larger CNN reached ")
    place = re.search(r"\): (above|below|not clearly above or below) the human expert's 96% reported in the "
                      r"\[MNIST-1D paper\]\(https://arxiv.org/abs/2011.14439\)", words)[1]
    assert words.startswith(f"Over 3 seeds the larger CNN reached {cnn[1]}% test accuracy (95% CI {cnn[2]}% to {cnn[3]}%)")
    low, high = float(cnn[2]), float(cnn[3])
    assert place == ("above" if low > 96 else "below" if high < 96 else "not clearly above or below")


def test_recurrent_nets_and_attention(executed):
    _, text = executed
    best_lr = re.search(r"best learning rate by validation accuracy: \{(.+?)\}", text).group(1)
    assert all(f"'{model}'" in best_lr for model in ("RNN, sigmoid", "RNN, tanh", "GRU, small"))
    tanh = printed(text, "tanh vs sigmoid in the RNN, each at its best learning rate")
    gated = printed(text, "small GRU vs tanh RNN, each at its best learning rate")
    attention = printed(text, "attention pooling vs GRU")
    words = sentence(text, "Over 3 seeds, each at its best learning rate")
    assert said(words, "tanh against sigmoid ") == tanh
    confirmed = phrase(tanh[3], {"helps": "was confirmed", "hurts": "was contradicted", "": "could not be confirmed"})
    assert f'"significant improvement" {confirmed} here.' in words
    sizes = {k: int(v) for k, v in re.findall(r"'([\w ,]+)': (\d+)", re.search(r"(\{'MLP'.+\}) weights", text).group(1))}
    found = re.search(rf"of about the same size \(([\d,]+) weights against the RNN's ([\d,]+)\) reached {PERCENT}: ", words)
    assert [int(v.replace(",", "")) for v in found.groups()[:2]] == [sizes["GRU, small"], sizes["RNN, tanh"]]
    assert said(words, found[0]) == gated
    assert said(words, "over 3 seeds: ") == attention
    league = phrase(attention[3], {"helps": "ahead of the GRU", "hurts": "behind the GRU", "": "no difference these"})
    assert f"not evidence]), {league}" in words


def test_pruning_and_quantization_table(executed):
    _, text = executed
    table = text[text.index("model  parameters"):]
    row = r"\n\s*(.+?)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?=\n)"
    rows = {name: [float(v) for v in values] for name, *values in re.findall(row, table)}
    stored, latency, accuracy = ([values[i] for values in rows.values()] for i in (0, 4, 5))
    assert set(rows) == {"float32", "int8", "pruned 90%", "pruned 90%, tuned", "pruned 90%, tuned, int8"}, rows
    base, int8, pruned, tuned = rows["float32"], rows["int8"], rows["pruned 90%"], rows["pruned 90%, tuned"]
    assert len(set(stored)) == 1, "the same numbers stored, in other formats"
    assert int8[2] < 0.3 * base[2], "int8 weights: about a quarter of the file"
    assert pruned[1] == pytest.approx(0.1 * base[1], rel=0.01) and tuned[1] == pruned[1]
    assert pruned[3] < 0.3 * base[3] and pruned[2] == pytest.approx(base[2], rel=0.01), "zeros compress, only zipped"
    assert tuned[5] >= pruned[5], "fine-tuning with the masks in place wins accuracy back"
    assert all(t > 0 for t in latency) and all(0 <= a <= 1 for a in accuracy)
    both = re.search(r"pruned 90%, tuned, int8: (\d+)% of the zipped size", text)
    int8_change = re.search(r"\nint8: \d+% of the zipped size, ([+-]\d+\.\d) points of test accuracy", text)[1]
    timed = text[text.index("geometric mean and 95% interval over 3 rounds"):]
    multiples = dict(re.findall(r"\n(int8|pruned 90%, tuned|float32)\s+([\d.]+\s+[\d.]+\s+[\d.]+)(?=\n)", timed))
    assert multiples["float32"].split() == ["1.0", "1.0", "1.0"] or multiples["float32"].split() == ["1.00"] * 3
    words = sentence(text, "On this machine, in this run, one input at a time over 3 rounds: ")
    for name, before in (("int8", "int8 took "), ("pruned 90%, tuned", "tuned net ")):
        mean, low, high = (float(v) for v in multiples[name].split())
        assert 0 < low <= mean <= high, (name, mean, low, high)
        found = re.search(re.escape(before) + r"([\d.]+)x the float32 latency \(95% CI ([\d.]+) to ([\d.]+): "
                          r"(faster|slower|no clear difference)(?: \(borderline\))?\)", words)
        assert [float(v) for v in found.groups()[:3]] == pytest.approx([mean, low, high], abs=0.0051), name
        assert found[4] == ("slower" if low > 1 else "faster" if high < 1 else "no clear difference"), (name, found[4])
    assert f"int8 changed it by {int8_change} points" in words
    assert f"the zipped file is {both[1]}% of the original's" in words


def test_panel_and_measured_table(executed):
    notebook, text = executed
    panel = re.search(r"explore\(train_mlp\): 5 controls, (\d+) runs so far \((\d+) from the cache\)", text)
    assert panel and panel.group(1) == panel.group(2) == "16", "the panel's grid was swept first: nothing trains"
    start = re.search(r"what\s+effect\s+verdict\s+seeds", text)
    measured = text[start.start():]
    rows = re.findall(rf"{CI}\s+{VERDICT}\s+(\d+)", measured)
    assert len(rows) == 10
    for mean, low, high, verdict, seeds in rows:
        check_interval(mean, low, high, verdict)
        assert seeds == "3" and verdict.endswith("[quick mode: not evidence]")
    for what, label in (("sigmoid vs ReLU, 8-layer MLP", "sigmoid vs relu"),
                        ("batch norm + skip vs plain, 12 layers", "\nbatch norm + skip vs plain"),
                        ("attention pooling vs GRU on MNIST-1D", "attention pooling vs GRU")):
        found = re.search(rf"{re.escape(what)}\s+{CI}\s+{VERDICT}", measured)
        assert found and found.groups() == printed(text, label), what
    assert re.search(r"dead units at the end: \d+%", text)
    assert count_images(notebook) >= 9, "sequences, depth, gradient flows, activations, dead units, curves, attention"
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert text.count(QUICK_NOTE) == code.count("say(") > 0, "every rendered sentence says it is quick mode"


def test_the_chapter_shows_which_verdicts_held_on_its_recorded_runs(executed):
    check_reference(executed[1], "03")
