"""Notebooks are committed without outputs and run top to bottom in quick mode; the values
they compute are checked, not only the absence of errors."""

import re

import nbformat
import pytest
from nbrun import NOTEBOOKS, count_images, run_notebook, text_of

ALL = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [i for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert dirty == [], f"{path.name}: cells {dirty} have outputs; clear them before committing"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "import *" not in source
    assert notebook.cells[-1].cell_type == "markdown" and "Exercises" in notebook.cells[-1].source


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_the_header_states_the_recorded_full_mode_time(path):
    """The full-mode time a chapter's header gives is its recorded one-thread run's (``reference/``),
    so the header cannot go stale when the chapter is run and recorded again."""
    from nbhelpers import reference_runs

    header = nbformat.read(path, as_version=4).cells[0].source
    assert "**How long it runs:**" in header, path.name
    one = next((r for r in reference_runs(path.name[:2]).records if r["label"] == "full-1-thread"), None)
    if one is None:
        assert "full mode (to be measured" in header, "no recorded full-mode run: the header must not give a time"
    else:
        minutes = one["conditions"]["wall seconds"] / 60
        assert f"**How long it runs:** full mode {minutes:.1f} minutes" in header, (minutes, header[:600])


def test_00_setup_and_first_model(monkeypatch, tmp_path):
    monkeypatch.setenv("NBH_CACHE", str(tmp_path / "cache"))  # the sweep trains here, not from an old cache
    notebook = run_notebook("00_setup_and_first_model.ipynb")
    text = text_of(notebook)
    assert "Device:" in text and "cpu" in text
    hand = [float(v) for v in re.findall(r"epoch \d: validation accuracy ([\d.]+)%", text)]
    assert len(hand) == 2 and hand[1] > 65, hand
    assert re.search(r"epoch 3/3  train loss [\d.]+ acc [\d.]+%  valid loss", text), "fit printed its epoch lines"
    test_accuracy = float(re.search(r"test accuracy: ([\d.]+)%", text).group(1))
    assert test_accuracy > 70, test_accuracy
    own = float(re.search(r"own data: validation accuracy ([\d.]+)%", text).group(1))
    assert own > 70, own
    assert count_images(notebook) >= 3, "image grid, live curves and result.plot() drawn"
    best = re.search(r"best of (\d+) runs: lr=([\d.e-]+), width=(\d+), validation accuracy ([\d.]+)%", text)
    assert best and best[1] == "12" and float(best[2]) in (1e-3, 1e-2) and float(best[4]) > 65, best
    assert "explore(train_mlp): 2 controls, 12 runs so far (12 from the cache)" in text, "panel scrubs the sweep"
    # the sentences under the results are rendered from them, quick-mode note included
    said = re.search(r"classify (\d+)% of the validation images", text)
    assert said and int(said[1]) == round(hand[1]), (said, hand)
    cnn = re.search(r"scored ([\d.]+)% on the test images against ([\d.]+)%: ([+-][\d.]+) points, from one seed", text)
    assert cnn and float(cnn[1]) == test_accuracy, (cnn, test_accuracy)
    assert abs(float(cnn[1]) - float(cnn[2]) - float(cnn[3])) < 0.11
    per_width = dict((int(w), float(lr)) for lr, w in re.findall(r"`([\d.e-]+)` \(width (\d+)\)", text))
    assert sorted(per_width) == [16, 64, 256] and per_width[int(best[3])] == float(best[2]), (per_width, best[0])
    assert text.count("*(Quick mode: these numbers show that the code runs, not the effect") == 3
