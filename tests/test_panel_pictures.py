"""What `explore`'s panel draws says what it shows: a curves title that fits and names the
setting and a headline, a comparison of the runs at the current setting (not a mean over the
controls off its axes) with the current run ringed, a table without per-class columns."""

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from nbhelpers import explore, sweep
from nbhelpers.ui import panel as panel_module
from nbhelpers.ui._draw import compare_figure, curves_figure

pytestmark = pytest.mark.usefixtures("one_thread", "cache_dir")



def spy(monkeypatch, name):
    """Record the arguments the panel draws ``name`` with, and draw as before."""
    calls, real = [], getattr(panel_module, name)
    monkeypatch.setattr(panel_module, name, lambda *args: calls.append(args) or real(*args))
    return calls


def inside(fig, text) -> bool:
    box = text.get_window_extent(FigureCanvasAgg(fig).get_renderer())
    return box.x0 >= 0 and box.x1 <= fig.bbox.width


def history(final_valid):
    return pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2, "loss": [1.0, 1.1, 0.6, 0.8],
                         "accuracy": [0.5, 0.45, 0.7, final_valid]})


def ten_classes(depth=2, width=32, activation="relu", norm="none", skip=False):
    """What chapter 03's train function returns: `scores` with ten per-class accuracies per split."""
    valid = 0.8 - 0.01 * depth + (0.05 if norm == "batch" else 0.0)
    per_class = {f"{split}_accuracy[{c}]": valid for split in ("valid", "test") for c in range(10)}
    return {"valid_accuracy": valid, "test_accuracy": valid, **per_class, "train_loss": 0.3, "train_accuracy": 0.9,
            "valid_loss": 0.5, "dead_fraction": 0.1, "history": history(valid)}


def test_the_curves_title_names_the_setting_and_a_headline_and_fits(monkeypatch):
    drawn = spy(monkeypatch, "curves_png")
    panel = explore(ten_classes, depth=[2, 16], width=[32, 128], activation=["relu", "sigmoid"],
                    norm=["none", "batch"], skip=[False, True], cache=False)
    panel.run(depth=16, width=128, activation="sigmoid", norm="batch", skip=False)
    history_, title, numbers = drawn[-1]
    assert title == "depth=16, width=128, activation=sigmoid, norm=batch, skip=False"
    assert numbers == "valid_accuracy 0.690  valid_loss 0.500"  # two headline numbers, no per-class one
    fig = curves_figure(history_, title, numbers)
    suptitle = fig._suptitle
    flat = " ".join(suptitle.get_text().split())
    assert title in flat and " ".join(numbers.split()) in flat and "[" not in flat
    assert inside(fig, suptitle), suptitle.get_text()

    table = panel.table.value
    assert "valid_accuracy[" not in table.split("</table>")[0]  # ten columns per split, named by index: not shown
    assert "20 per-class columns" in table and "panel.results" in table
    assert "valid_accuracy[9]" in panel.results.columns  # still there for whoever wants them


def test_a_title_too_wide_for_one_line_wraps_until_it_fits():
    long = ", ".join(f"control_{i}=value_{i}" for i in range(8))
    fig = curves_figure(history(0.7), long, "valid_accuracy 0.700  valid_loss 0.500")
    assert fig._suptitle.get_text().count("\n") >= 2 and inside(fig, fig._suptitle)


def score(lr, width, dropout):
    """Dropout decides most of it: a mean over dropout is far from any one run."""
    return round(0.5 + lr + width / 1000 - 0.3 * dropout, 6)


def three(lr=0.1, width=8, dropout=0.0):
    return {"valid_accuracy": score(lr, width, dropout), "history": history(score(lr, width, dropout))}


def test_the_comparison_plots_the_runs_at_the_current_setting_and_rings_this_run(monkeypatch):
    grid = {"lr": [0.1, 0.2], "width": [8, 32], "dropout": [0.0, 0.5]}
    sweep(three, grid, progress=False)
    drawn = spy(monkeypatch, "compare_png")
    panel = explore(three, grid=grid)
    panel.run(lr=0.2, width=32, dropout=0.5)
    results, setting, x, hue, metric = drawn[-1]
    assert len(results) == 8 and setting == {"lr": 0.2, "width": 32, "dropout": 0.5} and (x, hue) == ("lr", "width")
    ax = compare_figure(results, setting, x, hue, metric).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    ring = lines.pop("this run")
    plotted = sorted((round(float(px), 6), round(float(py), 6)) for line in lines.values() for px, py in line.get_xydata())
    own = sorted((lr, score(lr, width, 0.5)) for lr in grid["lr"] for width in grid["width"])
    assert plotted == own  # each point one run's own final value
    mean = (score(0.2, 32, 0.0) + score(0.2, 32, 0.5)) / 2
    assert not any(py == pytest.approx(mean) for _, py in plotted)  # not the mean over dropout
    record = panel.record()
    assert record["history"][-1]["accuracy"] == pytest.approx(record["metrics"]["valid_accuracy"])
    assert ring.get_xydata().tolist() == [[0.2, pytest.approx(record["metrics"]["valid_accuracy"])]]
    assert " ".join(ax.get_title().replace(",", "").split()) == "valid_accuracy of each run at dropout=0.5"

    panel.controls["dropout"].value = 0.0  # moving a control off the axes redraws the comparison
    assert drawn[-1][1]["dropout"] == 0.0
