"""What `fit` shows while it trains: a progress bar, one line per epoch, a time estimate,
and (optionally) live learning curves.

The bar is ``tqdm.auto``: a widget in JupyterLab and VS Code, plain text in a terminal or
under nbclient. Epoch lines are printed text, so they survive everywhere. Live curves use an
IPython display handle updated in place (``display(..., display_id=True)``): it needs no
widget JavaScript, does not pile up figures, and the last picture stays in the saved
notebook.
"""

from __future__ import annotations

import time

from tqdm.auto import tqdm

from ..plots import figure_png, learning_curves

# Warn about runs longer than this (seconds) before they eat a reader's afternoon.
LONG_RUN_SECONDS = 120.0


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, VS Code, nbclient), False in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def epoch_line(epoch: int, epochs: int, metrics: dict[str, float], lr: float, seconds: float) -> str:
    """``epoch  3/10  train loss 0.412 acc 85.1%  valid loss 0.398 acc 85.9%  lr 1.0e-03  4.1 s``"""
    parts = [f"epoch {epoch:>{len(str(epochs))}}/{epochs}"]
    for split in ("train", "valid"):
        if f"{split}_loss" in metrics:
            text = f"{split} loss {metrics[split + '_loss']:.4f}"
            if f"{split}_accuracy" in metrics:
                text += f" acc {100 * metrics[split + '_accuracy']:.1f}%"
            parts.append(text)
    parts.append(f"lr {lr:.1e}")
    parts.append(f"{seconds:.1f} s")
    return "  ".join(parts)


class Reporter:
    """Progress bar, epoch lines, one time estimate and live curves for one `fit` call."""

    def __init__(self, *, epochs: int, steps_per_epoch: int | None, device_type: str,
                 progress: bool, live_plot: bool, start_epoch: int = 0):
        self.epochs, self.steps_per_epoch, self.device_type = epochs, steps_per_epoch, device_type
        self.progress, self.start = progress, time.perf_counter()
        total = steps_per_epoch * (epochs - start_epoch) if steps_per_epoch else None
        self.bar = tqdm(total=total, unit="batch", desc="fit", leave=True, disable=not progress)
        self.estimated = False
        self.live = None
        self.last_drawn, self.drawn_rows = 0.0, 0
        if live_plot and in_notebook():
            from IPython.display import HTML, display
            self.live = display(HTML("<i>learning curves appear after the first epoch</i>"), display_id=True)

    def batch_done(self, steps_done: int, sync) -> None:
        """Called every batch: advance the bar; once, estimate the whole run's duration."""
        self.bar.update(1)
        if self.estimated or steps_done < 10 or not self.steps_per_epoch:
            return
        elapsed = time.perf_counter() - self.start
        if elapsed < 2.0 and steps_done < self.steps_per_epoch:
            return
        sync()  # queued GPU work would make the estimate too optimistic
        self.estimated = True
        total_steps = self.steps_per_epoch * self.epochs
        estimate = (time.perf_counter() - self.start) / steps_done * total_steps * 1.1  # + validation
        if estimate > LONG_RUN_SECONDS and self.progress:
            hint = ("A GPU runs this much faster; for a first look, quick mode (NBH_QUICK=1, or "
                    "fewer epochs / a smaller training set) takes seconds.") if self.device_type == "cpu" else \
                   "Fewer epochs or a smaller training set give a first look in less time."
            self.write(f"fit(): this run will take about {format_seconds(estimate)} on the "
                       f"{self.device_type} ({self.epochs} epochs x {self.steps_per_epoch} batches). {hint}")

    def epoch_done(self, epoch: int, metrics: dict[str, float], lr: float, seconds: float, history: list[dict]) -> None:
        self.bar.set_postfix({k.replace("_accuracy", "_acc"): round(v, 4) for k, v in metrics.items()
                              if k.startswith("valid") or "valid_loss" not in metrics}, refresh=False)
        if self.progress:
            self.write(epoch_line(epoch, self.epochs, metrics, lr, seconds))
        final = epoch == self.epochs
        if self.live is not None and (final or time.perf_counter() - self.last_drawn > 0.5):
            self.draw(history)

    def draw(self, history: list[dict]) -> None:
        import pandas as pd
        from IPython.display import Image

        self.live.update(Image(figure_png(learning_curves(pd.DataFrame(history)))))
        self.last_drawn, self.drawn_rows = time.perf_counter(), len(history)

    def write(self, line: str) -> None:
        self.bar.write(line) if self.progress else print(line)

    def close(self, history: list[dict]) -> None:
        if self.live is not None and len(history) != self.drawn_rows:
            self.draw(history)
        self.bar.close()
