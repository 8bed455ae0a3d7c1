"""The threshold panel, driven without a browser: moving the slider or typing a cost changes what it
shows, and what it shows agrees with a hand count of the four outcomes and their cost."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nbhelpers import best_threshold, threshold_panel


def case(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 + (y - 0.5) * rng.uniform(0, 0.9, n) + rng.normal(0, 0.2, n), 0.001, 0.999)
    return p, y


def by_hand(p, y, threshold, cost_fp, cost_fn):
    flag = p >= threshold
    tp, fp = int((flag & (y == 1)).sum()), int((flag & (y == 0)).sum())
    fn, tn = int((~flag & (y == 1)).sum()), int((~flag & (y == 0)).sum())
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "cost": cost_fp * fp + cost_fn * fn}


def test_the_slider_and_the_costs_change_what_is_shown_as_a_hand_count_says():
    p, y = case()
    panel = threshold_panel(p, y, cost_fp=1, cost_fn=10, classes=["benign", "malignant"], debounce=0)
    first_image, draws = panel.image.value, panel.draws
    for threshold in (0.05, 0.3, 0.62, 0.9):
        panel.threshold.value = threshold  # what dragging the slider does
        shown, expected = panel.shown(), by_hand(p, y, panel.threshold.value, 1, 10)
        assert {k: shown[k] for k in expected} == expected, threshold
        assert f"TP {expected['tp']}, FP {expected['fp']}, TN {expected['tn']}, FN {expected['fn']}" in panel.text.value
        assert f"= {expected['cost']:g} (least" in panel.text.value
    assert panel.draws == draws + 4 and panel.image.value != first_image, "the picture follows the slider"
    panel.cost_fn.value = 2  # a cheaper false negative: a new cost, a new best threshold
    shown = panel.shown()
    assert shown["cost"] == by_hand(p, y, 0.9, 1, 2)["cost"] and "x 2 = " in panel.text.value
    assert shown["best_threshold"] == pytest.approx(best_threshold(p, y, cost_fp=1, cost_fn=2))
    grid = np.r_[np.linspace(0, 1, 401), p]
    assert shown["best_cost"] == min(by_hand(p, y, t, 1, 2)["cost"] for t in grid)
    assert by_hand(p, y, shown["best_threshold"], 1, 2)["cost"] == shown["best_cost"], "the marked threshold is cheapest"
    assert repr(panel) == panel.words() and panel.words() in panel._repr_mimebundle_()["text/plain"]


def test_the_panel_takes_logits_of_a_model_and_a_positive_class_of_zero():
    torch.manual_seed(0)
    logits, y = torch.randn(50, 2), torch.arange(50) % 2
    panel = threshold_panel(logits, y, positive=0, threshold=0.4, debounce=0)
    p0 = torch.softmax(logits.double(), 1)[:, 0].numpy()
    expected = by_hand(p0, (y == 0).numpy().astype(int), 0.4, 1, 1)
    assert {k: panel.shown()[k] for k in expected} == expected


def test_a_dragged_slider_queues_one_redraw_not_one_per_step():
    p, y = case(60, seed=1)
    panel = threshold_panel(p, y, debounce=0.2)
    draws = panel.draws
    for threshold in np.linspace(0.1, 0.9, 9):
        panel.threshold.value = float(threshold)
    assert panel.shown()["threshold"] == pytest.approx(0.9), "the numbers follow at once"
    assert panel._worker.wait(10)
    assert panel.draws == draws + 1
