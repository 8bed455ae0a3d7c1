"""Recorded benchmark runs of chapter 09 (`gpu_records`): what ``bench/gpu_run.sh`` wrote on a
machine with a GPU, kept with the course in ``reference/09/gpu/`` (each with its device
name, versions and date), so the chapter shows measured GPU numbers without a GPU.

>>> isinstance(gpu_records(), dict)
True
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._checks import Instance, Optional, checked
from .._files import CLONE

GPU_RECORDS = CLONE / "reference" / "09" / "gpu"


@checked(folder=Optional(Instance((str, os.PathLike), "a folder path")))
def gpu_records(folder: str | os.PathLike | None = None) -> dict[str, dict]:
    """The recorded GPU benchmark runs, ``{name: record}`` by file name (``time-to-accuracy``,
    ``precision``, ``compile``, ``profile``, ``ddp``), or ``{}`` when none is recorded (or
    nbhelpers is installed without the course's ``reference/`` folder).

    >>> gpu_records("/no/such/folder")
    {}
    """
    path = Path(folder) if folder is not None else GPU_RECORDS
    if not path.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(path.glob("*.json"))}
