"""`python -m nbhelpers doctor | data | course | workspace`: the course from a terminal.

``doctor`` prints versions, the device that will be used and why, which data sets are
available where, and what to do about anything missing. ``data`` prints the data part
only. ``course`` runs every notebook top to bottom into ``build/`` with the conditions it
ran under, and ``verdicts A B`` lists the verdicts two such runs disagree on (see
`nbhelpers.course`).
``workspace DIR`` copies the chapters a learner has not copied yet into DIR (what `make lab`
opens; see `nbhelpers.workspace`).
"""

from __future__ import annotations

import argparse
import importlib.metadata
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
    import torch

    from .device import amp_dtype, device_report, quick_mode

    lines = [f"nbhelpers doctor (Python {platform.python_version()} at {sys.executable})", "Versions:"]
    missing = []
    for package in PACKAGES:
        version = _version(package)
        lines.append(f"  {package:<14} {version or 'MISSING'}")
        if version is None:
            missing.append(package)
    if missing:
        lines.append(f"  -> install what is missing with `make lab` or `pip install -e .` ({', '.join(missing)})")
    device, why = device_report()
    dtype = amp_dtype(device)
    lines += [
        "Device:",
        f"  {device} ({why})",
        f"  mixed precision: {str(dtype).replace('torch.', '') if dtype else 'off (float32)'}; "
        f"CPU threads: {torch.get_num_threads()}",
        f"  quick mode (NBH_QUICK): {'on' if quick_mode() else 'off'}",
    ]
    if device.type == "cpu":
        lines.append("  -> everything runs on the CPU; full-mode chapters take minutes each. "
                     "With an NVIDIA GPU, install a CUDA build of torch (see README, GPU notes).")
    return lines + data_lines()


def doctor() -> None:
    """Print versions, the device that will be used and why, and which data sets are where."""
    print("\n".join(doctor_lines()))


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
    workspace = sub.add_parser("workspace", help="copy the chapters into your own folder, which git ignores")
    workspace.add_argument("folder", type=Path, help="your folder, e.g. my-notebooks")
    workspace.add_argument("--refresh", nargs="*", default=[], help="chapters (e.g. 03) to replace by the course's "
                                                                     "new version; yours are kept beside them")
    args = parser.parse_args(argv)
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
