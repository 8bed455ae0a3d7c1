"""Search spaces: a dict of parameter name -> a list of choices or a range.

A list is a set of choices (``[32, 64, 128]``, ``["adam", "sgd"]``); `uniform`,
`log_uniform` and `integers` are ranges. Learning rates and weight decays span orders of
magnitude, so they take `log_uniform`: as many trials between 1e-4 and 1e-3 as between 1e-2
and 1e-1. Grid search takes lists only (it cannot enumerate a range).

>>> space = {"lr": log_uniform(1e-4, 1e-1), "width": [32, 64, 128], "depth": integers(1, 3)}
>>> space["lr"]
log_uniform(0.0001, 0.1)
>>> describe_space(space)
'lr=log_uniform(0.0001, 0.1), width=[32, 64, 128], depth=integers(1, 3)'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._checks import FLAG, Real, checked, fail, shown

if TYPE_CHECKING:  # annotations only: optuna loads when a search starts
    import optuna

CHOICE_TYPES = (type(None), bool, int, float, str)  # what Optuna stores as a categorical choice


@dataclass(frozen=True)
class Range:
    """A range of values to search: made by `uniform`, `log_uniform` or `integers`."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __repr__(self) -> str:
        name = "integers" if self.integer else "log_uniform" if self.log else "uniform"
        extra = ", log=True" if self.integer and self.log else ""
        return f"{name}({self.low:g}, {self.high:g}{extra})"

    def distribution(self) -> optuna.distributions.BaseDistribution:
        from optuna.distributions import FloatDistribution, IntDistribution

        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)


def _ordered(func: str, low: float, high: float) -> None:
    if not high > low:
        raise fail(func, "high", f"a number > low ({low:g})", high)


@checked(low=Real(), high=Real())
def uniform(low: float, high: float) -> Range:
    """Real values between ``low`` and ``high``, every stretch equally likely.

    >>> uniform(0, 0.5)
    uniform(0, 0.5)
    """
    _ordered("uniform", low, high)
    return Range(float(low), float(high))


@checked(low=Real(low=0, low_open=True), high=Real(low=0, low_open=True))
def log_uniform(low: float, high: float) -> Range:
    """Real values between ``low`` and ``high`` on a log scale: each factor of ten equally likely.

    >>> log_uniform(1e-4, 1e-1).log
    True
    """
    _ordered("log_uniform", low, high)
    return Range(float(low), float(high), log=True)


@checked(low=Real(integer=True), high=Real(integer=True), log=FLAG)
def integers(low: int, high: int, log: bool = False) -> Range:
    """Whole numbers from ``low`` to ``high``, both included (``log=True``: each factor equally likely).

    >>> integers(1, 4), integers(16, 256, log=True)
    (integers(1, 4), integers(16, 256, log=True))
    """
    _ordered("integers", low, high)
    if log and low < 1:
        raise fail("integers", "low", "an integer >= 1 when log=True", low)
    return Range(int(low), int(high), log=log, integer=True)


def _choice(value: Any) -> Any:
    """A choice as Optuna stores it: NumPy numbers become Python ones."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return float(value)
    return value


def check_space(func: str, space: Any) -> dict[str, Range | list]:
    """``space`` with every list's choices made plain; raise the course's error on anything else."""
    allowed = ("a dict of parameter name -> a list of choices or a range, e.g. "
               "{'lr': log_uniform(1e-4, 1e-1), 'width': [32, 64, 128]}")
    if not isinstance(space, Mapping) or not space:
        raise fail(func, "space", allowed, space)
    checked_space: dict[str, Range | list] = {}
    for name, values in space.items():
        if not isinstance(name, str):
            raise fail(func, "space", allowed, shown(dict(space)), f"The name {name!r} is not a string.")
        if isinstance(values, Range):
            checked_space[name] = values
            continue
        if not isinstance(values, (list, tuple)) or not values:
            hint = (f"space[{name!r}] is {shown(values)!r}; a fixed value belongs in your function's defaults"
                    if not isinstance(values, (list, tuple)) else f"space[{name!r}] is empty.")
            raise fail(func, "space", allowed, shown(dict(space)), hint)
        choices = [_choice(v) for v in values]
        odd = [v for v in choices if not isinstance(v, CHOICE_TYPES)]
        if odd:
            raise fail(func, "space", allowed, shown(dict(space)),
                       f"space[{name!r}] holds {shown(odd[0])!r}: choices are numbers, strings, True/False or None "
                       "(name a model or optimizer by a string and build it in your function).")
        if len(set(map(repr, choices))) < len(choices):
            raise fail(func, "space", allowed, shown(dict(space)), f"space[{name!r}] repeats a choice.")
        checked_space[name] = choices
    return checked_space


def grid_of(func: str, space: dict[str, Range | list]) -> dict[str, list]:
    """The lists of a grid search; a range gets the error that says what to give instead."""
    for name, values in space.items():
        if isinstance(values, Range):
            raise fail(func, "space", "lists of values for strategy='grid' (a grid cannot enumerate a range)",
                       shown(space), f"Give space[{name!r}] a list such as [1e-4, 1e-3, 1e-2] instead of "
                       f"{values!r}, or search it with strategy='random', 'sobol', 'tpe' or 'hyperopt'.")
    return {name: list(values) for name, values in space.items()}


def grid_size(space: Mapping[str, list]) -> int:
    return math.prod(len(values) for values in space.values())


def distributions(space: dict[str, Range | list]) -> dict[str, optuna.distributions.BaseDistribution]:
    """The Optuna distribution of each parameter (a list is a categorical choice)."""
    from optuna.distributions import CategoricalDistribution

    return {name: values.distribution() if isinstance(values, Range) else CategoricalDistribution(values)
            for name, values in space.items()}


def suggest(trial: optuna.Trial, space: dict[str, Range | list]) -> dict[str, Any]:
    """Ask ``trial`` for one value of every parameter, in the order of ``space``."""
    params = {}
    for name, values in space.items():
        if isinstance(values, list):
            params[name] = trial.suggest_categorical(name, values)
        elif values.integer:
            params[name] = trial.suggest_int(name, int(values.low), int(values.high), log=values.log)
        else:
            params[name] = trial.suggest_float(name, values.low, values.high, log=values.log)
    return params


def describe_space(space: Mapping[str, Any]) -> str:
    """One line: ``lr=log_uniform(0.0001, 0.1), width=[32, 64, 128]``."""
    return ", ".join(f"{name}={values!r}" for name, values in space.items())
