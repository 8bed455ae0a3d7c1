"""explore / sweep / the run cache, driven without a front end: controls, runs and what they
redraw, the cache, Stop, latest-setting-wins, debouncing, errors and the text fallback."""

import json
import threading
import time

import ipywidgets as widgets
import pandas as pd
import pytest
import torch

from nbhelpers import MLP, Callback, Panel, StopTraining, TrainResult, explore, fit, sweep
from nbhelpers.runs import CachedResult, RunStore, function_identity, run_key
from nbhelpers.ui.panel import DEBOUNCE

PNG = b"\x89PNG"


pytestmark = pytest.mark.usefixtures("one_thread", "cache_dir")



def blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    return (x[:320], y[:320]), (x[320:], y[320:])


DATA = blobs()


def make_train(calls, extra=()):
    def train(lr, width=8, epochs=2, callbacks=(), seed=0):
        calls.append({"lr": lr, "width": width})
        torch.manual_seed(seed)
        return fit(MLP(10, 3, width=width), DATA, epochs=epochs, lr=lr, callbacks=[*callbacks, *extra],
                   progress=False, seed=seed, device="cpu")
    return train


class FirstEpoch(Callback):
    def __init__(self):
        self.done = threading.Event()

    def on_epoch_end(self, state):
        self.done.set()


def test_controls_become_the_widgets_a_reader_expects():
    def train(lr=0.01, dropout=0.1, width=64, activation="gelu", norm=False, batch=32, **rest):
        return {}

    own = widgets.IntText(value=3)
    panel = explore(train, lr=(1e-4, 1e-1), dropout=(0.0, 0.5), width=(16, 256), activation=["relu", "gelu"],
                    norm=True, batch=own, anything=[1, 2])
    c = panel.controls
    assert isinstance(c["lr"], widgets.FloatLogSlider) and c["lr"].value == pytest.approx(0.01)  # default kept
    assert isinstance(c["dropout"], widgets.FloatSlider) and c["dropout"].value == pytest.approx(0.1)
    assert isinstance(c["width"], widgets.IntSlider) and c["width"].value == 64
    assert isinstance(c["activation"], widgets.Dropdown) and c["activation"].value == "gelu"
    assert isinstance(c["norm"], widgets.Checkbox) and c["norm"].value is True
    assert c["batch"] is own and c["anything"].value == 1  # **rest accepts any name
    assert "nbh-control-lr" in c["lr"]._dom_classes and "nbh-curves" in panel.curves._dom_classes
    assert isinstance(panel, Panel) and panel.setting["width"] == 64


def test_run_updates_curves_table_plot_and_results():
    calls = []
    panel = explore(make_train(calls), lr=(1e-3, 1e-1), width=[4, 16])
    before = bytes(panel.curves.value), panel.table.value, bytes(panel.compare.value)
    result = panel.run()
    assert isinstance(result, TrainResult) and len(calls) == 1
    assert bytes(panel.curves.value).startswith(PNG) and bytes(panel.curves.value) != before[0]
    assert bytes(panel.compare.value) != before[2] and "completed" in panel.table.value != before[1]
    panel.controls["width"].value = 16
    panel.run()
    results = panel.results
    assert list(results.columns[:4]) == ["lr", "width", "seed", "status"]
    assert list(results.columns[-2:]) == ["seconds", "cached"] and "valid_accuracy" in results
    assert results["width"].tolist() == [4, 16] and results["status"].tolist() == ["completed"] * 2
    assert not results["cached"].any() and results["valid_accuracy"].between(0, 1).all()
    assert panel.run(width=4, lr=0.02) is not None and len(panel.results) == 3  # run(**values) sets controls


def test_a_setting_run_before_is_served_from_the_cache(cache_dir):
    calls = []
    train = make_train(calls)
    panel = explore(train, lr=[0.01, 0.1])
    first = panel.run()
    panel.run(lr=0.1)
    shown = bytes(panel.curves.value)
    started = time.perf_counter()
    panel.controls["lr"].value = 0.01  # the observer redraws a cached setting at once
    assert time.perf_counter() - started < 2.0 and bytes(panel.curves.value) != shown
    again = panel.run()
    assert len(calls) == 2 and isinstance(again, CachedResult) and again.cached
    assert again.metrics == pytest.approx(first.final) and again.final == again.metrics
    pd.testing.assert_frame_equal(again.history[["epoch", "split", "loss"]], first.history[["epoch", "split", "loss"]])
    assert "from the cache" in panel.status.value and len(panel.results) == 2
    new_session = explore(train, lr=[0.01, 0.1]).run()
    assert new_session.cached and len(calls) == 2
    explore(train, lr=[0.01], cache=False).run()
    assert len(calls) == 3
    files = sorted(cache_dir.iterdir())
    assert [f.suffix for f in files] == [".json", ".json"]  # no temporary files left, no pickles
    record = json.loads(files[0].read_text())
    assert record["status"] == "completed" and record["seed"] == 0 and record["arguments"]["lr"] in (0.01, 0.1)
    assert {"metrics", "history", "seconds", "function", "cache_tag", "quick"} <= set(record)


def test_record_looks_up_a_finished_run_of_any_setting():
    panel = explore(make_train([]), lr=[0.01, 0.1])
    assert panel.record() is None  # nothing has run yet
    panel.run(lr=0.1)
    assert panel.record(lr=0.1)["metrics"]["valid_accuracy"] == pytest.approx(panel.results["valid_accuracy"].iloc[0])
    assert panel.record(lr=0.01) is None and explore(make_train([]), lr=[0.1], cache=False).record() is None


def test_cache_key_names_function_arguments_seed_quick_mode_and_tag(monkeypatch):
    def f(lr):
        return {"a": lr}

    def g(lr):
        return {"b": lr}

    f_id, g_id = function_identity(f), function_identity(g)
    key = run_key(f_id, {"lr": 0.001}, 0, None)
    assert key == run_key(f_id, {"lr": 0.1 * 3 / 300}, 0, None)  # 0.0010000000000000002
    others = [run_key(g_id, {"lr": 0.001}, 0, None), run_key(f_id, {"lr": 0.002}, 0, None),
              run_key(f_id, {"lr": 0.001}, 1, None), run_key(f_id, {"lr": 0.001}, 0, "tag")]
    monkeypatch.setenv("NBH_QUICK", "1")
    others.append(run_key(f_id, {"lr": 0.001}, 0, None))
    assert len({key, *others}) == 6
    assert run_key("f", {"loss": print}, 0, None) == run_key("f", {"loss": print}, 0, None)  # no addresses in keys
    assert f_id.startswith(f"{__name__}.test_cache_key_names_function_arguments_seed_quick_mode_and_tag.<locals>.f:")


def test_sweep_then_explore_scrubs_through_the_grid_without_training():
    calls = []
    train = make_train(calls)
    grid = {"lr": [0.003, 0.03], "width": [4, 16]}
    table = sweep(train, grid, seeds=(0, 1), progress=False)
    assert len(table) == 8 and len(calls) == 8 and list(table.columns[:4]) == ["lr", "width", "seed", "status"]
    assert set(table["status"]) == {"completed"} and not table["cached"].any() and table["valid_accuracy"].notna().all()
    again = sweep(train, grid, seeds=(0, 1), progress=False)
    assert again["cached"].all() and len(calls) == 8
    pd.testing.assert_series_equal(again["valid_accuracy"], table["valid_accuracy"])
    panel = explore(train, grid=grid)
    lr = panel.controls["lr"]
    assert isinstance(lr, widgets.SelectionSlider) and [v for _, v in lr.options] == grid["lr"]
    assert len(panel.results) == 4 and panel.results["cached"].all()  # the swept runs, ready to compare
    seen = {bytes(panel.curves.value)}
    for value in (0.03, 0.003):
        for width in (16, 4):
            panel.controls["width"].value = width
            lr.value = value
            seen.add(bytes(panel.curves.value))
    assert len(calls) == 8 and len(seen) == 4 and "from the cache" in panel.status.value


def test_a_default_and_the_same_value_given_explicitly_are_one_run():
    calls = []
    train = make_train(calls)
    sweep(train, {"lr": [0.01]}, progress=False)  # width left at train's default, 8
    result = explore(train, lr=[0.01], width=[8, 16]).run()
    assert result.cached and len(calls) == 1


def test_stop_during_run_keeps_what_was_learned_as_stopped(cache_dir):
    calls, signal = [], FirstEpoch()
    panel = explore(make_train(calls, extra=[signal]), lr=[0.01], epochs=[400])
    stopper = threading.Thread(target=lambda: signal.done.wait(60) and panel.stop())
    stopper.start()
    result = panel.run()  # trains in this thread; Stop arrives from another one
    stopper.join()
    assert result.stop_reason == "stopped" and 1 <= result.history["epoch"].max() < 400
    assert panel.results["status"].tolist() == ["stopped"] and "stopped" in panel.status.value
    assert not cache_dir.exists() or not list(cache_dir.iterdir())  # a stopped run is never cached as finished
    signal.done.clear()
    threading.Thread(target=lambda: signal.done.wait(60) and panel.stop()).start()
    panel.run()
    assert len(calls) == 2  # the same setting trains again


def test_a_stopped_run_is_not_cached_when_the_train_function_returns_a_dict(cache_dir):
    """The chapters' train functions return `scores(...)`, a dict that cannot say fit was stopped."""
    calls, signal = [], FirstEpoch()
    inner = make_train(calls, extra=[signal])

    def train(lr, epochs=400, callbacks=(), seed=0):
        return {"valid_loss": inner(lr, epochs=epochs, callbacks=callbacks, seed=seed).final["valid_loss"]}

    panel = explore(train, lr=[0.01])
    threading.Thread(target=lambda: signal.done.wait(60) and panel.stop()).start()
    panel.run()
    assert panel.results["status"].tolist() == ["stopped"]
    assert not cache_dir.exists() or not list(cache_dir.iterdir()), "a stopped run was stored as finished"


def test_stop_button_stops_a_background_run():
    calls, signal = [], FirstEpoch()
    panel = explore(make_train(calls, extra=[signal]), lr=[0.01], epochs=[400])
    panel.run_button.click()  # what a click does: hand the setting to the worker thread and return
    assert signal.done.wait(60)
    panel.stop_button.click()
    assert panel.wait(60)
    assert panel.results["status"].tolist() == ["stopped"] and bytes(panel.curves.value).startswith(PNG)
    assert len(calls) == 1


def test_moving_sliders_during_a_run_queues_no_backlog():
    calls, gate = [], threading.Event()

    def slow(lr):
        calls.append(lr)
        if len(calls) == 1:
            gate.wait(30)
        return {"valid_accuracy": lr / 10}

    panel = explore(slow, lr=[1, 2, 3, 4, 5])
    panel.auto_run = True  # as in a notebook, where a front end moves the sliders
    panel.controls["lr"].value = 2
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    for value in (3, 4, 5):
        panel.controls["lr"].value = value
    gate.set()
    assert panel.wait(30)
    assert calls == [2, 5] and panel.results["lr"].tolist() == [2, 5]  # the latest setting won


def test_moving_back_to_the_setting_in_training_drops_the_waiting_one():
    calls, gate = [], threading.Event()

    def slow(lr):
        calls.append(lr)
        if len(calls) == 1:
            gate.wait(30)
        return {"valid_accuracy": lr / 10}

    panel = explore(slow, lr=[1, 2, 3])
    panel.auto_run = True
    panel.controls["lr"].value = 2
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    panel.controls["lr"].value = 3
    panel.controls["lr"].value = 2  # back before 3 could start: 2 is the latest setting, and it is training
    assert "training lr=2" in panel.status.value
    gate.set()
    assert panel.wait(30) and calls == [2]


def test_slider_events_are_debounced_and_a_cached_setting_cancels_the_wait():
    calls = []

    def quick(lr):
        calls.append(lr)
        return {"valid_accuracy": lr / 10}

    panel = explore(quick, lr=[1, 2, 3, 4])
    panel.auto_run = True
    for value in (2, 3, 4):
        panel.controls["lr"].value = value
        time.sleep(DEBOUNCE / 10)
    assert panel.wait(10) and calls == [4]
    panel.controls["lr"].value = 2
    panel.controls["lr"].value = 4  # back to a finished setting before the slider rested
    time.sleep(2 * DEBOUNCE)
    assert panel.wait(10) and calls == [4]


def test_a_train_function_returning_a_dict_works_without_callbacks():
    def metrics_only(lr):
        return {"valid_accuracy": torch.tensor(lr), "note": "text is ignored"}

    panel = explore(metrics_only, lr=(0.0, 1.0))
    panel.run(lr=0.25)
    assert panel.results["valid_accuracy"].tolist() == [0.25] and "note" not in panel.results
    assert bytes(panel.curves.value).startswith(PNG)


def test_an_error_in_a_background_run_shows_in_the_panel():
    def broken(lr):
        raise RuntimeError("out of memory, say")

    panel = explore(broken, lr=[1, 2])
    panel.run_button.click()
    assert panel.wait(10)
    assert "out of memory, say" in panel.status.value and isinstance(panel.last_error, RuntimeError)


def test_text_fallback_for_nbclient_and_terminals():
    def train(lr, width=8):
        return {"valid_accuracy": lr}

    panel = explore(train, lr=[0.1, 0.2], width=(4, 32))
    panel.run()
    panel.run(lr=0.2)
    text = repr(panel)
    assert text.startswith("explore(train): 2 controls, 2 runs so far") and "lr    = 0.2" in text
    assert "one of 0.1, 0.2" in text and "4 to 32" in text
    assert "best so far: lr=0.2, width=8  valid_accuracy 0.2000" in text
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == text and "application/vnd.jupyter.widget-view+json" in bundle


def train_for_errors(lr, width=8, callbacks=(), seed=0):
    return {"valid_accuracy": 0.5}


@pytest.mark.parametrize("call, message", [
    (lambda: explore(train_for_errors, lr=(1, 0)),
     "explore(): `lr` must be a control: a (low, high) tuple with low < high, a list of choices, a bool or an "
     "ipywidget; got (1, 0)."),
    (lambda: explore(train_for_errors, lr="fast"), "got 'fast'."),
    (lambda: explore(train_for_errors, lr=[]), "`lr` must be a control"),
    (lambda: explore(train_for_errors, lr=(0, 1, 2)), "got (0, 1, 2)."),
    (lambda: explore(train_for_errors, lr=(0.0, float("nan"))), "got (0.0, nan)."),
    (lambda: explore(train_for_errors, lr=widgets.Button()), "`lr` must be a control"),
    (lambda: explore(train_for_errors, lrr=(0.1, 1.0)), "`lrr` must be a parameter of train_for_errors(): lr, width, "
                                                        "callbacks, seed; got 'lrr'. Did you mean 'lr'?"),
    (lambda: explore(train_for_errors, width=[8]), "`controls` must be given for `lr` too (train_for_errors() has no "
                                                   "default for it)"),
    (lambda: explore(train_for_errors, lr=[1], callbacks=[1]), "`callbacks` must be left to the panel"),
    (lambda: explore(train_for_errors, grid={"lr": 0.1}), "`grid` must be a dict of parameter name -> list of values, e.g. {'lr': [1e-3, 1e-2]} or None; got {'lr': 0.1}."),
    (lambda: explore(train_for_errors, grid={"lr": [1]}, lr=[2]), "`lr` must be given once"),
    (lambda: explore("train", lr=[1]), "explore(): `train_fn` must be a function"),
    (lambda: explore(train_for_errors, lr=[1], seed=-1), "`seed` must be an integer >= 0"),
    (lambda: sweep(lambda lr: {}, {"lr": [1]}, seeds=(0, 1)), "sweep(): `seeds` must be one seed"),
    (lambda: sweep(train_for_errors, {"lr": [1]}, seeds=(0.5,)), "sweep(): `seeds` must be a non-empty list or tuple of seeds (integers >= 0)"),
    (lambda: explore(lambda lr: 0.9, lr=[1]).run(), "explore(): `train_fn` must be a function that returns a "
                                                    "TrainResult or a dict of metrics; got 'a float'."),
    (lambda: explore(train_for_errors, lr=[1]).run(lrr=1), "Panel.run(): `lrr` must be one of the controls: lr; got "
                                                          "'lrr'. Did you mean 'lr'?"),
])
def test_invalid_controls_and_arguments_say_what_is_allowed(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_run_store_keys_finds_trains_and_stores_like_the_cache_always_did(cache_dir):
    calls = []
    train = make_train(calls)
    store = RunStore(train, seed=0, cache_tag="tag")
    setting = {"lr": 0.01}
    assert store.key(setting) == run_key(function_identity(train), {"lr": 0.01, "width": 8, "epochs": 2}, 0, "tag")
    assert store.find(setting) is None and store.serve(setting) is None and not store.rows
    result, record = store.run(setting)
    assert isinstance(result, TrainResult) and len(calls) == 1 and record["status"] == "completed"
    on_disk = json.loads((cache_dir / f"{store.key(setting)}.json").read_text())
    assert on_disk == {"format": "nbhelpers.explore/1", **record}  # the record format caches were written in
    again = RunStore(train, seed=0, cache_tag="tag")  # a new session reads it back, by key or by setting
    assert again.find(store.key(setting)) == on_disk and again.serve({"lr": 0.01, "width": 8}) == on_disk
    assert again.table(["lr", "width"])[["lr", "width", "status", "cached"]].values.tolist() == [
        [0.01, 8, "completed", True]]
    assert RunStore(train, seed=1, cache_tag="tag").find(setting) is None  # another seed is another run
    assert RunStore(train, seed=0, cache_tag="tag", cache=False).find(setting) is None


def test_run_store_lists_a_stopped_run_but_never_serves_or_stores_it(cache_dir):
    store = RunStore(make_train([]), seed=0)

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, state):
            raise StopTraining("stopped")

    _, record = store.run({"lr": 0.01, "epochs": 50}, [StopAfterFirstEpoch()])
    assert record["status"] == "stopped" and store.find({"lr": 0.01, "epochs": 50}) is None
    assert store.table(["lr"])["status"].tolist() == ["stopped"] and not store.table()["cached"].any()
    assert not cache_dir.exists() or not list(cache_dir.iterdir())


def test_sweep_and_the_panel_share_one_store_of_runs():
    calls = []
    train = make_train(calls)
    sweep(train, {"lr": [0.01, 0.1]}, progress=False)
    panel = explore(train, lr=[0.01, 0.1])
    assert isinstance(panel.store, RunStore) and panel.store.find({"lr": 0.1, "width": 8}) == panel.record(lr=0.1)
    assert panel.store.key(panel.setting) == RunStore(train, seed=0).key({"lr": 0.01}) and len(calls) == 2


def test_a_per_image_metric_is_kept_and_pairs_the_runs_by_image():
    from nbhelpers import paired_gain
    from nbhelpers.ui._draw import table_html

    calls = []

    def train(lr, seed=0):
        calls.append(lr)
        right = torch.ones(200, dtype=torch.int64)
        right[: 20 + seed + (10 if lr == 0.1 else 0)] = 0  # lr 0.1 gets the same 10 images more wrong
        return {"valid_accuracy": right.float().mean(), "valid_correct": right, "optimizer": "adam"}

    first = sweep(train, {"lr": [0.01, 0.1]}, seeds=(0, 1, 2), progress=False)
    again = sweep(train, {"lr": [0.01, 0.1]}, seeds=(0, 1, 2), progress=False)
    assert len(calls) == 6 and again["cached"].all(), "the second sweep is read back from the cache"
    assert again["valid_correct"].map(len).tolist() == [200] * 6 and "optimizer" not in again
    assert again["valid_correct"].tolist() == first["valid_correct"].tolist()
    by_image = paired_gain(again, column="lr", baseline=0.01, metric="valid_accuracy", images="valid_correct")
    counted = paired_gain(again, column="lr", baseline=0.01, metric="valid_accuracy", images=200)
    assert by_image["mean"].iloc[0] == pytest.approx(-0.05)
    assert (by_image["ci_high"] - by_image["ci_low"]).iloc[0] < (counted["ci_high"] - counted["ci_low"]).iloc[0] / 2
    page = table_html({"k": again.iloc[0].to_dict()}, list(again.columns), ["lr"], "k")
    assert "valid_correct" not in page and ">0.9000</td>" in page, "per-image lists stay out of the panel's table"
