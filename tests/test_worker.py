"""LatestWins, the panels' worker thread, tested without widgets (an import-linter contract keeps
it widget-free): the latest item wins, debounce, Stop, wait with a timeout, run_now beside the
thread, errors in the thread."""

import threading
import time

import pytest

from nbhelpers.ui._worker import LatestWins


def gated(ran, gate, started=None):
    """A job that records its item, then blocks on ``gate`` the first time (a long run)."""
    def job(item):
        ran.append(item)
        if started is not None:
            started.set()
        if len(ran) == 1:
            assert gate.wait(30)
        return item
    return job


def test_three_quick_submissions_run_the_first_and_the_last():
    ran, gate, started = [], threading.Event(), threading.Event()
    worker = LatestWins(gated(ran, gate, started))
    worker.submit("a")
    assert started.wait(10) and worker.running == "a"
    worker.submit("b")
    worker.submit("c")  # replaces b, which never started
    gate.set()
    assert worker.wait(10) and ran == ["a", "c"] and worker.running is None


def test_submissions_wait_for_the_debounce_delay_and_each_restarts_it():
    ran = []
    worker = LatestWins(ran.append)
    started = time.monotonic()
    for item in (1, 2, 3):
        worker.submit(item, delay=0.2)
        time.sleep(0.05)
    assert worker.wait(10) and ran == [3]
    assert time.monotonic() - started >= 0.1 + 0.2  # the last submission rested for the whole delay


def test_stop_sets_the_event_drops_the_waiting_item_and_says_what_runs():
    ran, started = [], threading.Event()

    def job(item):
        ran.append(item)
        started.set()
        while not worker.stop_event.wait(0.01):  # a long run that checks for Stop, as fit does per batch
            pass
        return "stopped"

    worker = LatestWins(job)
    assert worker.stop() is None  # idle: nothing to stop
    worker.submit("long")
    assert started.wait(10)
    worker.submit("next")
    assert worker.stop() == "long" and worker.wait(10) and ran == ["long"]  # "next" was dropped
    started.clear()
    worker.submit("again")  # the stop event is cleared when the next item starts
    assert started.wait(10) and not worker.stop_event.is_set()
    worker.stop()
    assert worker.wait(10) and ran == ["long", "again"]


def test_wait_returns_false_when_the_timeout_runs_out():
    ran, gate = [], threading.Event()
    worker = LatestWins(gated(ran, gate))
    assert worker.wait(0)  # idle
    worker.submit("slow")
    assert worker.wait(0.05) is False
    worker.submit("queued", delay=0.5)
    gate.set()
    assert worker.wait(0.05) is False  # "queued" still waits for its debounce
    assert worker.wait(10) and ran == ["slow", "queued"]


def test_cancel_and_back_to_running_drop_the_waiting_item():
    ran, gate, started = [], threading.Event(), threading.Event()
    worker = LatestWins(gated(ran, gate, started))
    worker.submit({"lr": 1})
    assert started.wait(10)
    worker.submit({"lr": 2})
    assert not worker.back_to_running({"lr": 3})  # not the one running: the waiting one stays
    assert worker.back_to_running({"lr": 1})      # back to the running item: nothing else waits
    worker.submit({"lr": 4}, delay=0.05)
    worker.cancel()
    gate.set()
    assert worker.wait(10) and ran == [{"lr": 1}]


def test_run_now_runs_in_the_caller_thread_after_the_job_in_progress():
    ran, gate, started = [], threading.Event(), threading.Event()
    threads = []

    def job(item):
        threads.append(threading.current_thread().name)
        return gated(ran, gate, started)(item)

    worker = LatestWins(job, name="nbh-test-worker")
    worker.submit("background")
    assert started.wait(10)
    worker.submit("waiting", delay=5)
    result = []
    caller = threading.Thread(target=lambda: result.append(worker.run_now("now")), name="caller")
    caller.start()
    time.sleep(0.1)
    assert ran == ["background"]  # run_now never runs beside the job in progress
    gate.set()
    caller.join(10)
    assert result == ["now"] and worker.wait(10) and ran == ["background", "now"]  # and it dropped "waiting"
    assert threads == ["nbh-test-worker", "caller"]


def test_errors_go_to_the_caller_of_run_now_and_to_last_error_in_the_thread():
    def job(item):
        if item == "bad":
            raise RuntimeError("out of memory, say")
        return item

    worker = LatestWins(job)
    with pytest.raises(RuntimeError, match="out of memory"):
        worker.run_now("bad")
    worker.submit("bad")
    assert worker.wait(10) and isinstance(worker.last_error, RuntimeError)
    assert worker.run_now("good") == "good" and worker.wait(1)  # the worker is still usable

