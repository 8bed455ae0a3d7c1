"""`python -m nbhelpers doctor | data | course | verdicts | record | workspace | dashboard`: the course from a terminal.

``doctor`` prints versions, the device that will be used and why, which data sets are
available where, and what to do about anything missing. ``data`` prints the data part
only. ``course`` runs every notebook top to bottom into ``build/`` with the conditions it
ran under; ``verdicts A B`` lists the verdicts two such runs disagree on; ``record RUN``
keeps a run's verdicts in ``reference/``, where each chapter shows which of them held (see
`nbhelpers.course`).
``workspace DIR`` copies the chapters a learner has not copied yet into DIR (what `make lab`
opens; see `nbhelpers.workspace`). ``dashboard [STORAGE]`` serves optuna-dashboard, a web UI
of the studies in STORAGE (what `search` takes: a journal file, an SQLite file, a database
URL; default: the course's SQLite file), on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

PACKAGES = ("torch", "torchvision", "fastai", "numpy", "pandas", "scikit-learn", "matplotlib", "seaborn",
            "ipywidgets", "jupyterlab", "tqdm", "mnist1d")


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def data_lines() -> list[str]:
    from .data import data_report

    lines = ["Data:"]
    for entry in data_report():
        mark = "ok  " if entry["available"] else "MISSING"
        lines.append(f"  {mark:7} {entry['name']:<28} {entry['where']}")
        if not entry["available"] and entry.get("hint"):
            lines.append(f"          -> {entry['hint']}")
    return lines


def doctor_lines() -> list[str]:
    lines = [f"nbhelpers doctor (Python {platform.python_version()} at {sys.executable})", "Versions:"]
    missing = []
    for package in PACKAGES:
        version = _version(package)
        lines.append(f"  {package:<14} {version or 'MISSING'}")
        if version is None:
            missing.append(package)
    if missing:
        lines.append(f"  -> install what is missing with `make lab` or `pip install -e .` ({', '.join(missing)})")
    return lines + device_lines() + data_lines()


def device_lines() -> list[str]:
    """The device and why, its precision, the CPU threads and quick mode; advice where the CPU is used."""
    from .device import amp_dtype, device_report, quick_mode

    device, why = device_report()
    dtype = amp_dtype(device)
    lines = ["Device:", f"  {device} ({why})",
             f"  mixed precision: {str(dtype).replace('torch.', '') if dtype else 'off (float32)'}",
             *thread_lines(),
             f"  quick mode (NBH_QUICK): {'on' if quick_mode() else 'off'}"]
    if device.type == "cpu":
        lines.append(cpu_advice())
    return lines


def cpu_advice() -> str:
    """What to do when training runs on the CPU: it depends on the torch build and on the GPU seen.

    A CUDA build without a GPU is the default install on Linux (torch from the package index
    brings about 4 GB of CUDA libraries); a CPU-only build with an NVIDIA GPU needs a CUDA build.
    """
    import torch

    if torch.cuda.is_available():
        return "  -> a CUDA GPU is there, but NBH_DEVICE keeps training on the CPU: unset it to use the GPU."
    slow = "everything runs on the CPU; full-mode chapters take minutes each."
    if torch.version.cuda:
        return (f"  -> this torch is a CUDA build (CUDA {torch.version.cuda}) but sees no NVIDIA GPU/driver, so {slow} "
                "On a laptop without one, the CPU-only wheel saves ~4 GB: make clean-venv && make lab TORCH=cpu. "
                "With an NVIDIA GPU, check its driver: nvidia-smi (README, GPU notes).")
    return (f"  -> this torch is a CPU-only build, so {slow} "
            "With an NVIDIA GPU, install a CUDA build of torch (README, GPU notes).")


def thread_lines() -> list[str]:
    """How many CPU threads torch uses, set by whom, and the course's policy (one; README, CPU threads)."""
    import torch

    count, wanted = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS", "").strip()
    lines = [f"  CPU threads: {count} ({f'OMP_NUM_THREADS={wanted}' if wanted else 'torch default, one per core'})",
             "  thread policy: one for the course's small nets (a second thread gains up to ~1.7x on an idle CPU and "
             "costs several times over when another program uses a core; the chapters' times assume one). make lab "
             "sets OMP_NUM_THREADS=1 unless you set it; make lab THREADS=2 for 2."]
    if not wanted and count > 1:
        lines.append("  -> outside make lab, start Jupyter as OMP_NUM_THREADS=1 jupyter lab to train as the "
                     "chapters were timed.")
    return lines


def doctor() -> None:
    """Print versions, the device that will be used and why, and which data sets are where."""
    print("\n".join(doctor_lines()))


def serve_dashboard(storage: str | None, port: int) -> int:
    """optuna-dashboard on the studies in ``storage``, bound to 127.0.0.1; returns when it is stopped."""
    from .hpo import open_storage
    from .hpo.storage import default_file, describe_storage, kind_of

    path = default_file() if storage is None else Path(storage)
    if kind_of(storage) in ("sqlite", "journal") and "://" not in str(storage or "") and not path.exists():
        print(f"dashboard: no studies at {path} yet; run a search with this storage first.", file=sys.stderr)
        return 2
    try:
        handle = open_storage(storage)
    except ValueError as error:
        print(f"dashboard: {error}", file=sys.stderr)
        return 2
    from optuna_dashboard import run_server

    print(f"optuna-dashboard on {describe_storage(storage)}: http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
    try:
        run_server(handle, host="127.0.0.1", port=port)
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbhelpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="versions, device, data and what to fix")
    sub.add_parser("data", help="which data sets are available where")
    course = sub.add_parser("course", help="run every notebook top to bottom")
    course.add_argument("--quick", action="store_true", help="quick mode: small data, few epochs")
    course.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    course.add_argument("--chapters", nargs="*", help="only these chapters, e.g. 01 03")
    course.add_argument("--out", type=Path, help="folder for the executed notebooks (default build/<mode>-<n>-thread)")
    verdicts = sub.add_parser("verdicts", help="the verdicts two course runs disagree on")
    verdicts.add_argument("runs", nargs=2, type=Path, help="two folders written by `course`")
    record = sub.add_parser("record", help="keep a course run's verdicts in reference/, where chapters show them")
    record.add_argument("runs", nargs="+", type=Path, help="folders written by `course`")
    workspace = sub.add_parser("workspace", help="copy the chapters into your own folder, which git ignores")
    workspace.add_argument("folder", type=Path, help="your folder, e.g. my-notebooks")
    workspace.add_argument("--refresh", nargs="*", default=[], help="chapters (e.g. 03) to replace by the course's "
                                                                     "new version; yours are kept beside them")
    dashboard = sub.add_parser("dashboard", help="optuna-dashboard on a study storage, on 127.0.0.1")
    dashboard.add_argument("storage", nargs="?", help="a journal file (study.log), an SQLite file (study.db) or a "
                                                      "database URL; default: the course's SQLite file")
    dashboard.add_argument("--port", type=int, default=8080, help="the port on 127.0.0.1 (default 8080)")
    args = parser.parse_args(argv)
    if args.command == "dashboard":
        return serve_dashboard(args.storage, args.port)
    if args.command == "course":
        from .course import run_course

        print(f"written to {run_course(args.quick, args.threads, args.chapters, args.out)}")
        return 0
    if args.command == "verdicts":
        from .course import compare_runs

        lines = compare_runs(*args.runs)
        print("\n".join(lines) if lines else "the two runs agree on every verdict")
        print(f"{len(lines)} verdicts differ")
        return 0
    if args.command == "record":
        from .course import record_run

        for run in args.runs:
            print("\n".join(f"recorded {path}" for path in record_run(run)))
        return 0
    if args.command == "workspace":
        from .workspace import sync_workspace

        lines = sync_workspace(Path(__file__).resolve().parents[1] / "notebooks", args.folder, args.refresh)
        print("\n".join(lines) if lines else f"{args.folder}/: your copies are up to date with the course")
        return 0
    if args.command == "doctor":
        doctor()
    else:
        print("\n".join(data_lines()))
    return 0
