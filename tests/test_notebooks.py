"""Notebooks are committed without outputs and run top to bottom in quick mode; the values
they compute are checked, not only the absence of errors."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def run(name: str, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("NBH_QUICK", "1")
    monkeypatch.setenv("NBH_DEVICE", "cpu")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def text_of(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def count_images(notebook) -> int:
    return sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))


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


def test_00_setup_and_first_model(monkeypatch):
    notebook = run("00_setup_and_first_model.ipynb", monkeypatch)
    text = text_of(notebook)
    assert "Device:" in text and "cpu" in text
    hand = [float(v) for v in re.findall(r"epoch \d: validation accuracy ([\d.]+)%", text)]
    assert len(hand) == 2 and hand[1] > 65, hand
    assert re.search(r"epoch 2/2  train loss [\d.]+ acc [\d.]+%  valid loss", text), "fit printed its epoch lines"
    test_accuracy = float(re.search(r"test accuracy: ([\d.]+)%", text).group(1))
    assert test_accuracy > 70, test_accuracy
    own = float(re.search(r"own data: validation accuracy ([\d.]+)%", text).group(1))
    assert own > 70, own
    assert count_images(notebook) >= 3, "image grid, live curves and result.plot() drawn"
