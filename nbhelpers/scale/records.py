"""Recorded benchmark runs of chapter 09 (`bench_records`): what ``bench/gpu_run.sh`` wrote on a
machine with a GPU (``reference/09/gpu/``), and what ``bench/time_to_accuracy.py`` wrote on the
course's CPU (``reference/09/cpu/``), each with its device name, versions and date, so the chapter
shows measured numbers of runs longer than it can make itself. `recorded_time_to_accuracy`
states a time-to-accuracy record in one sentence, read from the record, and
`plot_time_to_accuracy` draws its seeds' curves against the goal.

>>> isinstance(bench_records("gpu"), dict)
True
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from .._checks import Choice, Instance, Optional, Real, Satisfies, checked
from .._files import CLONE
from ..evaluation.claims import Said

if TYPE_CHECKING:
    from ..plots._figure import Figure

RECORDS = CLONE / "reference" / "09"


@checked(kind=Choice("gpu", "cpu"), folder=Optional(Instance((str, os.PathLike), "a folder path")))
def bench_records(kind: str = "gpu", folder: str | os.PathLike | None = None) -> dict[str, dict]:
    """The recorded benchmark runs of ``kind`` (``reference/09/<kind>/``, or ``folder``), as
    ``{name: record}`` by file name (GPU: ``time-to-accuracy``, ``precision``, ``compile``,
    ``profile``, ``ddp``; CPU: ``time-to-accuracy``), or ``{}`` when none is recorded (or
    nbhelpers is installed without the course's ``reference/`` folder).

    >>> bench_records("cpu", folder="/no/such/folder")
    {}
    """
    path = Path(folder) if folder is not None else RECORDS / kind
    if not path.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(path.glob("*.json"))}


TIME_TO_ACCURACY = Satisfies(lambda v: isinstance(v, dict) and {"device", "date", "versions", "split", "runs",
                                                                "summary", "recipe"} <= set(v),
                             "a record of bench/time_to_accuracy.py (bench_records(...)['time-to-accuracy'])",
                             bad=[{}, "time-to-accuracy.json"])


@checked(record=TIME_TO_ACCURACY, goal_accuracy=Optional(Real(low=0, high=1)),
         goal_seconds=Optional(Real(low=0, low_open=True)))
def recorded_time_to_accuracy(record: dict, goal_accuracy: float | None = None,
                              goal_seconds: float | None = None) -> Said:
    """One Markdown sentence, read from a ``bench/time_to_accuracy.py`` record: the device and
    conditions, the recipe's test accuracy over the seeds (mean, lowest, standard deviation), its
    training seconds to 93% and 94% and in all, and, given ``goal_accuracy`` and
    ``goal_seconds``, whether the goal (that mean accuracy in at most that many seconds of
    training) was met, "borderline" when the mean is within two standard errors of the goal
    (another run of as many seeds could land on the other side).

    >>> record = {"device": "a CPU", "date": "2026-11-28T22:00", "versions": {"torch": "2.14"}, "threads": 2,
    ...           "split": {"words": "train on all, score the test set"}, "recipe": {"epochs": 12},
    ...           "runs": [{"to_93": 300.0, "to_94": None}, {"to_93": 320.0, "to_94": None}],
    ...           "summary": {"accuracy_mean": 0.936, "accuracy_min": 0.935, "accuracy_std": 0.001,
    ...                       "train_seconds_median": 560.0, "seconds_from_process_start_first_run": 600.0}}
    >>> str(recorded_time_to_accuracy(record, 0.939, 600)).split("; ")[-1]
    'the goal, 93.9% in at most 600 s of training, was not met.'
    """
    summary, runs = record["summary"], record["runs"]

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'s' * (n != 1)}"

    reached = []
    for goal in ("93", "94"):
        found = [r[f"to_{goal}"] for r in runs if r.get(f"to_{goal}") is not None]
        reached.append(f"{goal}% after {statistics.median(found):.1f} s of training (median of the {len(found)} of "
                       f"{plural(len(runs), 'seed')} that reached it)" if found else f"{goal}% in none")
    threads = f", {plural(record['threads'], 'thread')}" if record.get("threads") and record.get(
        "device_type") != "cuda" else ""
    text = (f"Recorded on {record['device']} ({record['date']:.10}, torch {record['versions']['torch']}{threads}; "
            f"{record['split']['words']}; {record['recipe'].get('epochs', '?')} epochs): over "
            f"{plural(len(runs), 'seed')} the recipe reached {summary['accuracy_mean']:.2%} test accuracy (lowest "
            f"{summary['accuracy_min']:.2%}, standard deviation {100 * summary['accuracy_std']:.2f} points); it "
            f"reached {' and '.join(reached)}; a run trained for {summary['train_seconds_median']:.1f} s (median), "
            f"and the first ended {summary['seconds_from_process_start_first_run']:.1f} s after its process started")
    if goal_accuracy is not None and goal_seconds is not None:
        in_time = summary["train_seconds_median"] <= goal_seconds
        met = in_time and summary["accuracy_mean"] >= goal_accuracy
        error = summary["accuracy_std"] / len(runs) ** 0.5
        close = in_time and abs(summary["accuracy_mean"] - goal_accuracy) < 2 * error  # too slow is not borderline
        text += (f"; the goal, {goal_accuracy:.1%} in at most {goal_seconds:g} s of training, was "
                 f"{'met' if met else 'not met'}")
        if close:
            text += (f" (borderline: the mean is within two standard errors, {200 * error:.2f} points, "
                     f"of {goal_accuracy:.1%})")
    return Said(text + ".")


@checked(record=TIME_TO_ACCURACY, goal_accuracy=Optional(Real(low=0, high=1)),
         goal_seconds=Optional(Real(low=0, low_open=True)))
def plot_time_to_accuracy(record: dict, goal_accuracy: float | None = None,
                          goal_seconds: float | None = None) -> Figure:
    """Test accuracy after each epoch against the training seconds so far, one line per seed of a
    ``bench/time_to_accuracy.py`` record, with the goal (``goal_accuracy`` in at most
    ``goal_seconds``) as dashed lines: a curve that enters the top-left corner met it.

    >>> curve = [{"train_seconds": 50.0, "accuracy": 0.9}, {"train_seconds": 99.0, "accuracy": 0.93}]
    >>> runs = [{"seed": 0, "curve": curve}]
    >>> record = {"device": "a CPU", "date": "2026-11-28", "versions": {}, "split": {}, "summary": {}, "recipe": {},
    ...           "runs": runs}
    >>> len(plot_time_to_accuracy(record, 0.939, 600).axes[0].lines)
    3
    """
    import matplotlib

    from ..plots._figure import Figure

    with matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(5.6, 3.2), layout="constrained")
        ax = fig.add_subplot()
        for run in record["runs"]:
            curve = run["curve"]
            ax.plot([row["train_seconds"] for row in curve], [100 * row["accuracy"] for row in curve], "o-",
                    markersize=3, label=f"seed {run['seed']}")
        if goal_accuracy is not None:
            ax.axhline(100 * goal_accuracy, color="gray", linestyle="--", linewidth=1)
        if goal_seconds is not None:
            ax.axvline(goal_seconds, color="gray", linestyle="--", linewidth=1)
        ax.set(xlabel="training seconds", ylabel="test accuracy (%)",
               title=f"Time to accuracy on {record['device']}")
        ax.legend(fontsize=8)
    return fig
