"""Argument checks for every public function: one table per function, one message form everywhere.

A public function declares what each argument may be, next to its signature, with `checked`
(scikit-learn's ``validate_params``, in this package's words)::

    @checked(n_train=Real(low=1, integer=True), steps=Real(low=1, integer=True))
    def epochs_for(n_train, steps): ...

The checks run before the function's body, so before any side effect. A message names the
function, the argument, what is allowed and the value given, e.g. ``fit(): `lr` must be a
real number > 0; got -1.``; unknown names get a did-you-mean. Numbers are checked as
``numbers.Real`` / ``numbers.Integral`` so ``np.int64(3)`` passes, and ``True`` is not a
number. Each constraint can also name values it rejects (``bad_values``): the common test
(tests/test_arguments.py) feeds every declared argument of every public function those.

>>> @checked(lr=Real(low=0, low_open=True), optimizer=Choice("adam", "sgd"))
... def train(lr, optimizer="adam"):
...     return lr, optimizer
>>> train(0.1, "SGD")
(0.1, 'sgd')
>>> train(-1)
Traceback (most recent call last):
ValueError: train(): `lr` must be a real number > 0; got -1.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from torch import nn


def _fail(func: str, name: str, allowed: str, value: Any, hint: str = "") -> ValueError:
    return ValueError(f"{func}(): `{name}` must be {allowed}; got {shown(value)!r}.{hint}")


def fail(func: str, name: str, allowed: str, value: Any, hint: str = "") -> ValueError:
    """Build (not raise) the standard error for checks that do not fit a constraint."""
    return _fail(func, name, allowed, value, (" " + hint) if hint else "")


def is_pandas(value: Any, *names: str) -> bool:
    """``isinstance(value, pandas.<name>)`` for any of ``names`` ("DataFrame", "Series"), without
    importing pandas (0.4 s): nothing can be a DataFrame before pandas has been imported."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, tuple(getattr(pandas, n) for n in names or ("DataFrame",)))


def shown(value: Any) -> Any:
    """What a message prints as the value given: the value itself when it is short to write,
    else its type's name (not a whole tensor or table)."""
    if value is None or isinstance(value, (str, numbers.Number)):
        return value
    text = repr(value)
    return value if len(text) <= 80 and "\n" not in text else type(value).__name__


def _bound(value: float) -> str:
    """A bound as a reader would write it: 4294967295, not 4.29497e+09."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


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


def check_number(func: str, name: str, value: Any, *, integer: bool = False, low: float | None = None,
                 high: float | None = None, low_open: bool = False, allow_none: bool = False) -> Any:
    """Return ``value`` if it is a number within ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    if value is None and allow_none:
        return None
    constraint = Real(low=low, high=high, low_open=low_open, integer=integer)
    allowed = constraint.allowed + (" or None" if allow_none else "")
    if not constraint.ok(value):
        raise _fail(func, name, allowed, value)
    return value


def check_type(func: str, name: str, value: Any, types: type | tuple[type, ...], allowed: str) -> Any:
    """Return ``value`` if it is an instance of ``types``; ``allowed`` describes them for the message."""
    if not isinstance(value, types):
        raise _fail(func, name, allowed, value)
    return value


# ---------------------------------------------------------------- constraints


class _Rejected:
    """A value no constraint of this package accepts, with a readable repr for messages."""

    def __repr__(self) -> str:
        return "<something else>"


class Constraint:
    """What an argument may be: ``ok(value)``, the words ``allowed``, and ``bad_values`` for tests."""

    allowed = "a valid value"

    def ok(self, value: Any) -> bool:
        raise NotImplementedError

    def check(self, func: str, name: str, value: Any) -> Any:
        """Return ``value`` (normalized where the constraint does so) or raise the standard error."""
        if not self.ok(value):
            raise _fail(func, name, self.allowed, value)
        return value

    def bad_values(self) -> list:
        return [_Rejected()]


class Real(Constraint):
    """A real number (an integer with ``integer=True``) within ``low``/``high``; never a bool or NaN."""

    def __init__(self, low: float | None = None, high: float | None = None, *, low_open: bool = False,
                 high_open: bool = False, integer: bool = False):
        self.low, self.high, self.low_open, self.high_open, self.integer = low, high, low_open, high_open, integer
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '>='} {_bound(low)}")
        if high is not None:
            bounds.append(f"{'<' if high_open else '<='} {_bound(high)}")
        self.allowed = ("an integer" if integer else "a real number") + (" " + " and ".join(bounds) if bounds else "")

    def ok(self, value: Any) -> bool:
        kind = numbers.Integral if self.integer else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind) or value != value:  # NaN is not equal to itself
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def bad_values(self) -> list:
        bad: list = ["many", True, math.nan]
        if self.low is not None:
            bad.append(self.low if self.low_open else self.low - 1)
        if self.high is not None:
            bad.append(self.high if self.high_open else self.high + 1)
        if self.integer:
            bad.append((self.low or 0) + 1.5)
        return bad


class Choice(Constraint):
    """One of ``options`` (strings, case-insensitive); a close misspelling gets a did-you-mean."""

    def __init__(self, *options: str):
        self.options = tuple(options)
        self.allowed = "one of " + ", ".join(repr(o) for o in self.options)

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and value.lower() in self.options

    def check(self, func: str, name: str, value: Any) -> Any:
        return check_choice(func, name, value, self.options)

    def bad_values(self) -> list:
        return ["no such option", 3]


class Instance(Constraint):
    """An instance of ``types``; ``allowed`` says it in words (e.g. "a torch.nn.Module")."""

    def __init__(self, types: type | tuple[type, ...], allowed: str):
        self.types, self.allowed = types, allowed

    def ok(self, value: Any) -> bool:
        if isinstance(value, bool) and bool not in (self.types if isinstance(self.types, tuple) else (self.types,)):
            return False  # a bool is an int to Python, never to a reader
        return isinstance(value, self.types)

    def bad_values(self) -> list:
        return [v for v in (_Rejected(), "text", 3) if not self.ok(v)]


class Flag(Instance):
    """True or False (not 1, not "yes")."""

    def __init__(self):
        super().__init__(bool, "True or False")

    def bad_values(self) -> list:
        return ["yes", 1]


class Function(Constraint):
    """Anything callable; ``allowed`` says what it is called with."""

    def __init__(self, allowed: str):
        self.allowed = allowed

    def ok(self, value: Any) -> bool:
        return callable(value) and not isinstance(value, type)

    def bad_values(self) -> list:
        return ["not a function", 3]


class Anything(Constraint):
    """Any value at all (``by_mode``'s two values, a train function's result): declared, never wrong."""

    allowed = "any value"

    def ok(self, value: Any) -> bool:
        return True

    def bad_values(self) -> list:
        return []


class Satisfies(Constraint):
    """A rule that no simple constraint says: ``test(value) -> bool``, its words, and values it rejects."""

    def __init__(self, test: Callable[[Any], bool], allowed: str, bad: Iterable = (_Rejected(),)):
        self.test, self.allowed, self.bad = test, allowed, list(bad)

    def ok(self, value: Any) -> bool:
        return bool(self.test(value))

    def bad_values(self) -> list:
        return list(self.bad)


class Rule(Constraint):
    """A check that needs its own code (a did-you-mean over a registry, a signature, a shape):
    ``check(func, name, value)`` returns the value or raises `fail`'s error."""

    def __init__(self, check: Callable[[str, str, Any], Any], allowed: str, bad: Iterable = (_Rejected(),)):
        self._check, self.allowed, self.bad = check, allowed, list(bad)

    def ok(self, value: Any) -> bool:
        try:
            self._check("check", "value", value)
        except ValueError:
            return False
        return True

    def check(self, func: str, name: str, value: Any) -> Any:
        result = self._check(func, name, value)
        return value if result is None else result

    def bad_values(self) -> list:
        return list(self.bad)


class AnyOf(Constraint):
    """Any of several constraints (``None`` in the list allows None); the words are joined by "or"."""

    def __init__(self, *constraints: Constraint | None):
        self.none = None in constraints
        self.constraints = [c for c in constraints if c is not None]
        words = [c.allowed for c in self.constraints] + (["None"] if self.none else [])
        self.allowed = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]

    def ok(self, value: Any) -> bool:
        return (value is None and self.none) or any(c.ok(value) for c in self.constraints)

    def check(self, func: str, name: str, value: Any) -> Any:
        if value is None and self.none:
            return None
        for constraint in self.constraints:
            if constraint.ok(value):
                return constraint.check(func, name, value)
        choices = [c for c in self.constraints if isinstance(c, Choice)]
        if len(choices) == 1 and isinstance(value, str):  # a misspelled name: say which one was meant
            close = difflib.get_close_matches(value.lower(), choices[0].options, n=1)
            if close:
                raise _fail(func, name, self.allowed, value, f" Did you mean {close[0]!r}?")
        raise _fail(func, name, self.allowed, value)

    def bad_values(self) -> list:
        candidates = [v for c in self.constraints for v in c.bad_values()]
        return [v for v in candidates if v is not None and not self.ok(v)][:4] or [_Rejected()]


class DictOf(Constraint):
    """A non-empty dict whose every value satisfies ``value``: ``{name: model}``, ``{label: history}``."""

    def __init__(self, value: Constraint, allowed: str):
        self.value, self.allowed = value, allowed

    def ok(self, v: Any) -> bool:
        return isinstance(v, Mapping) and len(v) > 0 and all(self.value.ok(item) for item in v.values())

    def check(self, func: str, name: str, v: Any) -> Any:
        if not isinstance(v, Mapping) or not v:
            raise _fail(func, name, self.allowed, v)
        for key, item in v.items():
            if not self.value.ok(item):
                raise _fail(func, name, self.allowed, v, f" {name}[{key!r}] is {shown(item)!r}, not {self.value.allowed}.")
        return v

    def bad_values(self) -> list:
        return [{}, "text", 3, {"a": _Rejected()}]


def Optional(constraint: Constraint) -> AnyOf:  # noqa: N802  (reads as a type, like typing.Optional)
    """``constraint`` or None."""
    return AnyOf(constraint, None)


# ---------------------------------------------------------------- the table


def checked(**table: Constraint) -> Callable:
    """Declare what each argument of the decorated function may be; check them on every call.

    Arguments left at their defaults are not checked (the defaults are ours). On a class's
    ``__init__`` the messages name the class, as the reader called it. The table is kept as
    ``function.__checked__`` for the common test.
    """
    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)
        unknown = [name for name in table if name not in signature.parameters]
        if unknown:
            raise TypeError(f"checked(): {function.__qualname__} has no parameter {unknown[0]!r}")
        qualname = function.__qualname__
        shown = qualname.rsplit(".", 1)[0] if qualname.endswith(".__init__") else qualname

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if name in table:
                    bound.arguments[name] = table[name].check(shown, name, value)
            return function(*bound.args, **bound.kwargs)

        wrapper.__checked__ = table
        return wrapper

    return decorate


def check_arguments(func: str, table: Mapping[str, Constraint], values: Mapping[str, Any]) -> dict:
    """Check ``values`` against ``table`` (for a dataclass's ``__post_init__``); return them, normalized."""
    return {name: table[name].check(func, name, value) if name in table else value for name, value in values.items()}


def declared(function: Any) -> Mapping[str, Constraint] | None:
    """The table `checked` declared for ``function`` (or a class's ``__init__``, or a dataclass's
    ``__checked__``), or None."""
    if inspect.isclass(function) and "__checked__" in vars(function):
        return function.__checked__
    target = function.__init__ if inspect.isclass(function) else function
    return getattr(target, "__checked__", None)


# ---------------------------------------------------------------- arguments many functions share

SEED = Real(low=0, high=2**32 - 1, integer=True)
COUNT = Real(low=1, integer=True)          # a size, a number of epochs, batches, images
FRACTION = Real(low=0, high=1)             # a probability, a share
FLAG = Flag()


def Frame(allowed: str) -> Satisfies:  # noqa: N802  (a constraint, like the classes above)
    """A pandas DataFrame; ``allowed`` says which one (e.g. "a DataFrame with one row per run")."""
    return Satisfies(is_pandas, allowed, bad=[_Rejected(), "text", 3])


TEXT = Instance(str, "a string")
COLUMN = Instance(str, "a column name")
LEARNING_RATE = Real(low=0, low_open=True)
MODEL = Instance(nn.Module, "a torch.nn.Module")
