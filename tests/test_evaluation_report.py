"""Classification metrics, the per-class report, the confusion matrix and binary decisions agree
with scikit-learn (and with hand counts) on random inputs; every form of scores gives the same
numbers; bad input gets the one message form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as m
from sklearn.preprocessing import label_binarize

from nbhelpers import (MLP, at_prevalence, best_threshold, class_report, classification_metrics, confusion,
                       plot_confusion, plot_prevalence, plot_threshold, predict, threshold_table)

FEW = settings(max_examples=15, deadline=None)  # bounded: the file stays fast


def case(seed: int, n: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Random probabilities (rows add up to 1) and labels, every class present."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(classes) * rng.uniform(0.3, 3), n)
    y = np.r_[np.arange(classes), rng.integers(0, classes, n - classes)]
    return p, rng.permutation(y)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12)


@FEW
@given(seed=st.integers(0, 2**31), n=st.integers(6, 80), classes=st.integers(3, 6))
def test_multiclass_metrics_agree_with_scikit_learn(seed, n, classes):
    p, y = case(seed, n, classes)
    found = classification_metrics(p, y)
    guess, labels = p.argmax(1), np.arange(classes)
    expected = {"accuracy": m.accuracy_score(y, guess), "balanced_accuracy": m.balanced_accuracy_score(y, guess),
                "roc_auc": m.roc_auc_score(y, p, multi_class="ovr"), "log_loss": m.log_loss(y, p, labels=labels),
                "pr_auc": m.average_precision_score(label_binarize(y, classes=labels), p, average="macro")}
    for average in ("macro", "weighted"):
        for kind, score in (("precision", m.precision_score), ("recall", m.recall_score), ("f1", m.f1_score)):
            expected[f"{average}_{kind}"] = score(y, guess, labels=labels, average=average, zero_division=0)
    for name, value in expected.items():
        assert same(found[name], value), (name, found[name], value)
    assert "sensitivity" not in found, "no positive class: no binary metrics"


@FEW
@given(seed=st.integers(0, 2**31), n=st.integers(4, 80), threshold=st.floats(0.05, 0.95), positive=st.sampled_from([0, 1]))
def test_binary_metrics_at_a_threshold_agree_with_scikit_learn(seed, n, threshold, positive):
    p, y = case(seed, n, 2)
    found = classification_metrics(p, y, positive=positive, threshold=threshold)
    truth, flag = y == positive, p[:, positive] >= threshold
    tn, fp, fn, tp = m.confusion_matrix(truth, flag, labels=[False, True]).ravel()
    ratio = lambda a, b: a / b if b else math.nan  # noqa: E731
    expected = {"sensitivity": m.recall_score(truth, flag, zero_division=np.nan), "specificity": ratio(tn, tn + fp),
                "precision": ratio(tp, tp + fp), "npv": ratio(tn, tn + fn),
                "f1": m.f1_score(truth, flag, zero_division=np.nan),
                "accuracy": m.accuracy_score(truth, flag), "roc_auc": m.roc_auc_score(truth, p[:, positive]),
                "pr_auc": m.average_precision_score(truth, p[:, positive])}
    for name, value in expected.items():
        assert same(found[name], value), (name, found[name], value)


@FEW
@given(seed=st.integers(0, 2**31), n=st.integers(4, 60), classes=st.integers(2, 5))
def test_report_and_confusion_agree_with_scikit_learn(seed, n, classes):
    p, y = case(seed, n, classes)
    names = [f"c{i}" for i in range(classes)]
    report = class_report(p, y, names)
    guess = p.argmax(1) if classes > 2 else (p[:, 1] >= 0.5).astype(int)
    expected = m.classification_report(y, guess, labels=range(classes), target_names=names, output_dict=True,
                                       zero_division=0)
    for row in [*names, "macro avg", "weighted avg"]:
        for column in ("precision", "recall", "f1-score", "support"):
            assert report.loc[row, column.replace("-score", "")] == pytest.approx(expected[row][column]), (row, column)
    for i, name in enumerate(names):
        assert report.loc[name, "roc_auc"] == pytest.approx(m.roc_auc_score(y == i, p[:, i]))
    if classes > 2:
        assert report.loc["macro avg", "roc_auc"] == pytest.approx(m.roc_auc_score(y, p, multi_class="ovr"))
        assert report.loc["weighted avg", "roc_auc"] == pytest.approx(
            m.roc_auc_score(y, p, multi_class="ovr", average="weighted"))
    table = confusion(p, y, names)
    assert (table.to_numpy() == m.confusion_matrix(y, guess, labels=range(classes))).all()
    assert list(table.index) == names and table.index.name == "true" and table.columns.name == "predicted"
    shares = confusion(p, y, names, normalize="true").to_numpy()
    assert np.allclose(shares.sum(1), 1) and np.allclose(np.diag(shares), report.loc[names, "recall"])


def test_logits_tensors_arrays_and_a_model_give_the_same_numbers():
    torch.manual_seed(0)
    model, x, y = MLP(4, 3, width=8), torch.randn(50, 4), torch.arange(50) % 3
    logits = predict(model, x)
    probabilities = torch.softmax(logits.double(), 1).numpy()
    from_model = classification_metrics(model, (x, y))
    for other in (classification_metrics(logits, y), classification_metrics(probabilities, y.numpy()),
                  classification_metrics(logits.numpy(), y.tolist(), logits=True)):
        assert all(same(from_model[k], other[k]) for k in from_model), other
    one_logit = torch.randn(30)  # a binary task's single logit, as BCE training gives
    labels = (torch.rand(30) < torch.sigmoid(one_logit)).float()
    binary = classification_metrics(one_logit, labels)
    two = torch.stack([torch.zeros(30), one_logit], 1)  # softmax([0, z]) == [1 - sigmoid(z), sigmoid(z)]
    assert all(same(binary[k], v) for k, v in classification_metrics(two, labels.long()).items())


def test_undefined_values_are_nan_not_errors():
    p = np.array([[0.8, 0.2], [0.6, 0.4]])
    found = classification_metrics(p, [0, 0])  # no positive case, nothing flagged
    assert math.isnan(found["roc_auc"]) and math.isnan(found["sensitivity"]) and math.isnan(found["precision"])
    assert found["specificity"] == 1.0 and found["accuracy"] == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: classification_metrics(np.array([[0.5, 0.6]]), [0]), "`scores` must be probabilities whose rows add up"),
    (lambda: classification_metrics(torch.randn(4, 3), [0, 1, 2]), "`y` must be 4 labels, one per row"),
    (lambda: classification_metrics(torch.randn(3, 3), [0, 1, 3]), "`y` must be labels from 0 to 2"),
    (lambda: classification_metrics(torch.randn(3, 3), [0.5, 1, 2]), "`y` must be integer class labels"),
    (lambda: classification_metrics(torch.randn(3, 3), [0, 1, 2], positive=3), "`positive` must be a class from 0 to 2"),
    (lambda: classification_metrics(MLP(4, 2), torch.tensor([0, 1])), "`y` must be the split (x, labels)"),
    (lambda: class_report(torch.randn(3, 3), [0, 1, 2], ["a", "b"]), "`classes` must be 3 names"),
    (lambda: threshold_table(torch.randn(3, 3), [0, 1, 2]), "`positive` must be the class (0 to 2) that counts"),
])
def test_bad_input_names_the_function_and_the_argument(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@FEW
@given(seed=st.integers(0, 2**31), n=st.integers(5, 60), cost_fn=st.floats(0.5, 20))
def test_thresholds_count_by_hand_and_the_best_is_cheapest(seed, n, cost_fn):
    p, y = case(seed, n, 2)
    table = threshold_table(p, y, cost_fp=1.0, cost_fn=cost_fn)
    for _, row in table.sample(min(5, len(table)), random_state=0).iterrows():
        flag = p[:, 1] >= row["threshold"]
        fp, fn = int((flag & (y == 0)).sum()), int((~flag & (y == 1)).sum())
        assert (row["fp"], row["fn"], row["tp"]) == (fp, fn, int((flag & (y == 1)).sum()))
        assert row["cost"] == pytest.approx(fp + cost_fn * fn)
    best = best_threshold(p, y, cost_fp=1.0, cost_fn=cost_fn)
    grid = np.r_[np.linspace(0, 1, 201), p[:, 1]]
    brute = min(((p[:, 1] >= t) & (y == 0)).sum() + cost_fn * ((p[:, 1] < t) & (y == 1)).sum() for t in grid)
    chosen = ((p[:, 1] >= best) & (y == 0)).sum() + cost_fn * ((p[:, 1] < best) & (y == 1)).sum()
    assert chosen == pytest.approx(brute) and chosen == pytest.approx(table["cost"].min())


def test_prevalence_keeps_sensitivity_and_specificity_and_matches_the_measured_accuracy():
    p, y = case(3, 200, 2)
    measured = classification_metrics(p, y)
    table = at_prevalence(p, y, [y.mean(), 0.01])
    assert table["accuracy"].iloc[0] == pytest.approx(measured["accuracy"])
    assert table["precision"].iloc[0] == pytest.approx(measured["precision"])
    assert table["always_negative"].iloc[1] == pytest.approx(0.99) and table.attrs["measured"] == y.mean()
    assert (table["sensitivity"] == measured["sensitivity"]).all()


def test_the_figures_are_drawn():
    p, y = case(0, 40, 3)
    fig = plot_confusion(p, y, ["a", "b", "c"], title="t")
    assert sorted(int(t.get_text()) for t in fig.axes[0].texts) == sorted(confusion(p, y).to_numpy().ravel())
    b, yb = case(1, 40, 2)
    fig = plot_threshold(b, yb, 0.3, cost_fn=5, classes=["no", "yes"])
    cost = threshold_table(b, yb, cost_fn=5, thresholds=[0.3])["cost"].iloc[0]
    assert f"cost {cost:g}" in " ".join(fig.axes[0].get_legend_handles_labels()[1])
    assert len(plot_prevalence(at_prevalence(b, yb, [0.01, 0.1, 0.5])).axes[0].lines) >= 4
