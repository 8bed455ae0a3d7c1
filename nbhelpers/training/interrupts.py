"""How a Stop or Ctrl-C inside `fit` reaches what called it: a `sweep`, `explore`, a comparison.

`fit` catches the interrupt so the reader keeps the best weights and the history; but a
loop of runs around it must stop too, and must not store the cut-short run as finished,
whatever the train function returns (a `TrainResult`, or a dict of scores that no longer
says how training ended). `fit` reports how each run ended with `note_stop`; a loop that
wants to know wraps its call in `watch_stops`.

>>> with watch_stops() as stops:
...     note_stop("interrupted")     # what fit does when Ctrl-C arrives
>>> stops.interrupted, stops.reasons
(True, ['interrupted'])
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field

INTERRUPTED = "interrupted"  # Ctrl-C, Jupyter's Stop button
STOPPED = "stopped"          # a panel's Stop button (StopOnEvent)


@dataclass
class Stops:
    """How the fits inside one `watch_stops` block ended, in order."""

    reasons: list[str] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return INTERRUPTED in self.reasons

    @property
    def status(self) -> str | None:
        """``"interrupted"`` or ``"stopped"`` if any fit ended so, else None (the run finished)."""
        return next((r for r in (INTERRUPTED, STOPPED) if r in self.reasons), None)


# One per thread and task: explore's worker thread watches its own runs, a sweep in the cell its own.
_watching: contextvars.ContextVar[Stops | None] = contextvars.ContextVar("nbhelpers_stops", default=None)


@contextlib.contextmanager
def watch_stops() -> Iterator[Stops]:
    """Collect the stop reasons of every `fit` called inside the block."""
    stops = Stops()
    token = _watching.set(stops)
    try:
        yield stops
    finally:
        _watching.reset(token)


def note_stop(reason: str) -> None:
    """Called by `fit` when it ends: record ``reason`` for the enclosing `watch_stops`, if any."""
    stops = _watching.get()
    if stops is not None:
        stops.reasons.append(reason)
