"""Where a study lives: one string says it, and the same code runs on a laptop or a cluster.

- ``None``: an SQLite file in the course cache (embedded, nothing to start). One process
  at a time: Optuna advises against SQLite for concurrent writers ("database is locked",
  optuna#820).
- ``"study.log"`` (``.log``, ``.journal``): Optuna's journal file, for several processes on
  one machine.
- ``"study.db"`` (``.db``, ``.sqlite``, ``.sqlite3``): an SQLite file of your choice.
- ``"postgresql+psycopg://user@host/db"`` or any SQLAlchemy URL: a database server that
  workers on many machines share.
- ``":memory:"``: a study that lives in this process only (gone when it ends).

An SQLite file is kept in write-ahead-log mode with ``synchronous=NORMAL``: a commit (about
ten per trial) costs 0.03 ms instead of 6-28 ms on the disk here, a killed process loses
nothing, and the dashboard can read while a search writes.

Databases record a heartbeat of every running trial: a trial whose worker died (a kernel
restart, a killed process, a lost machine) is marked failed once it has been silent for two
heartbeats, and a copy with the same parameters is queued to run again. A journal file has
no heartbeat; there a trial whose worker process on this machine is gone is failed and
queued again the same way (`fail_dead_workers`).

>>> kind_of(None), kind_of("runs/study.log"), kind_of("postgresql+psycopg://me@db/hpo")
('sqlite', 'journal', 'database')
"""

from __future__ import annotations

import os
import random
import socket
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._checks import Real, Satisfies, checked, fail, shown
from .._files import cache_home

if TYPE_CHECKING:  # annotations only: optuna loads when a study is opened
    import optuna

JOURNAL = (".log", ".journal")
SQLITE = (".db", ".sqlite", ".sqlite3")
RETRIES = 3  # how many times a trial whose worker died is run again


def is_storage(value: Any) -> bool:
    """An Optuna storage object, told without importing optuna (nothing is one before it is imported)."""
    import sys

    storages = sys.modules.get("optuna.storages")
    return storages is not None and isinstance(value, storages.BaseStorage)


def kind_of(storage: Any) -> str:
    """``sqlite``, ``journal``, ``database``, ``memory`` or ``object`` (an Optuna storage you built)."""
    if storage is None:
        return "sqlite"
    if is_storage(storage):
        return "object"
    text = os.fspath(storage)
    if text == ":memory:":
        return "memory"
    if "://" in text:
        return "sqlite" if text.startswith("sqlite") else "database"
    suffix = Path(text).suffix.lower()
    return "journal" if suffix in JOURNAL else "sqlite" if suffix in SQLITE else "unknown"


def _spec_ok(value: Any) -> bool:
    return value is None or is_storage(value) or (isinstance(value, (str, os.PathLike)) and kind_of(value) != "unknown")


STORAGE = Satisfies(_spec_ok, "None (an SQLite file in the course cache), a journal file ('study.log'), an SQLite "
                              "file ('study.db'), a database URL ('postgresql+psycopg://user@host/db'), ':memory:' "
                              "or an Optuna storage", bad=[3, "study.txt"])


def default_file() -> Path:
    """The SQLite file studies go to when no storage is given."""
    return cache_home("hpo") / "studies.db"


def storage_url(storage: str | os.PathLike | None) -> str:
    """The SQLAlchemy URL of an SQLite file or database, or the journal file's path."""
    if storage is None:
        storage = default_file()
    text = os.fspath(storage)
    if "://" in text or kind_of(text) == "journal":
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


@checked(storage=STORAGE, heartbeat=Real(low=1, integer=True))
def open_storage(storage: str | os.PathLike | None = None, heartbeat: int = 10) -> optuna.storages.BaseStorage:
    """The Optuna storage a string names (see the module's notes), ready for `search`,
    ``optuna.load_study`` and the dashboard.

    A database records every running trial's heartbeat each ``heartbeat`` seconds; a trial
    silent for twice as long is marked failed and queued to run again (up to 3 times).

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> type(open_storage(folder / "study.log")).__name__, type(open_storage(folder / "study.db")).__name__
    ('JournalStorage', 'RDBStorage')
    """
    import optuna

    kind = kind_of(storage)
    if kind == "object":
        return storage
    if kind == "memory":
        return optuna.storages.InMemoryStorage()
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        path = Path(storage).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    url = storage_url(storage)
    if url.startswith("sqlite:///"):
        _write_ahead(Path(url.removeprefix("sqlite:///")))
    with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna since 2.x; it is what we rely on
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # its name since Optuna 5
            retry = {"heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(RETRIES)}
        else:
            retry = {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(RETRIES)}
        handle = _database(url, dict(heartbeat_interval=int(heartbeat), grace_period=2 * int(heartbeat), **retry))
    if url.startswith("sqlite:///"):
        import sqlalchemy

        # In write-ahead mode, NORMAL syncs at checkpoints instead of every commit: 6 ms -> 0.03 ms per
        # commit here (a trial makes about ten). A crashed process loses nothing; a power cut may lose
        # the last trials, never the file's consistency.
        sqlalchemy.event.listen(handle.engine, "connect", lambda connection, _: connection.execute(
            "PRAGMA synchronous=NORMAL"))
        handle.engine.dispose()  # the connections made so far did not have it
    return handle


def _write_ahead(path: Path) -> None:
    """Put an SQLite file in write-ahead-log mode (kept in the file): one sync per commit, not three,
    and readers (the dashboard) never block the search."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _database(url: str, options: dict) -> optuna.storages.RDBStorage:
    """``RDBStorage(url)``; when several workers meet a new database at once, all but one find
    Optuna's tables half made (a duplicate table or type): they try again once it is done."""
    import optuna
    import sqlalchemy

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, **options)
        except ImportError as error:  # a driver missing: psycopg for PostgreSQL, for instance
            raise fail("open_storage", "storage", "a URL whose database driver is installed", url,
                       f"{error}. For PostgreSQL: pip install 'psycopg[binary]' and write postgresql+psycopg://...")
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == 4:
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


def worker_name() -> str:
    """``host:pid`` of this process, kept on each trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def fail_dead_workers(study: optuna.Study) -> list[int]:
    """On a journal file (no heartbeat): mark failed each running trial whose worker was a process
    on this machine that is gone, and queue a copy to run again (as the heartbeat does for a
    database). Returns the numbers of the trials failed."""
    import optuna
    from optuna.trial import TrialState

    host, failed = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = str(trial.user_attrs.get("worker", ""))
        name, _, pid = worker.rpartition(":")
        if name != host or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker failed it first
        failed.append(trial.number)
        history = [*trial.system_attrs.get("retry_history", []), trial.number]
        if len(history) <= RETRIES:
            study.add_trial(optuna.trial.create_trial(
                state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
                user_attrs={k: v for k, v in trial.user_attrs.items() if k != "worker"},
                system_attrs={"failed_trial": trial.system_attrs.get("failed_trial", trial.number),
                              "retry_history": history}))
    return failed


def describe_storage(storage: Any) -> str:
    """What a message says about a storage: its path or URL (without a password)."""
    if storage is None:
        return str(default_file())
    if is_storage(storage):
        return type(storage).__name__
    text = os.fspath(storage)
    if "://" in text and "@" in text:
        scheme, _, rest = text.partition("://")
        credentials, _, host = rest.rpartition("@")
        return f"{scheme}://{credentials.split(':')[0]}@{host}"
    return shown(text)
