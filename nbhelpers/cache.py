"""The on-disk cache of finished runs behind `explore` and `sweep`: one JSON file per run.

A run is identified by the function (module, qualified name and a hash of its source
text), its arguments, the seed, quick mode and an optional ``cache_tag``: a string naming
what the source cannot show, such as the data or a global like ``EPOCHS``. Edit the
function and its old results stop matching; change the data and change the tag.

Files are JSON, never pickle: they can be read, compared and deleted by hand, and loading
one runs no code. Each is written to a temporary file and renamed, so an interrupted write
never leaves half a file. The folder is ``$NBH_CACHE`` if set, else ``datasets/.cache/explore``
in the course repository, else ``~/.cache/nbhelpers/explore``.

Examples
--------
>>> def train(lr):
...     return {"valid_accuracy": 0.5}
>>> key = run_key(function_identity(train), {"lr": 0.001}, seed=0, cache_tag="demo")
>>> key == run_key(function_identity(train), {"lr": 0.1 * 3 / 300}, seed=0, cache_tag="demo")
True
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import numbers
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .device import quick_mode

FORMAT = "nbhelpers.explore/1"
NOT_SERVED = ("stopped", "interrupted")  # a run cut short is kept in the panel, never served as finished


def cache_dir() -> Path:
    """Where runs are stored: ``$NBH_CACHE``, the repository's ``datasets/.cache/explore``, or the user cache."""
    if os.environ.get("NBH_CACHE", "").strip():
        return Path(os.environ["NBH_CACHE"]).expanduser()
    repo = Path(__file__).resolve().parents[1] / "datasets"
    if repo.is_dir():
        return repo / ".cache" / "explore"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nbhelpers" / "explore"


def function_identity(fn: Any) -> str:
    """``module.qualname:<hash of the source>``; a ``functools.partial`` adds its fixed arguments."""
    if isinstance(fn, functools.partial):
        fixed = json.dumps([plain(a) for a in fn.args] + sorted((k, plain(v)) for k, v in fn.keywords.items()))
        return f"{function_identity(fn.func)}|partial:{fixed}"
    try:
        source = inspect.getsource(fn)  # IPython keeps notebook cells where inspect finds them
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        source = repr((code.co_code, code.co_consts)) if code is not None else ""
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    return f"{name}:{hashlib.sha256(source.encode()).hexdigest()[:16]}"


def plain(value: Any) -> Any:
    """A JSON-safe, stable stand-in for an argument: floats to 12 significant digits, so that
    ``10 ** -3`` from a log slider and ``0.001`` from a grid are the same setting."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(f"{float(value):.12g}")
    return repr(value)


def run_key(identity: str, arguments: dict[str, Any], seed: int | None, cache_tag: str | None) -> str:
    """The SHA-256 that names a run's file."""
    parts = [identity, sorted((k, plain(v)) for k, v in arguments.items()), plain(seed), quick_mode(), cache_tag]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def load(key: str) -> dict | None:
    """The stored record of a finished run, or ``None`` (missing, unreadable, or cut short)."""
    path = cache_dir() / f"{key}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("status") in NOT_SERVED:
        return None
    return record


def store(key: str, record: dict) -> Path | None:
    """Write ``record`` atomically (temporary file, then rename); runs cut short are not stored."""
    if record.get("status") in NOT_SERVED:
        return None
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{key[:12]}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump({"format": FORMAT, **record}, file, indent=1)
        os.replace(temporary, folder / f"{key}.json")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return folder / f"{key}.json"


@dataclass
class CachedResult:
    """A finished run read back from the cache: ``history`` (tidy, as in `TrainResult`) and
    ``metrics`` (its final numbers; ``final`` is the same dict). No model is stored."""

    arguments: dict[str, Any]
    seed: int | None
    status: str
    metrics: dict[str, float]
    history: pd.DataFrame = field(repr=False)
    seconds: float = 0.0
    cached: bool = True

    @property
    def final(self) -> dict[str, float]:
        return self.metrics

    @classmethod
    def from_record(cls, record: dict) -> CachedResult:
        return cls(arguments=record["arguments"], seed=record.get("seed"), status=record["status"],
                   metrics=record["metrics"], history=pd.DataFrame.from_records(record.get("history") or []),
                   seconds=record.get("seconds", 0.0))
