"""The chapter 06 views of a search: `param_importances`, `isolation` and its plot, `plot_points`,
and `search_panel`, driven without a browser (its controls set as a click would, Run and Stop
through the worker)."""

import time

import numpy as np
import pandas as pd
import pytest

from nbhelpers import (isolation, log_uniform, param_importances, plot_isolation, plot_points, search, search_panel,
                       trials_table, uniform)


def score(lr, width=8, dropout=0.0):
    """Best near lr = 0.01; width adds a little, dropout nothing."""
    return {"valid_accuracy": 1 - abs(np.log10(lr) + 2) / 10 + width / 1e4}


def test_param_importances_put_the_parameter_that_matters_first():
    study = search(score, {"lr": log_uniform(1e-4, 1e-1), "width": [8, 16], "dropout": uniform(0, 0.5)},
                   strategy="random", trials=20, storage=":memory:", progress=False)
    shares = param_importances(study)
    assert shares.index[0] == "lr" and shares.iloc[0] > 0.5 and shares.sum() == pytest.approx(1.0)
    assert param_importances(study).equals(shares)  # seeded: the same study gives the same shares


def test_isolation_picks_each_scientific_value_at_its_own_best_nuisance_setting():
    runs = pd.DataFrame({"width": [8] * 4 + [64] * 4, "lr": [0.1, 0.01] * 4, "seed": [0, 0, 1, 1] * 2,
                         "valid_accuracy": [0.70, 0.80, 0.72, 0.78, 0.90, 0.60, 0.88, 0.62]})
    best = isolation(runs, "width", "lr")
    assert best[["width", "lr"]].values.tolist() == [[8, 0.01], [64, 0.1]]
    assert best["mean"].tolist() == pytest.approx([0.79, 0.89]) and best["n"].tolist() == [2, 2]
    assert best["settings"].tolist() == [2, 2]
    losses = runs.assign(valid_loss=1 - runs["valid_accuracy"])
    assert isolation(losses, "width", "lr", metric="valid_loss")["lr"].tolist() == [0.01, 0.1]  # lower is better
    table = runs.assign(state=["complete"] * 6 + ["pruned", "complete"], value=runs["valid_accuracy"])
    assert isolation(table, "width", ["lr"], metric="value")["n"].tolist() == [2, 1]  # pruned trials left out
    with pytest.raises(ValueError, match="isolation\\(\\): `nuisance` must be a column of `runs`"):
        isolation(runs, "width", "rate")
    figure = plot_isolation(runs, "width", "lr")
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3 and list(lines[-1].get_ydata()) == pytest.approx([0.79, 0.89])  # 2 fixed lr + best
    assert [t.get_text() for t in figure.axes[0].texts] == ["lr=0.01", "lr=0.1"]


def test_plot_points_shows_how_many_values_each_strategy_tried():
    space = {"lr": [1e-3, 1e-2], "width": [8, 16]}
    grid = search(score, space, strategy="grid", storage=":memory:", progress=False)
    rand = search(score, {"lr": log_uniform(1e-3, 1e-1), "width": [8, 16]}, strategy="random", trials=4,
                  storage=":memory:", progress=False)
    figure = plot_points({"grid": grid, "random": rand}, "lr", "width")
    titles = [ax.get_title() for ax in figure.axes[:2]]
    assert titles[0] == "grid: 2 values of lr, 2 of width"
    assert titles[1].startswith(f"random: {trials_table(rand)['lr'].nunique()} values of lr")
    assert figure.axes[0].get_xscale() == "log"


def test_search_panel_runs_continues_and_stops_between_trials():
    pytest.importorskip("ipywidgets")
    calls = []

    def slow(lr, width=8):
        calls.append(lr)
        time.sleep(0.05)
        return score(lr, width)

    panel = search_panel(slow, {"lr": log_uniform(1e-4, 1e-1), "width": [8, 16]}, trials=3)
    assert "grid" not in panel.strategy.options and panel.pruner.options == (("none", None),)  # no callbacks
    panel.strategy.value = "random"
    study = panel.run()
    assert len(trials_table(study)) == 3 and panel.draws == 3 and len(calls) == 3
    assert bytes(panel.image.value).startswith(b"\x89PNG") and panel.status.value.startswith("random: 3 trials (0 pruned)")
    panel.trials.value = 5  # Run again with a larger budget: the same study continues
    assert len(trials_table(panel.run())) == 5 and len(calls) == 5
    panel.trials.value = 40
    panel.start()  # the Run button: in the worker thread
    deadline = time.monotonic() + 10
    while len(calls) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    panel.stop()
    assert panel.wait(10)
    ran = len(trials_table(panel.studies["random", None]))
    assert 7 <= ran < 40 and ran == len(calls), ran  # stopped after the trial in progress
    panel.x.value = "epochs"  # redraws the same study by the other axis
    assert panel.draws == ran + 1
    assert "random: " in repr(panel)


def test_search_panel_stop_ends_the_trial_in_progress_when_fit_takes_the_callbacks():
    pytest.importorskip("ipywidgets")
    import torch

    from nbhelpers import MLP, fit

    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    epochs_run = []

    def train(lr, callbacks=()):
        result = fit(MLP(4, 2, width=8), ((x, y), (x, y)), epochs=10_000, lr=lr, batch_size=8, callbacks=callbacks,
                     progress=False)  # would run for minutes: only Stop ends it
        epochs_run.append(len(result.history))
        return result

    panel = search_panel(train, {"lr": log_uniform(1e-3, 1e-1)}, trials=3)
    panel.strategy.value = "random"
    panel.start()
    time.sleep(2)  # the first trial is training
    panel.stop()
    assert panel.wait(30), "Stop did not end the trial in progress"
    assert len(epochs_run) == 1 and epochs_run[0] < 10_000  # fit stopped inside the trial, and no trial followed
    assert panel.status.value.startswith("random: stopped in trial 1; Run again continues")
    with pytest.raises(ValueError, match="search\\(\\): `callbacks` must be None: callbacks need score\\(\\) to take"):
        search(score, {"lr": [0.01]}, callbacks=[], storage=":memory:", progress=False)


def test_search_panel_offers_grid_and_pruners_when_they_apply():
    pytest.importorskip("ipywidgets")

    def train(lr, width=8, callbacks=()):
        return score(lr, width)

    panel = search_panel(train, {"lr": [1e-3, 1e-2], "width": [8, 16]}, trials=4)
    assert "grid" in panel.strategy.options and "median" in [v for _, v in panel.pruner.options]
    panel.strategy.value = "grid"
    assert len(trials_table(panel.run())) == 4
    with pytest.raises(ValueError, match="search_panel\\(\\): `lrr` must be a parameter of train\\(\\)"):
        search_panel(train, {"lrr": [0.1]})
