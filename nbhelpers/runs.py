"""Runs of a train function: what names one, its record, the on-disk cache, and `sweep`.

A run is identified by the function (module, qualified name and a hash of its source
text), its complete arguments (defaults filled in), the seed, quick mode and an optional
``cache_tag``: a string naming what the source cannot show, such as the data or a global
like ``EPOCHS``. Edit the function and its old results stop matching; change the data and
change the tag. `RunStore` keys, finds, trains and stores the runs of one function, seed and
tag; `sweep` runs a grid through it, and `explore`'s panel keeps one to read the runs back.

Files are JSON, never pickle: they can be read, compared and deleted by hand, and loading
one runs no code. Each is written to a temporary file and renamed, so an interrupted write
never leaves half a file. The folder is ``$NBH_CACHE`` if set, else ``datasets/.cache/explore``
in a clone of the course, else ``explore`` in the user cache (``$XDG_CACHE_HOME/nbhelpers`` or
``~/.cache/nbhelpers``), never the installed package.

Examples
--------
>>> def train(lr):
...     return {"valid_accuracy": 0.5}
>>> key = run_key(function_identity(train), {"lr": 0.001}, seed=0, cache_tag="demo")
>>> key == run_key(function_identity(train), {"lr": 0.1 * 3 / 300}, seed=0, cache_tag="demo")
True
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import inspect
import itertools
import json
import numbers
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._checks import FLAG, SEED, Function, Instance, Optional, Rule, Satisfies, check_type, checked, fail, shown
from ._files import atomic_write, cache_home
from .device import quick_mode
from .training.interrupts import watch_stops

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

FORMAT = "nbhelpers.explore/1"
NOT_SERVED = ("stopped", "interrupted")  # a run cut short is kept in the panel, never served as finished


def label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(setting: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={label(v)}" for k, v in setting.items()) or "(no controls)"


def is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def signature_of(func: str, train_fn: Callable) -> tuple[dict[str, inspect.Parameter], bool]:
    """``train_fn``'s parameters and whether it takes ``**kwargs``."""
    if not callable(train_fn):
        raise fail(func, "train_fn", "a function (your own, or one that calls fit)", train_fn)
    try:
        params = dict(inspect.signature(train_fn).parameters)
    except (TypeError, ValueError):  # some builtins have no signature: accept any name
        return {}, True
    return params, any(p.kind is p.VAR_KEYWORD for p in params.values())


def check_names(func: str, train_fn: Callable, names: Sequence[str], argument: str = "controls",
                caller: str = "the panel") -> tuple[bool, bool]:
    """Every name is a parameter of ``train_fn`` (did-you-mean otherwise), every parameter
    without a default gets a value; returns whether it takes ``callbacks`` and ``seed``.
    ``argument`` names what holds the names (``controls``, a search's ``space``), ``caller``
    what passes ``callbacks`` and ``seed`` itself."""
    params, var_kw = signature_of(func, train_fn)
    fn_name = f"{getattr(train_fn, '__name__', 'train_fn')}()"
    for name in names:
        if name in ("callbacks", "seed"):
            raise fail(func, name, f"left to {caller}, not one of the {argument} (it passes `callbacks` and `seed` to "
                                   f"{fn_name})", name)
        if name not in params and not var_kw:
            close = difflib.get_close_matches(name, list(params), n=1)
            raise fail(func, name, f"a parameter of {fn_name}: {', '.join(params) or 'it takes none'}", name,
                       f"Did you mean {close[0]!r}?" if close else "")
    needed = [n for n, p in params.items() if p.default is p.empty and n not in names and n not in ("callbacks", "seed")
              and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if needed:
        raise fail(func, argument, f"given for `{needed[0]}` too ({fn_name} has no default for it)", list(names))
    return "callbacks" in params, "seed" in params


def check_grid(func: str, grid: Any) -> dict[str, list]:
    check_type(func, "grid", grid, Mapping, "a dict of parameter name -> list of values, e.g. {'lr': [1e-3, 1e-2]}")
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or len(values) == 0:
            raise fail(func, "grid", "a dict of parameter name -> non-empty list of values", shown(dict(grid)),
                       f"grid[{name!r}] is {values!r}.")
    return {name: list(values) for name, values in grid.items()}


def cache_dir() -> Path:
    """Where runs are stored: ``$NBH_CACHE``, the clone's ``datasets/.cache/explore``, or the user cache's."""
    return cache_home("explore")


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
    ``10 ** -3`` from a log slider and ``0.001`` from a grid are the same setting; functions
    and classes by name; other objects by ``repr`` without memory addresses."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(f"{float(value):.12g}")
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def call_arguments(fn: Callable, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` completed with ``fn``'s defaults, so that ``train(lr=0.1)`` and
    ``train(lr=0.1, width=32)`` (32 being the default) are one run; ``callbacks`` and ``seed``
    are left out (the seed is keyed on its own, callbacks do not change a run)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return dict(arguments)
    full = {p.name: p.default for p in params if p.default is not p.empty and p.name not in ("callbacks", "seed")
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {**full, **arguments}


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
    text = json.dumps({"format": FORMAT, **record}, indent=1).encode()
    return atomic_write(cache_dir() / f"{key}.json", lambda file: file.write(text))


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
        import pandas as pd

        return cls(arguments=record["arguments"], seed=record.get("seed"), status=record["status"],
                   metrics=record["metrics"], history=pd.DataFrame.from_records(record.get("history") or []),
                   seconds=record.get("seconds", 0.0))


def metric_value(value: Any) -> float | list | None:
    """What a run keeps of one value its train function returned: a number (or 0-d tensor) as a
    float, a 1-D array of numbers (which images a run got right, for ``paired_gain(...,
    images=column)``) as a list, anything else (text, a table, a 2-D array) nothing.

    >>> import torch
    >>> metric_value(torch.tensor(0.5)), metric_value(torch.tensor([1, 0, 1])), metric_value(torch.ones(2, 2))
    (0.5, [1, 0, 1], None)
    """
    if isinstance(value, (str, bytes)) or getattr(value, "ndim", 0) > 1:
        return None
    if hasattr(value, "ndim") and getattr(value, "ndim") == 1 or isinstance(value, (list, tuple)):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return items if all(isinstance(v, numbers.Real) for v in items) else None
    return float(value) if hasattr(value, "__float__") else None


def outcome(result: Any, func: str = "explore") -> tuple[dict[str, float], pd.DataFrame, str]:
    """Final metrics, history and status of what a train function returned: a `TrainResult`
    (or anything with a ``history`` DataFrame) or a dict of metrics."""
    import pandas as pd

    if isinstance(result, Mapping):
        metrics = {k: kept for k, v in result.items() if (kept := metric_value(v)) is not None}
        history = result["history"] if isinstance(result.get("history"), pd.DataFrame) else pd.DataFrame()
        return metrics, history, "completed"
    if isinstance(getattr(result, "history", None), pd.DataFrame):
        metrics = dict(getattr(result, "final", None) or getattr(result, "metrics", None) or {})
        return metrics, result.history, getattr(result, "stop_reason", None) or getattr(result, "status", "completed")
    raise fail(func, "train_fn", "a function that returns a TrainResult or a dict of metrics",
               f"a {type(result).__name__}")


def run_once(train_fn: Callable, identity: str, setting: dict[str, Any], seed: int | None, cache_tag: str | None,
             callbacks: list | None, func: str = "explore") -> tuple[Any, dict]:
    """Call ``train_fn(**setting)`` once (with ``seed``/``callbacks`` when given); return what it
    returned and the JSON-safe record of the run, ready for `store`."""
    kwargs = dict(setting)
    if seed is not None:
        kwargs["seed"] = seed
    if callbacks is not None:
        kwargs["callbacks"] = callbacks
    started = time.perf_counter()
    with watch_stops() as stops:
        result = train_fn(**kwargs)
    seconds = time.perf_counter() - started
    metrics, history, status = outcome(result, func)
    status = stops.status or status  # a dict of scores does not say that its fit was stopped
    record = dict(function=identity.split(":")[0], identity=identity, cache_tag=cache_tag, quick=quick_mode(),
                  arguments={k: plain(v) for k, v in call_arguments(train_fn, setting).items()}, seed=seed,
                  status=status, metrics=metrics,
                  history=json.loads(history.to_json(orient="records")), seconds=round(seconds, 3),
                  created=time.strftime("%Y-%m-%d %H:%M:%S"))
    return result, record


def results_row(setting: Mapping, seed: int | None, record: dict, cached: bool) -> dict:
    return {**setting, "seed": seed, "status": record["status"], **record["metrics"],
            "seconds": record["seconds"], "cached": cached}


class RunStore:
    """The runs of one train function, seed and ``cache_tag``: their keys, the finished ones
    (read from disk or trained here), and one results row per distinct run.

    `sweep` keeps one store per seed; `explore`'s panel keeps one. With ``cache=False`` nothing
    is read from or written to disk and no run is served as finished.

    >>> def train(lr):
    ...     return {"valid_accuracy": 1 - lr}
    >>> store = RunStore(train, seed=None, cache_tag="demo", cache=False)
    >>> result, record = store.run({"lr": 0.25})
    >>> result, record["status"], store.find({"lr": 0.25})
    ({'valid_accuracy': 0.75}, 'completed', None)
    >>> store.table(["lr"])[["lr", "status", "valid_accuracy", "cached"]]
         lr     status  valid_accuracy  cached
    0  0.25  completed            0.75   False
    """

    def __init__(self, train_fn: Callable, seed: int | None = None, cache_tag: str | None = None, cache: bool = True):
        self.train_fn, self.seed, self.cache_tag, self.cache = train_fn, seed, cache_tag, cache
        self.identity = function_identity(train_fn)
        self.records: dict[str, dict] = {}  # key -> finished run (trained here or read from disk), so disk is read once
        self.rows: dict[str, dict] = {}     # key -> results row, in the order the runs were first seen

    def key(self, setting: Mapping[str, Any]) -> str:
        """The cache key of ``setting`` (defaults filled in; see `run_key`)."""
        return run_key(self.identity, call_arguments(self.train_fn, dict(setting)), self.seed, self.cache_tag)

    def find(self, setting_or_key: Mapping[str, Any] | str) -> dict | None:
        """The finished run of a setting (or of its key), from memory or disk; None if there is none."""
        if not self.cache:
            return None
        key = setting_or_key if isinstance(setting_or_key, str) else self.key(setting_or_key)
        if key not in self.records and (record := load(key)) is not None:
            self.records[key] = record
        return self.records.get(key)

    def serve(self, setting: Mapping[str, Any]) -> dict | None:
        """Like `find`, and a run found is listed among the rows (as cached) if it is not there yet."""
        key = self.key(setting)
        if (record := self.find(key)) is not None:
            self.rows.setdefault(key, results_row(setting, self.seed, record, cached=True))
        return record

    def run(self, setting: Mapping[str, Any], callbacks: list | None = None) -> tuple[Any, dict]:
        """Train ``setting`` now (`run_once`), keep and store the run if it finished, list its row;
        return what ``train_fn`` returned and the record."""
        result, record = run_once(self.train_fn, self.identity, dict(setting), self.seed, self.cache_tag, callbacks)
        key = self.key(setting)
        if record["status"] not in NOT_SERVED:  # a run cut short is listed, never served as finished
            self.records[key] = record
            if self.cache:
                store(key, record)
        self.rows[key] = results_row(setting, self.seed, record, cached=False)
        return result, record

    def table(self, names: Sequence[str] = ()) -> pd.DataFrame:
        """One row per distinct run: ``names`` (the setting's), seed, status, final metrics, seconds, cached."""
        import pandas as pd

        rows = pd.DataFrame(list(self.rows.values()))
        first, last = [*names, "seed", "status"], ["seconds", "cached"]
        return rows.reindex(columns=first + [c for c in rows.columns if c not in first + last] + last)


TRAIN_FN = Function("a function of keyword arguments (your own, or one that calls fit)")
GRID = Rule(lambda f, n, v: check_grid(f, v) and None, "a dict of parameter name -> list of values, e.g. "
            "{'lr': [1e-3, 1e-2]}", bad=[[1e-3, 1e-2], {"lr": 0.1}, {"lr": []}])
CACHE_TAG = Optional(Instance(str, "a string naming the data"))


@checked(train_fn=TRAIN_FN, grid=GRID,
         seeds=Satisfies(lambda v: isinstance(v, (list, tuple, range)) and len(v) > 0 and all(SEED.ok(s) for s in v),
                         "a non-empty list or tuple of seeds (integers >= 0), e.g. (0, 1, 2)", bad=[0, [-1], ["a"], []]),
         cache_tag=CACHE_TAG, progress=FLAG, cache=FLAG)
def sweep(train_fn: Callable, grid: Mapping[str, Sequence], seeds: Sequence[int] = (0,), cache_tag: str | None = None,
          progress: bool = True, cache: bool = True) -> pd.DataFrame:
    """Run ``train_fn`` on every combination of ``grid`` (times ``seeds``); return a tidy table.

    One row per run: the arguments, ``seed``, ``status``, the final metrics, ``seconds`` and
    ``cached`` (served from the cache, not trained). A metric may be a 1-D array, such as which
    validation images the run got right (a list in its cell): ``paired_gain(table, ...,
    images="valid_correct")`` then pairs the runs by image as well as by seed. Stop or Ctrl-C
    ends the whole sweep (the runs finished so far are stored; the cut-short one is not). Runs are stored in the same cache as
    `explore`'s, so ``explore(train_fn, grid=grid, cache_tag=...)`` afterwards scrubs through
    them with no training. Seeds go to ``train_fn``'s ``seed`` parameter.

    >>> table = sweep(train, {"lr": [1e-3, 1e-2], "width": [32, 128]}, seeds=(0, 1))  # doctest: +SKIP
    >>> table.groupby(["lr", "width"])["valid_accuracy"].mean()                        # doctest: +SKIP
    """
    import pandas as pd

    grid = check_grid("sweep", grid)
    takes_callbacks, takes_seed = check_names("sweep", train_fn, list(grid))
    seeds = list(seeds)
    if len(seeds) > 1 and not takes_seed:
        raise fail("sweep", "seeds", f"one seed: {getattr(train_fn, '__name__', 'train_fn')}() has no `seed` "
                   "parameter, so every seed would give the same run", tuple(seeds))
    from tqdm.auto import tqdm

    seeds = [int(seed) if takes_seed else None for seed in seeds]
    stores = {seed: RunStore(train_fn, seed, cache_tag, cache) for seed in seeds}  # a store holds one seed's runs
    combos, rows = [dict(zip(grid, values)) for values in itertools.product(*grid.values())], []
    bar = tqdm(total=len(combos) * len(seeds), desc="sweep", unit="run", disable=not progress)
    try:
        for setting in combos:
            for seed in seeds:
                bar.set_postfix_str(describe(setting), refresh=False)
                record = stores[seed].find(setting)
                cached = record is not None
                if record is None:
                    _, record = stores[seed].run(setting, [] if takes_callbacks else None)
                    if record["status"] == "interrupted":  # Stop or Ctrl-C ends the sweep, not just this run
                        raise KeyboardInterrupt(
                            f"sweep(): interrupted in run {len(rows) + 1} of {bar.total} ({describe(setting)}); the "
                            f"{sum(not r['cached'] for r in rows)} runs it finished are stored, so running it again "
                            "starts where it stopped.")
                rows.append(results_row(setting, seed, record, cached))
                bar.update()
        bar.set_postfix_str(f"{sum(r['cached'] for r in rows)} of {len(rows)} from the cache")
    finally:
        bar.close()
    return pd.DataFrame(rows)
