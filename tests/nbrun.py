"""Run a course notebook in quick mode and read back what it printed (shared by notebook tests)."""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute ``notebooks/<name>`` top to bottom with NBH_QUICK=1 on one CPU thread; return it with outputs."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # OMP_NUM_THREADS=1: on a CPU shared with other jobs, torch's two OpenMP threads wait on
    # each other and small networks train 5-10x slower; the kernel inherits the setting.
    env = {"NBH_QUICK": "1", "NBH_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment of this process
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    return notebook


def text_of(notebook) -> str:
    """Everything the notebook printed or displayed as text, in order."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def count_images(notebook) -> int:
    """How many PNG outputs the notebook produced (figures, plots)."""
    return sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
