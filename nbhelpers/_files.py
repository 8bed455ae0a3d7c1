"""Where the course keeps files, and the one way it writes them: atomically.

A file is written to a temporary name in its folder and renamed over the target only when
complete (and, with ``check``, verified), so a crash, Ctrl-C or a failed check never leaves a
half-written checkpoint, cache entry or download where a reader would take it for a good one.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> atomic_write(target, lambda file: file.write(b"done")).name
'note.txt'
>>> target.read_bytes()
b'done'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

REPOSITORY_DATASETS = Path(__file__).resolve().parents[1] / "datasets"  # present in a clone of the course


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object],
                 check: Callable[[Path], object] | None = None) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then ``check(temporary_path)``
    (which raises to reject it), then rename it to ``path``. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
