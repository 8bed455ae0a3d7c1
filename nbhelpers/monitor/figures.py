"""The monitoring picture: accuracy batch by batch over a stream, with the drift detector's
evidence under it and the alarms and retrainings marked, for one policy or several side by side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._checks import TEXT, Satisfies, checked, is_pandas

if TYPE_CHECKING:
    import pandas as pd

    from ..plots._figure import Figure

NEEDED = {"batch", "accuracy", "smallest_p", "alarm"}


def _history(v: Any) -> bool:
    return is_pandas(v, "DataFrame") and NEEDED <= set(v.columns) and len(v) > 0


HISTORIES = Satisfies(lambda v: _history(v) or (isinstance(v, Mapping) and len(v) > 0
                                                and all(map(_history, v.values()))),
                      "replay's (or DriftMonitor.history's) DataFrame, or a dict {label: DataFrame}",
                      bad=["history", {}, {"a": 3}])


@checked(histories=HISTORIES, title=TEXT)
def plot_stream(histories: pd.DataFrame | Mapping[str, pd.DataFrame], title: str = "") -> Figure:
    """Two panels over the batches of a stream: the accuracy on each batch (one line per history),
    and the smallest Holm-corrected p-value of the drift tests (log scale, the first history's,
    with its 0.05 line). Batches where the first history's alarm sounded are shaded, and the
    labels name that history when there are several; a retraining is a dashed
    vertical line in its history's colour.

    >>> import pandas as pd
    >>> h = pd.DataFrame({"batch": [0, 1, 2], "accuracy": [0.9, 0.9, 0.6], "smallest_p": [0.5, 0.2, 1e-6],
    ...                   "alarm": [False, False, True], "retrained": [False, False, True]})
    >>> fig = plot_stream({"on alarm": h, "never": h.assign(alarm=False)})
    >>> fig.axes[1].get_xlabel()
    "batch of the stream (shaded: alarm of 'on alarm'; dashed: retrained after it)"
    """
    from ..plots._figure import figure_class

    histories = {"": histories} if is_pandas(histories, "DataFrame") else dict(histories)
    fig = figure_class()(figsize=(7.0, 4.4), layout="constrained", dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    for i, (label, history) in enumerate(histories.items()):
        color = f"C{i}"
        top.plot(history["batch"], history["accuracy"], marker=".", color=color, label=label or None)
        for batch in history.loc[history.get("retrained", history["alarm"] & False), "batch"]:
            top.axvline(batch + 0.5, color=color, linestyle="--", linewidth=1)
    first = next(iter(histories.values()))
    bottom.semilogy(first["batch"], first["smallest_p"].clip(lower=1e-300), marker=".", color="0.3")
    bottom.axhline(0.05, color="C3", linewidth=1, label="0.05")
    for ax in (top, bottom):
        for batch in first.loc[first["alarm"], "batch"]:
            ax.axvspan(batch - 0.5, batch + 0.5, color="C3", alpha=0.12, linewidth=0)
    first_label = next(iter(histories))
    whose = f" of {first_label!r}" if first_label and len(histories) > 1 else ""
    top.set_ylabel("accuracy on the batch")
    bottom.set_ylabel(f"smallest p (Holm){whose}")
    bottom.set_xlabel(f"batch of the stream (shaded: alarm{whose}; dashed: retrained after it)")
    if any(histories):
        top.legend(fontsize=8)
    bottom.legend(fontsize=8, loc="lower left")
    top.set_title(title)
    return fig
