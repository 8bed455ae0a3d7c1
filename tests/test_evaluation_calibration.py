"""Calibration: the expected calibration error agrees with a plain loop over its bins, is near 0
for a calibrated model and large for an overconfident one; temperature scaling fitted on one
split lowers the negative log-likelihood of an overconfident model on another and leaves every
prediction unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

from nbhelpers import (classification_metrics, expected_calibration_error, fit_temperature, plot_reliability,
                       reliability_table)


def ece_by_hand(p: np.ndarray, y: np.ndarray, bins: int) -> float:
    """Guo et al.'s definition, one bin at a time: bins (k/B, (k+1)/B] of the top label's confidence."""
    confidence, right, total = p.max(1), p.argmax(1) == y, 0.0
    for k in range(bins):
        inside = (confidence > k / bins) & (confidence <= (k + 1) / bins)
        if inside.any():
            total += inside.sum() / len(y) * abs(right[inside].mean() - confidence[inside].mean())
    return total


def calibrated(n: int, classes: int, seed: int, sharpness: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and labels drawn from the model's own probabilities: calibrated by construction
    (``sharpness`` > 1 then multiplies the logits: overconfident)."""
    g = torch.Generator().manual_seed(seed)
    logits = 2.0 * torch.randn(n, classes, generator=g)
    y = torch.multinomial(torch.softmax(logits, 1), 1, generator=g).squeeze(1)
    return logits * sharpness, y


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 300), classes=st.integers(2, 6), bins=st.integers(1, 20))
def test_ece_agrees_with_the_definition(seed, n, classes, bins):
    rng = np.random.default_rng(seed)
    p, y = rng.dirichlet(np.ones(classes) * 0.5, n), rng.integers(0, classes, n)
    assert expected_calibration_error(p, y, bins) == pytest.approx(ece_by_hand(p, y, bins), abs=1e-9)
    table = reliability_table(p, y, bins)
    assert table["count"].sum() == n
    assert (table["count"] * table["gap"].abs()).sum() / n == pytest.approx(ece_by_hand(p, y, bins), abs=1e-9)


def test_a_calibrated_model_has_ece_near_zero_an_overconfident_one_does_not():
    logits, y = calibrated(20_000, 4, seed=0)
    assert expected_calibration_error(logits, y) < 0.015
    sharp, y = calibrated(20_000, 4, seed=0, sharpness=3.0)
    assert expected_calibration_error(sharp, y) > 0.1


def test_temperature_scaling_lowers_nll_and_keeps_every_prediction():
    valid, y_valid = calibrated(4_000, 5, seed=1, sharpness=3.0)  # overconfident: the true temperature is 3
    test, y_test = calibrated(4_000, 5, seed=2, sharpness=3.0)
    temperature = fit_temperature(valid, y_valid)
    assert temperature == pytest.approx(3.0, rel=0.1)
    before, after = classification_metrics(test, y_test), classification_metrics(test / temperature, y_test)
    assert after["log_loss"] < before["log_loss"] - 0.1 and after["calibration_error"] < before["calibration_error"] / 3
    assert after["log_loss"] == pytest.approx(log_loss(y_test, torch.softmax(test.double() / temperature, 1)))
    assert torch.equal((test / temperature).argmax(1), test.argmax(1)) and after["accuracy"] == before["accuracy"]
    z = torch.randn(500)  # one logit per row (a binary task), overconfident by 2
    labels = (torch.rand(500, generator=torch.Generator().manual_seed(3)) < torch.sigmoid(z)).long()
    assert fit_temperature(2 * z, labels) == pytest.approx(2.0, rel=0.35)


def test_fit_temperature_takes_a_model_and_its_split_and_names_bad_input():
    model = torch.nn.Linear(3, 2)
    x, y = torch.randn(40, 3), torch.arange(40) % 2
    assert fit_temperature(model, (x, y)) == pytest.approx(fit_temperature(model(x).detach(), y))
    with pytest.raises(ValueError, match=r"fit_temperature\(\): `y` must be labels from 0 to 1"):
        fit_temperature(torch.randn(4, 2), torch.tensor([0, 1, 2, 1]))
    with pytest.raises(ValueError, match=r"fit_temperature\(\): `y` must be 4 labels"):
        fit_temperature(torch.randn(4, 2), torch.tensor([0, 1]))


def test_the_reliability_diagram_shows_each_set_of_scores_with_its_ece():
    logits, y = calibrated(500, 3, seed=4, sharpness=2.0)
    fig = plot_reliability({"before": logits, "after": logits / 2}, y, bins=10, title="t")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels[1] == f"before: ECE {expected_calibration_error(logits, y, 10):.3f}" and labels[2].startswith("after")
