"""Chapter 03 (architecture) runs top to bottom in quick mode, and what it prints holds up.

Quick mode trains for an epoch or two, so most effects are not checked here (their sizes are
the full-mode numbers quoted in the notebook). Checked are the ones that do not depend on
training length: the gradient flow at initialization (a deep sigmoid net's first layer gets
a vanishingly small gradient), dead units (a large learning rate kills ReLUs; Leaky ReLUs
cannot die), the budgeted widths, the pruning and quantization table, and that every interval
printed contains its mean and agrees with its verdict.
"""

from __future__ import annotations

import re

import pytest
from nbrun import CI, check_interval, check_structure, count_images, run_notebook, text_of

NAME = "03_architecture.ipynb"
CALLS = ("width_for_budget(", "layer_gradients(", "ActivationStats(", "plot_layers(", "shuffle_seq=shuffled", "RNN(",
         "AttentionPooling(", "prune(", "quantize(", "size_speed_table(", "explore(", "sweep(", "paired_gain(", "by_mode(")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = run_notebook(NAME, cache=tmp_path_factory.mktemp("cache"))
    return notebook, text_of(notebook)


def test_structure_of_the_committed_notebook():
    check_structure(NAME, CALLS)


def test_depth_at_a_fixed_budget(executed):
    _, text = executed
    for name in ("Fashion-MNIST, 200,000", "MNIST-1D, 20,000"):
        widths = re.search(rf"{name} weights: width by depth \{{(.+?)\}}", text).group(1)
        values = [int(w) for w in re.findall(r"\d+: (\d+)", widths)]
        assert len(values) == 2 and values[0] > values[1], "a deeper net at the same budget is narrower"
    for name in ("Fashion-MNIST", "MNIST-1D"):
        found = re.search(rf"{name}: best depth (\d+) \(([\d.]+)%\); depth 4 vs depth 1: {CI}, (.+)", text)
        assert found and found.group(1) in ("1", "4") and 10 < float(found.group(2)) <= 100
        check_interval(*found.groups()[2:])


def test_gradient_flow_and_dead_units(executed):
    _, text = executed
    ratios = dict(re.findall(r"'(\w+)': '([\d.e+-]+)'", re.search(r"at initialization: (\{.+\})", text).group(1)))
    ratios = {k: float(v) for k, v in ratios.items()}
    assert set(ratios) == {"relu", "leaky_relu", "elu", "silu", "gelu", "tanh", "sigmoid"}
    assert ratios["sigmoid"] < 1e-4 and all(ratios["sigmoid"] < r / 100 for k, r in ratios.items() if k != "sigmoid")
    dead = {k: float(v) for k, v in re.findall(r"'((?:relu|leaky_relu), lr=[\d.e-]+)': '([\d.]+)%'", text)}
    assert dead["relu, lr=0.03"] > dead["relu, lr=0.001"], "a larger step kills more ReLUs"
    assert dead["leaky_relu, lr=0.03"] == dead["leaky_relu, lr=0.001"] == 0.0
    found = re.search(rf"sigmoid vs relu: {CI}, (.+)", text)
    check_interval(*found.groups())


def test_batch_norm_and_skip_connections(executed):
    _, text = executed
    effects = {}
    for name in ("batch norm", "skip", "batch norm \\+ skip"):
        found = re.search(rf"\n{name} vs plain: {CI}, (.+)", text)
        effects[name] = check_interval(*found.groups())
    assert effects["batch norm \\+ skip"] > 0, "both fixes together train the deep plain net better, even briefly"


def test_mnist1d_table_and_sequence_models(executed):
    _, text = executed
    sizes = {k: int(v) for k, v in re.findall(r"'([\w ,]+)': (\d+)", re.search(r"(\{'MLP'.+\}) weights", text).group(1))}
    for model, paper_size in (("MLP", 15_210), ("CNN", 5_200), ("GRU", 5_000)):
        assert abs(sizes[model] - paper_size) / paper_size < 0.15, (model, sizes[model])
    rows = re.findall(r"\n(MLP|CNN|GRU)\s+(0\.\d+)\s+(\d\.\d+)\s+(\d\.\d+)", text)
    assert [r[0] for r in rows[:3]] == ["MLP", "CNN", "GRU"] and [r[1] for r in rows[:3]] == ["0.68", "0.94", "0.91"]
    assert all(0 <= float(v) <= 1 for r in rows for v in r[2:])
    best_lr = re.search(r"best learning rate by validation accuracy: \{(.+?)\}", text).group(1)
    assert "'RNN, sigmoid'" in best_lr and "'RNN, tanh'" in best_lr
    for label in ("tanh vs sigmoid in the RNN, each at its best learning rate", "attention pooling vs GRU"):
        check_interval(*re.search(rf"{label}: {CI}, (.+)", text).groups())
    assert re.search(r"CNN, larger, batch norm: [\d.]+% test accuracy \(95% CI", text)


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
    assert re.search(r"pruned 90%, tuned, int8: \d+% of the zipped size", text)


def test_panel_and_measured_table(executed):
    notebook, text = executed
    panel = re.search(r"explore\(train_mlp\): 5 controls, (\d+) runs so far \((\d+) from the cache\)", text)
    assert panel and panel.group(1) == panel.group(2) == "32", "the panel's grid was swept first: nothing trains"
    start = re.search(r"what\s+effect\s+verdict\s+seeds", text)
    rows = re.findall(rf"{CI}\s+(helps|hurts|no clear effect)\s+(\d)", text[start.start():])
    assert len(rows) == 6
    for mean, low, high, verdict, seeds in rows:
        check_interval(mean, low, high, verdict)
        assert seeds == "3"
    assert re.search(r"dead units at the end: \d+%", text)
    assert count_images(notebook) >= 9, "sequences, depth, gradient flows, activations, dead units, curves, attention"
