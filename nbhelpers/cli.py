"""`python -m nbhelpers doctor | data | course | workspace`: the course from a terminal.

``doctor`` prints versions, the device that will be used and why, which data sets are
available where, and what to do about anything missing. ``data`` prints the data part
only. ``course`` runs every notebook top to bottom (in quick mode with ``--quick``).
``workspace DIR`` copies the chapters a learner has not copied yet into DIR (what `make lab`
opens; see `nbhelpers.workspace`).
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


def run_course(quick: bool) -> int:
    """Execute every notebook in ``notebooks/`` in order; stop at the first failure."""
    import nbformat
    from nbclient import NotebookClient

    folder = Path(__file__).resolve().parents[1] / "notebooks"
    if quick:
        os.environ["NBH_QUICK"] = "1"
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        print(f"running {path.name} ...", flush=True)
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    print("all notebooks ran")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbhelpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="versions, device, data and what to fix")
    sub.add_parser("data", help="which data sets are available where")
    course = sub.add_parser("course", help="run every notebook top to bottom")
    course.add_argument("--quick", action="store_true", help="quick mode: small data, few epochs")
    workspace = sub.add_parser("workspace", help="copy the chapters into your own folder, which git ignores")
    workspace.add_argument("folder", type=Path, help="your folder, e.g. my-notebooks")
    workspace.add_argument("--refresh", nargs="*", default=[], help="chapters (e.g. 03) to replace by the course's "
                                                                     "new version; yours are kept beside them")
    args = parser.parse_args(argv)
    if args.command == "course":
        return run_course(args.quick)
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
