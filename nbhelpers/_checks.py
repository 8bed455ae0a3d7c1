"""Argument checks shared by every public function: one message form everywhere.

A message names the function, the argument, what is allowed and the value given, e.g.
``fit(): `lr` must be a real number > 0; got -1.`` Unknown names get a did-you-mean.
Numbers are checked as ``numbers.Real`` / ``numbers.Integral`` so ``np.int64(3)`` passes.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import Any


def _fail(func: str, name: str, allowed: str, value: Any, hint: str = "") -> ValueError:
    return ValueError(f"{func}(): `{name}` must be {allowed}; got {value!r}.{hint}")


def check_choice(func: str, name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` (case-insensitive), else raise with a did-you-mean."""
    allowed = list(allowed)
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), allowed, n=1)
        if close:
            hint = f" Did you mean {close[0]!r}?"
    raise _fail(func, name, "one of " + ", ".join(repr(a) for a in allowed), value, hint)


def check_number(
    func: str,
    name: str,
    value: Any,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    allow_none: bool = False,
) -> Any:
    """Return ``value`` if it is a number within ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    if value is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    word = "an integer" if integer else "a real number"
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    allowed = word + (" " + " and ".join(bounds) if bounds else "") + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, kind):
        raise _fail(func, name, allowed, value)
    if value != value:  # NaN compares unequal to itself
        raise _fail(func, name, allowed, value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        raise _fail(func, name, allowed, value)
    return value


def check_type(func: str, name: str, value: Any, types: type | tuple[type, ...], allowed: str) -> Any:
    """Return ``value`` if it is an instance of ``types``; ``allowed`` describes them for the message."""
    if not isinstance(value, types):
        raise _fail(func, name, allowed, value)
    return value


def fail(func: str, name: str, allowed: str, value: Any, hint: str = "") -> ValueError:
    """Build (not raise) the standard error for checks that do not fit the helpers above."""
    return _fail(func, name, allowed, value, (" " + hint) if hint else "")
