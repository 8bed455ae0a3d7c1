"""The reference run: every chapter executed top to bottom, kept with the conditions it ran under.

``make course`` (``python -m nbhelpers course``) runs the chapters in full mode and writes
each executed notebook to ``build/<label>/``, where ``<label>`` names the mode and the torch
thread count (``full-1-thread``). Beside them: ``RUN.md`` (machine, threads, versions, the
wall time of every chapter) and ``verdicts.tsv``, every verdict the chapters printed, in
order. Each run trains anew in its own cache (``build/<label>/cache``), so a second run
measures again instead of reading the first one back. ``python -m nbhelpers verdicts A B``
compares two runs' verdicts (say, one thread against two): a verdict that differs is fragile,
and its chapter must say so.

>>> [v["verdict"] for v in verdicts_in_text("flip minus none: +1.0 points (95% CI +0.2 to +1.8, 5 seeds: helps)")]
['helps']
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import platform
import re
import time
from pathlib import Path

from ._files import CLONE, atomic_write

VERDICT = re.compile(r"(helps|hurts|no clear effect|widens|shrinks|no clear change|too few seeds to tell \(\d+\))"
                     r"( \(borderline\))?")
FIELDS = ("chapter", "cell", "k", "verdict", "line")


def verdicts_in_text(text: str) -> list[dict]:
    """Every verdict in ``text``, with the line it stands on (numbers and all)."""
    found = []
    for line in text.splitlines():
        for k, match in enumerate(VERDICT.finditer(line)):
            found.append({"k": k, "verdict": match.group(0), "line": " ".join(line.split())[:160]})
    return found


def notebook_verdicts(notebook, chapter: str) -> list[dict]:
    """The verdicts an executed notebook printed, cell by cell."""
    rows = []
    for index, cell in enumerate(notebook.cells):
        text = "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))
        for n, found in enumerate(verdicts_in_text(text)):
            rows.append({"chapter": chapter, "cell": index, **found, "k": n})
    return rows


def _conditions(threads: int | None, quick: bool) -> dict:
    import torch

    from ._version import __version__

    return {"started": datetime.datetime.now().isoformat(timespec="seconds"), "mode": "quick" if quick else "full",
            "torch threads": threads or torch.get_num_threads(), "machine": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpu cores": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
            "python": platform.python_version(), "torch": torch.__version__, "nbhelpers": __version__}


def run_course(quick: bool = False, threads: int | None = None, chapters: list[str] | None = None,
               out: Path | None = None, notebooks: Path | None = None) -> Path:
    """Execute the chapters of ``notebooks`` (the course's; all, or those whose numbers are in
    ``chapters``) into ``out``; return it. Stops at the first chapter that fails, after
    writing what ran so far."""
    import nbformat
    from nbclient import NotebookClient

    folder = Path(notebooks or CLONE / "notebooks")
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if chapters:
        unknown = sorted(set(chapters) - {p.name[:2] for p in paths})
        if unknown:
            raise SystemExit(f"course: no chapter {', '.join(unknown)}; there are " + ", ".join(p.name[:2] for p in paths))
        paths = [p for p in paths if p.name[:2] in chapters]
    conditions = _conditions(threads, quick)
    label = f"{conditions['mode']}-{conditions['torch threads']}-thread"
    out = Path(out or CLONE / "build" / label)
    out.mkdir(parents=True, exist_ok=True)
    env = {"NBH_QUICK": "1" if quick else "0", "NBH_CACHE": str(out / "cache"),
           **({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)} if threads else {})}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernels inherit the environment of this process
    times, rows = {}, []
    try:
        for path in paths:
            print(f"running {path.name} ({label}) ...", flush=True)
            notebook = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            try:
                NotebookClient(notebook, timeout=3600, kernel_name="python3",
                               resources={"metadata": {"path": str(folder)}}).execute()
            finally:
                times[path.name] = time.perf_counter() - start
                notebook.metadata["nbhelpers_run"] = {**conditions, "wall seconds": round(times[path.name], 1)}
                atomic_write(out / path.name, lambda f: f.write(nbformat.writes(notebook).encode()))
                rows += notebook_verdicts(notebook, path.name[:2])
                _write_record(out, conditions, times, rows)
            print(f"  {times[path.name]:.0f} s, {sum(r['chapter'] == path.name[:2] for r in rows)} verdicts", flush=True)
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    return out


def _write_record(out: Path, conditions: dict, times: dict, rows: list[dict]) -> None:
    lines = [f"# Reference run: {conditions['mode']} mode, {conditions['torch threads']} torch thread(s)", "",
             "| condition | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in conditions.items()), "",
             "| chapter | wall time |", "|---|---|", *(f"| {name} | {s / 60:.1f} min |" for name, s in times.items()),
             "", f"{len(rows)} verdicts in `verdicts.tsv`; compare two runs with `python -m nbhelpers verdicts A B`."]
    atomic_write(out / "RUN.md", lambda f: f.write(("\n".join(lines) + "\n").encode()))
    table = io.StringIO()
    writer = csv.DictWriter(table, FIELDS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(out / "verdicts.tsv", lambda f: f.write(table.getvalue().encode()))
    atomic_write(out / "run.json", lambda f: f.write(json.dumps({**conditions, "seconds": times}, indent=1).encode()))


def read_verdicts(run: Path) -> list[dict]:
    with open(Path(run) / "verdicts.tsv", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t"))


def compare_runs(a: Path, b: Path) -> list[str]:
    """The verdicts two runs disagree on, one line each (chapter, cell, both lines); [] if none."""
    rows_a, rows_b = read_verdicts(a), read_verdicts(b)
    both = {r["chapter"] for r in rows_a} & {r["chapter"] for r in rows_b}  # chapters that ran in both
    first = {(r["chapter"], r["cell"], r["k"]): r for r in rows_a if r["chapter"] in both}
    second = {(r["chapter"], r["cell"], r["k"]): r for r in rows_b if r["chapter"] in both}
    lines = []
    for key in sorted(first.keys() | second.keys()):
        x, y = first.get(key), second.get(key)
        if x is None or y is None or x["verdict"] != y["verdict"]:
            lines.append(f"{key[0]} cell {key[1]}: {x['line'] if x else '(absent)'}\n    vs {y['line'] if y else '(absent)'}")
    return lines
