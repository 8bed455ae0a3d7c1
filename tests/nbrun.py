"""Run a course notebook in quick mode and read back what it printed (shared by notebook tests)."""

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, timeout: int = 600, cache: Path | None = None) -> nbformat.NotebookNode:
    """Execute ``notebooks/<name>`` top to bottom with NBH_QUICK=1 on one CPU thread; return it with outputs.

    ``cache``: an empty folder for the runs `sweep` stores, so that every run trains here instead
    of being read back from an earlier test's cache."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # OMP_NUM_THREADS=1: on a CPU shared with other jobs, torch's two OpenMP threads wait on
    # each other and small networks train 5-10x slower; the kernel inherits the setting.
    env = {"NBH_QUICK": "1", "NBH_DEVICE": "cpu", "OMP_NUM_THREADS": "1", **({"NBH_CACHE": str(cache)} if cache else {})}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment of this process
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    return notebook


def executed_chapter(name: str):
    """The module-scoped fixture of a chapter's test: ``(notebook, text)``, the chapter run once in
    quick mode with a run cache of its own (``executed = executed_chapter(NAME)`` in the module)."""

    @pytest.fixture(scope="module")
    def executed(tmp_path_factory):
        notebook = run_notebook(name, cache=tmp_path_factory.mktemp("cache"))
        return notebook, text_of(notebook)

    return executed


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


CI = r"([+-]\d+\.\d) points \(95% CI ([+-]\d+\.\d) to ([+-]\d+\.\d)(?:, corrected for \d+ comparisons)?\)"  # ci_text
# A verdict as effect() prints it: the word, maybe "(borderline)", and in quick mode its note.
VERDICT = (r"((?:helps|hurts|no clear effect|widens|shrinks|no clear change|too few seeds to tell \(\d+\))"
           r"(?: \(borderline\))?(?: \[quick mode: not evidence\])?)")


GAP_WORDS = {"helps": "widens", "hurts": "shrinks", "no clear effect": "no clear change"}  # chapter 04's gap verdicts


QUICK_NOTE = "*(Quick mode: these numbers show that the code runs, not the effect; full mode measures it.)*"  # say's
POINTS = (r"([+-]\d+\.\d) points \(95% CI ([+-]\d+\.\d) to ([+-]\d+\.\d)(?:, corrected for (\d+) comparisons)?, "
          rf"(\d+) seeds: {VERDICT}\)")  # an effect in points, as `versus` and `effect` print it
NUMBER = (r"([+-]\d+\.\d{3}) \(95% CI ([+-]\d+\.\d{3}) to ([+-]\d+\.\d{3})(?:, corrected for (\d+) comparisons)?, "
          rf"(\d+) seeds: {VERDICT}\)")  # an effect on a metric that is not a share (epochs, seconds, cost)


def check_effects(text: str, pattern: str = POINTS, *, seeds: int = 3, comparisons: int | None = None,
                  lower: bool = False, whole: bool = False) -> list[tuple]:
    """Every effect `effect` or `versus` printed in ``text`` (``whole``: ``text`` is one effect and
    nothing else), each checked: its mean inside its interval, its verdict agreeing with the
    interval, ``seeds`` seeds, the quick-mode note and, unless ``comparisons`` is None, the
    correction (``0``: none). ``lower``: a cost (epochs, seconds, error), where "helps" needs the
    whole interval below zero. Returns each one's (mean, low, high, comparisons, seeds, verdict)."""
    if whole:
        one = re.fullmatch(pattern, text)
        found = [one.groups()] if one else []
    else:
        found = re.findall(pattern, text)
    assert found, text
    for mean, low, high, corrected, n, verdict in found:
        assert int(n) == seeds and verdict.endswith("[quick mode: not evidence]"), (text, n, verdict)
        if comparisons is not None:
            assert corrected == (str(comparisons) if comparisons else ""), (text, corrected)
        if lower:
            mean, low, high = (f"{-float(v)}" for v in (mean, high, low))
        check_interval(mean, low, high, verdict)
    return found


def firm_word(phrase: str, pattern: str = POINTS) -> str:
    """The verdict of one printed effect without the quick-mode note: "helps", "helps (borderline)", ..."""
    return re.fullmatch(pattern, phrase).group(6).split(" [")[0]


def table_rows(text: str, first: str) -> list[str]:
    """The non-blank lines of a printed table, from the line holding ``first`` to the next blank line."""
    block = text[text.index(first):]
    return [line for line in block[:block.index("\n\n")].splitlines() if line.strip()]


def said(text: str, start: str) -> str:
    """The sentence `say` rendered that begins with ``start`` (up to its quick-mode note)."""
    begin = text.index(start)
    return text[begin:text.index(QUICK_NOTE, begin)]


def check_interval(mean: str, low: str, high: str, verdict: str | None = None, gap: bool = False) -> float:
    """The mean of a printed ``ci_text``, after checking it lies in its interval and agrees with
    ``verdict`` (in gap words if ``gap``)."""
    m, lo, hi = float(mean), float(low), float(high)
    assert lo <= m <= hi, (m, lo, hi)
    if verdict is not None:
        verdict = verdict.replace(" [quick mode: not evidence]", "").replace(" (borderline)", "")
        expected = {"helps" if lo > 0 else "hurts" if hi < 0 else "no clear effect"}
        if lo == 0.0 or hi == 0.0:  # a bound printed as 0.0 may be just above or just below 0
            expected |= {"helps" if lo == 0.0 else "hurts", "no clear effect"}
        assert verdict in {GAP_WORDS[e] if gap else e for e in expected}, (m, lo, hi, verdict)
    return m


def check_structure(name: str, calls: tuple[str, ...], max_lines: int = 16) -> list[str]:
    """The committed notebook has no outputs, a title with its run time, the standard sections in
    order, explicit imports, the helper ``calls`` it is meant to show, and short code cells.
    Returns its markdown cells for further checks."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), "commit without outputs"
    raw = json.loads((NOTEBOOKS / name).read_text())  # as committed: nbformat.read would fill missing ids in
    assert all("id" in c for c in raw["cells"]), "every cell needs an id (nbformat 4.5): give a new cell one"
    assert notebook.cells[0].source.startswith(f"# {name[:2]}") and "**How long it runs:**" in notebook.cells[0].source
    for placeholder in ("FULLTIME", "QUICKTIME", "READING_"):
        assert placeholder not in "\n".join(markdown), f"{placeholder}: fill it in from the measured run"
    headings = re.findall(r"^## (.+)$", "\n".join(markdown), flags=re.M)
    for wanted in ("What we measured", "Use it on your own data", "Exercises"):
        assert wanted in headings, headings
    assert notebook.cells[-1].cell_type == "markdown" and notebook.cells[-1].source.startswith("## Exercises")
    joined = "\n".join(code)
    for call in calls:
        assert call in joined, call
    assert "import *" not in joined and "from nbhelpers import" in joined
    if name[:2] != "00":  # every chapter with verdicts shows which of them held on a second recorded run
        assert f'reference_runs("{name[:2]}")' in joined, "show the recorded runs: reference_runs(chapter)"
    assert not re.search(r"(from|import) nbhelpers\.", joined), "import the top-level names: from nbhelpers import ..."
    longest = max(len(c.splitlines()) for c in code)
    assert longest <= max_lines, f"a code cell of {longest} lines: move it into a helper"
    return markdown


def check_reference(text: str, chapter: str) -> None:
    """The chapter showed its recorded full-mode runs, with the counts ``reference_runs`` computes."""
    from nbhelpers import reference_runs

    shown = reference_runs(chapter)
    assert f"Recorded full-mode runs of chapter {chapter}" in text or f"No recorded runs of chapter {chapter}" in text
    if len({r["code"] for r in shown.records}) > 1:  # one run re-recorded before the other: nothing to compare
        assert "They ran different versions of the chapter's code" in text
    elif len(shown.records) >= 2:
        same, total = int(shown.verdicts["agree"].sum()), len(shown.verdicts)
        assert (f"All {total} verdicts came out the same" if same == total else f"{same} of {total} verdicts") in text
