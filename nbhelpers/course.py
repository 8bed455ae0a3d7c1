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
import statistics
import threading
import time
from pathlib import Path

from ._checks import Instance, Optional, Satisfies, checked
from ._files import CLONE, atomic_write

VERDICT = re.compile(r"(helps|hurts|no clear effect|widens|shrinks|no clear change|too few seeds to tell \(\d+\))"
                     r"( \(borderline\))?")
CLAUSE_END = re.compile(r";|[.!?](?=\s+[A-Z`(])")  # a verdict's clause starts after the last of these
NUMBER = re.compile(r"[-+−]?\d[\d,.]*%?")
FIELDS = ("chapter", "cell", "k", "verdict", "subject", "line")


def verdicts_in_text(text: str) -> list[dict]:
    """Every verdict in ``text``: the clause it closes (``line``: from the line's start or its
    last ``;`` or sentence end, numbers and all, at most 160 characters) and its ``subject``, the same clause with
    numbers and other verdicts blanked out, which lines a verdict up with its counterpart in
    another run even where that run printed more or fewer verdicts before it.

    >>> [v["subject"] for v in verdicts_in_text("flips, +1.3 points: helps; EMA, -0.1 points: no clear effect")]
    ['flips, # points:', 'EMA, # points:']
    """
    found = []
    for line in text.splitlines():
        for k, match in enumerate(VERDICT.finditer(line)):
            before = line[:match.start()]
            clause = before[max((m.end() for m in CLAUSE_END.finditer(before)), default=0):]
            shown = " ".join((clause + match.group(0)).split())
            subject = NUMBER.sub("#", VERDICT.sub("<v>", clause))
            found.append({"k": k, "verdict": match.group(0), "subject": " ".join(subject.split())[-100:],
                          "line": shown if len(shown) <= 160 else "…" + shown[-159:]})
    return found


def notebook_verdicts(notebook, chapter: str) -> list[dict]:
    """The verdicts an executed notebook printed, cell by cell. A cell that shows recorded runs
    (``reference_runs(``) prints their verdicts, not this run's, and is left out."""
    rows = []
    for index, cell in enumerate(notebook.cells):
        if SHOWS_REFERENCE in "".join(cell.get("source", "")):
            continue
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


class LoadSampler:
    """The CPU's one-minute load average, sampled every ``every`` seconds while a chapter runs:
    wall times on a shared machine depend on what else ran, so a record says how busy it was.

    >>> with LoadSampler(every=60) as load:
    ...     pass
    >>> load.summary()[:13] in ("load average ", "")
    True
    """

    def __init__(self, every: float = 15.0):
        self.every, self.samples, self._stop = every, [], threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _read(self) -> None:
        if hasattr(os, "getloadavg"):  # not on Windows
            self.samples.append(os.getloadavg()[0])

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self._read()

    def __enter__(self) -> LoadSampler:
        self._read()
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    def summary(self) -> str:
        """``'load average 0.9 to 3.1 (median 2.0)'``, or ``''`` where the system has none."""
        if not self.samples:
            return ""
        low, high, middle = min(self.samples), max(self.samples), statistics.median(self.samples)
        return f"load average {low:.1f} to {high:.1f} (median {middle:.1f})"


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
    out = Path(out or CLONE / "build" / label).resolve()  # the kernels run in the notebooks' folder
    out.mkdir(parents=True, exist_ok=True)
    reused = len(list((out / "cache").glob("*.json")))
    if reused:
        conditions["cached runs read back"] = reused
        print(f"{out / 'cache'} holds {reused} runs from an earlier run: they are read back, so the wall "
              "times below count only what trains now (a new --out measures everything)", flush=True)
    env = {"NBH_QUICK": "1" if quick else "0", "NBH_CACHE": str(out / "cache"),
           **({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)} if threads else {})}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernels inherit the environment of this process
    times, rows = {}, []
    try:
        for path in paths:
            print(f"running {path.name} ({label}) ...", flush=True)
            notebook = nbformat.read(path, as_version=4)
            start, load = time.perf_counter(), LoadSampler()
            try:
                with load:
                    NotebookClient(notebook, timeout=3600, kernel_name="python3",
                                   resources={"metadata": {"path": str(folder)}}).execute()
            finally:
                times[path.name] = time.perf_counter() - start
                notebook.metadata["nbhelpers_run"] = {**conditions, "wall seconds": round(times[path.name], 1),
                                                      **({"load": load.summary()} if load.samples else {})}
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


def line_up(runs: list[list[dict]]) -> list[tuple[tuple, list[dict | None]]]:
    """The verdicts of several runs side by side: ``[(key, [each run's verdict or None]), ...]``
    in the order the chapters printed them. A verdict's key is its chapter, cell, ``subject`` and
    how many verdicts of that subject came before it in the cell, so one extra verdict in a run
    does not shift the rest (rows of an older run without subjects key by their index ``k``)."""
    keyed, order = [], {}
    for verdicts in runs:
        seen: dict[tuple, int] = {}
        mine = {}
        for v in verdicts:
            base = (v.get("chapter", ""), int(v["cell"]), v.get("subject") or str(v["k"]))
            key = (*base, seen.get(base, 0))
            seen[base] = key[-1] + 1
            mine[key] = v
            order[key] = max(order.get(key, 0), int(v["k"]))  # the later place, where extra verdicts come first
        keyed.append(mine)
    keys = sorted(order, key=lambda key: (key[0], key[1], order[key], key[3]))
    return [(key, [mine.get(key) for mine in keyed]) for key in keys]


def compare_runs(a: Path, b: Path) -> list[str]:
    """The verdicts two runs disagree on, one line each (chapter, cell, both lines); [] if none."""
    rows_a, rows_b = read_verdicts(a), read_verdicts(b)
    both = {r["chapter"] for r in rows_a} & {r["chapter"] for r in rows_b}  # chapters that ran in both
    lines = []
    shared = [[r for r in rows if r["chapter"] in both] for rows in (rows_a, rows_b)]
    for (chapter, cell, *_), (x, y) in line_up(shared):
        if x is None or y is None or x["verdict"] != y["verdict"]:
            lines.append(f"{chapter} cell {cell}: {x['line'] if x else '(absent)'}\n    vs {y['line'] if y else '(absent)'}")
    return lines


# ---- Recorded runs: what a chapter printed in full mode, kept in the repository ----

REFERENCE = CLONE / "reference"  # reference/<chapter>/<label>.json, committed with the course
SHOWS_REFERENCE = "reference_runs("  # a code cell that shows the recorded runs does not change a result


def code_fingerprint(notebook) -> str:
    """12 hex digits of SHA-256 over the chapter's code cells: prose and outputs do not change a
    verdict, code does. The cell that shows the recorded runs is left out, so adding it does not
    make the runs it shows look out of date."""
    import hashlib

    sources = ("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")  # a str or a list of lines
    code = [source for source in sources if SHOWS_REFERENCE not in source]
    return hashlib.sha256("\n\x00".join(code).encode()).hexdigest()[:12]


def record_run(run: Path, reference: Path | None = None) -> list[Path]:
    """Keep each executed chapter of ``run`` (a folder ``course`` wrote) as
    ``reference/<chapter>/<label>.json``: its conditions, wall time, code fingerprint and every
    verdict it printed. A later run with the same label replaces the earlier one."""
    import nbformat

    written = []
    for path in sorted(Path(run).glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        conditions = notebook.metadata.get("nbhelpers_run")
        if not conditions:
            raise SystemExit(f"record: {path} has no run conditions; was it written by `python -m nbhelpers course`?")
        label = f"{conditions['mode']}-{conditions['torch threads']}-thread"
        record = {"chapter": path.name[:2], "notebook": path.name, "label": label, "conditions": conditions,
                  "code": code_fingerprint(notebook), "verdicts": notebook_verdicts(notebook, path.name[:2])}
        target = Path(reference or REFERENCE) / path.name[:2] / f"{label}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda f: f.write(json.dumps(record, indent=1).encode()))
        written.append(target)
    return written


class ReferenceRuns:
    """The recorded full-mode runs of one chapter, lined up verdict by verdict.

    ``records`` are the runs (conditions, wall time, whether they ran this version of the
    chapter's code); ``verdicts`` has one row per verdict a run printed, one column per run
    (the verdict word) and ``agree``; ``fragile`` the rows where runs disagree. Shown in a
    notebook, it renders as Markdown: which runs, how many verdicts agreed, and the lines of
    those that did not.
    """

    def __init__(self, chapter: str, records: list[dict], current_code: str | None):
        import pandas as pd

        self.chapter, self.records = chapter, records
        for record in records:
            record["current"] = current_code is not None and record["code"] == current_code
        labels = [r["label"] for r in records]
        rows = []
        for (_, cell, subject, n), found in line_up([r["verdicts"] for r in records]):
            words = [f["verdict"] if f else "(absent)" for f in found]
            rows.append({"cell": cell, "subject": subject, "n": n, **dict(zip(labels, words)),
                         **{f"line {label}": f["line"] if f else "" for label, f in zip(labels, found)},
                         "agree": len(set(words)) == 1})
        self.verdicts = pd.DataFrame(rows, columns=["cell", "subject", "n", *labels, *(f"line {x}" for x in labels), "agree"])
        self.fragile = self.verdicts[~self.verdicts["agree"]].reset_index(drop=True)

    def _describe(self, record: dict) -> str:
        c = record["conditions"]
        version = "this version of the chapter's code" if record["current"] else "an earlier version of the chapter's code"
        threads = f"{c['torch threads']} torch thread{'' if c['torch threads'] == 1 else 's'}"
        load = f", {c['load']}" if c.get("load") else ""  # runs recorded before it was sampled have none
        return f"`{record['label']}` ({c['started'][:10]}, {threads}, {c['wall seconds'] / 60:.1f} min{load}, {version})"

    def _repr_markdown_(self) -> str:
        if not self.records:
            return (f"No recorded runs of chapter {self.chapter} yet: `make course` runs it in full mode and "
                    "`python -m nbhelpers record build/<run>` keeps its verdicts in `reference/`.")
        runs = ", ".join(self._describe(r) for r in self.records)
        full = all(r["conditions"]["mode"] == "full" for r in self.records)
        head = f"**Recorded {'full-mode ' if full else ''}runs of chapter {self.chapter}** (not this run): {runs}."
        if len(self.records) < 2:
            return head + " One run cannot tell which verdicts are fragile; a second, on another thread count, can."
        if len({r["code"] for r in self.records}) > 1:  # cell by cell, other code is no second run of the same
            return head + (" They ran different versions of the chapter's code, so their verdicts are not compared; "
                           "run it again on the other thread count to tell which verdicts are fragile.")
        total, same = len(self.verdicts), int(self.verdicts["agree"].sum())
        if same == total:
            return head + f" All {total} verdicts came out the same in every run."
        labels = [r["label"] for r in self.records]
        lines = [head + f" {same} of {total} verdicts came out the same in every run; these {total - same} did not, "
                 "so read them as fragile:", "", "| " + " | ".join(labels) + " |", "|" + "---|" * len(labels)]
        for row in self.fragile.to_dict("records"):
            lines.append("| " + " | ".join((row[f"line {x}"] or "(absent)").replace("|", "/") for x in labels) + " |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._repr_markdown_()


FOLDER = Optional(Instance((str, os.PathLike), "a folder path"))


@checked(chapter=Satisfies(lambda c: isinstance(c, str) and len(c) == 2 and c.isdigit(),
                           "a chapter number of two digits, as a string, e.g. '04'", bad=[4, "4", "04_regularization"]),
         reference=FOLDER, notebooks=FOLDER)
def reference_runs(chapter: str, reference: Path | None = None, notebooks: Path | None = None) -> ReferenceRuns:
    """The recorded full-mode runs of ``chapter`` (``"04"``), verdict by verdict.

    A verdict that one run printed and another, with the same code on another thread count,
    did not is fragile: the chapter's reader should not lean on it. Each run says whether it
    ran this version of the chapter's code.

    >>> reference_runs("99").records
    []
    """
    folder = Path(reference or REFERENCE) / chapter
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    chapters = sorted(Path(notebooks or CLONE / "notebooks").glob(f"{chapter}_*.ipynb"))
    # the notebook's JSON as it is: nbformat would cost 3 s of imports (jsonschema) in every chapter
    current = code_fingerprint(json.loads(chapters[0].read_text())) if chapters else None
    return ReferenceRuns(chapter, records, current)
