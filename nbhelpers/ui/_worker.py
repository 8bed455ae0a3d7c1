"""`LatestWins`: one thread that runs a job for the newest item submitted, never a backlog.

A slider sends a value per step; only the one where it comes to rest is worth training or
drawing. The worker keeps one pending slot: a new submission replaces the item waiting
there, and an item starts once it has waited ``delay`` seconds without being replaced (the
debounce). A job already running is not interrupted: it watches ``stop_event`` (set by
`LatestWins.stop`, cleared when the next item starts) if it can end early. No widgets
here: the panels of `nbhelpers.ui` wire their controls to it, and it is tested without them.

Examples
--------
>>> done = []
>>> worker = LatestWins(done.append)
>>> for value in (1, 2, 3):
...     worker.submit(value, delay=0.05)   # each replaces the one waiting: only 3 runs
>>> worker.wait(5), done
(True, [3])
>>> worker.run_now(4), done                # in the caller's thread, e.g. Panel.run()
(None, [3, 4])
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class LatestWins:
    """Runs ``job(item)`` in a daemon thread for the latest item given to `submit`, one at a time.

    ``run_now(item)`` runs the job in the calling thread instead (after any job in progress,
    never beside it) and returns or raises what the job does. An exception in the thread has
    no caller to go to: the job should report it; the worker keeps it in ``last_error``.
    """

    def __init__(self, job: Callable[[Any], Any], *, name: str = "nbh-worker"):
        self.job, self.name = job, name
        self.stop_event = threading.Event()
        self.last_error: BaseException | None = None
        self._cond = threading.Condition()  # guards the pending slot and the claims; notified when they change
        self._pending: tuple[Any, float] | None = None  # the one waiting item and when it may start
        self._claimed: list[tuple[Any]] = []  # (item,) taken to run and not finished; a tuple, so None is an item
        self._one_job = threading.Lock()  # the thread's job and run_now's never overlap
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> Any:
        """The item taken to run most recently and not finished (None when idle)."""
        with self._cond:
            return self._claimed[-1][0] if self._claimed else None

    def submit(self, item: Any, delay: float = 0.0) -> None:
        """Make ``item`` the one waiting (replacing any other); it starts ``delay`` seconds from
        now, after the job in progress ends."""
        with self._cond:
            self._pending = (item, time.monotonic() + delay)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True, name=self.name)
                self._thread.start()
            self._cond.notify_all()

    def cancel(self) -> None:
        """Drop the waiting item, if any; the job in progress goes on."""
        with self._cond:
            self._pending = None
            self._cond.notify_all()

    def back_to_running(self, item: Any) -> bool:
        """If ``item`` is running, it is the latest again: drop the waiting item and return True."""
        with self._cond:
            if not self._claimed or self._claimed[-1][0] != item:
                return False
            self._pending = None
            self._cond.notify_all()
            return True

    def stop(self) -> Any:
        """Drop the waiting item and set ``stop_event``; return the item running (None if idle)."""
        with self._cond:
            self._pending = None
            self.stop_event.set()
            self._cond.notify_all()
            return self._claimed[-1][0] if self._claimed else None

    def run_now(self, item: Any) -> Any:
        """Drop the waiting item and run ``job(item)`` in this thread; return what it returns."""
        with self._cond:
            self._pending = None
            claim = self._claim(item)
        return self._run(claim)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing runs or waits; False if ``timeout`` (seconds) ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._claimed, timeout)

    def _claim(self, item: Any) -> tuple[Any]:
        """Mark ``item`` as taken to run and clear the stop event (a Stop pressed from here on
        stops it); ``_cond`` is held."""
        claim = (item,)
        self._claimed.append(claim)
        self.stop_event.clear()
        return claim

    def _run(self, claim: tuple[Any]) -> Any:
        try:
            with self._one_job:
                return self.job(claim[0])
        finally:
            with self._cond:
                self._claimed = [c for c in self._claimed if c is not claim]
                self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None or self._pending[1] > time.monotonic():  # debounce: until it rests
                    self._cond.wait(None if self._pending is None else max(0.0, self._pending[1] - time.monotonic()))
                claim = self._claim(self._pending[0])
                self._pending = None
            try:
                self._run(claim)
            except Exception as error:  # the job showed it where it could: a thread has no cell to print into
                self.last_error = error
