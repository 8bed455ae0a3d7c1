"""Where the course keeps files, and the one way it writes them: atomically.

Run from a clone of the course (``make lab``, ``pip install -e``), downloads and caches go
to the clone's ``datasets/`` as they always did. Installed like any package (``pip install
path/or/git-url``, or once for a whole JupyterHub), the package folder is never written:
they go to the user's cache, ``$XDG_CACHE_HOME/nbhelpers`` or ``~/.cache/nbhelpers``.
``$NBH_CACHE`` (caches) and ``$NBH_DATA`` (the full data sets) override both.

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

CLONE = Path(__file__).resolve().parents[1]  # the course repository, when nbhelpers runs from a clone


def clone_datasets() -> Path | None:
    """The clone's ``datasets/`` folder, or None when nbhelpers is installed. A clone is told by
    its ``pyproject.toml``: an installed package's parent is site-packages, where a ``datasets``
    folder is Hugging Face's package, not ours, and nothing may be written."""
    folder = CLONE / "datasets"
    return folder if (CLONE / "pyproject.toml").is_file() and folder.is_dir() else None


def user_cache() -> Path:
    """``$XDG_CACHE_HOME/nbhelpers`` (an absolute path, as the XDG spec requires), else ``~/.cache/nbhelpers``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "nbhelpers"


def data_home() -> Path:
    """Where the full data sets are looked for and downloaded to: the clone's ``datasets/``, else the user cache."""
    return clone_datasets() or user_cache()


def cache_home(folder: str = "") -> Path:
    """Where generated files go: ``$NBH_CACHE`` itself if set, else ``folder`` in the clone's
    ``datasets/.cache`` or in the user cache (MNIST-1D arrays at the top, stored runs in ``explore``)."""
    if os.environ.get("NBH_CACHE", "").strip():
        return Path(os.environ["NBH_CACHE"]).expanduser()
    clone = clone_datasets()
    return (clone / ".cache" if clone else user_cache()) / folder


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
