"""The learner's own copy of the chapters, which git never touches (`make lab` opens it).

JupyterLab saves outputs into the notebook a learner runs. Run in ``notebooks/``, those
outputs made ``make test`` fail and the next ``git pull`` of a course update conflict. So
``make lab`` works in ``my-notebooks/`` (ignored by git): each chapter is copied there the
first time, and never overwritten. When the course updates a chapter that a learner has
copied, ``make lab`` says so and keeps their copy; ``make lab REFRESH=03`` takes the new
version and keeps theirs beside it as ``03_....mine-1.ipynb``. The course's record of what
was copied is ``my-notebooks/.course-versions.json`` (the SHA-256 of each chapter copied).

>>> import tempfile, pathlib
>>> course, mine = (pathlib.Path(tempfile.mkdtemp()) / d for d in ("course", "mine"))
>>> course.mkdir(); _ = (course / "00_start.ipynb").write_text("{}")
>>> sync_workspace(course, mine)
['copied 00_start.ipynb into mine/: run and edit it there; git ignores that folder']
>>> sync_workspace(course, mine)
[]
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from ._checks import fail
from ._files import atomic_write

RECORD = ".course-versions.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kept_name(mine: Path, chapter: Path) -> Path:
    """``<stem>.mine-<k>.ipynb`` with the first k not taken: an earlier kept copy is never overwritten."""
    k = 1
    while (mine / f"{chapter.stem}.mine-{k}{chapter.suffix}").exists():
        k += 1
    return mine / f"{chapter.stem}.mine-{k}{chapter.suffix}"


def sync_workspace(course: Path, mine: Path, refresh: Sequence[str] = ()) -> list[str]:
    """Copy the chapters of ``course`` that ``mine`` lacks; say which copies the course has updated
    since; replace those named in ``refresh`` (by number, e.g. ``"03"``, or file name), keeping the
    learner's copy beside the new one. Returns what to tell the learner, one line each."""
    chapters = sorted(course.glob("[0-9][0-9]_*.ipynb"))
    wanted = set(refresh)
    unknown = [r for r in wanted if not any(c.name.startswith(r) for c in chapters)]
    if unknown:
        raise fail("workspace", "refresh", "chapter numbers or names: " + ", ".join(c.name[:2] for c in chapters),
                   unknown[0])
    mine.mkdir(parents=True, exist_ok=True)
    record_path = mine / RECORD
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    lines = []
    for chapter in chapters:
        copy, version = mine / chapter.name, _sha256(chapter)
        if copy.exists() and any(chapter.name.startswith(r) for r in wanted):
            kept = _kept_name(mine, chapter)
            copy.rename(kept)
            lines.append(f"{chapter.name}: the course's new version is in {mine.name}/; yours is kept as {kept.name}")
        elif copy.exists():
            if record.get(chapter.name) not in (None, version):
                lines.append(f"{chapter.name} changed in the course since you copied it; your copy is unchanged. "
                             f"To take the new version: make lab REFRESH={chapter.name[:2]} (yours is kept beside it)")
            continue
        else:
            lines.append(f"copied {chapter.name} into {mine.name}/: run and edit it there; git ignores that folder")
        shutil.copyfile(chapter, copy)
        record[chapter.name] = version
    text = json.dumps(record, indent=1, sort_keys=True).encode()
    atomic_write(record_path, lambda file: file.write(text))
    return lines
