"""Preprocessing helpers: what they compute, their messages, and that nothing is ever fit on
validation or test rows (scalers, imputers, outlier rules and resamplers alike)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.class_weight import compute_class_weight

import nbhelpers.preprocess.compare as compare_module
from nbhelpers import (Comparison, DataBundle, OutlierToNaN, class_weights, compare_preprocessing,
                       fit_on_train, inject_missing, inject_outliers, leakage_check, make_imbalanced, make_imputer,
                       resample, robust_outliers, score_fills, score_imputers, score_outlier_rules, tabular,
                       train_with_remedy)


pytestmark = pytest.mark.usefixtures("one_thread")


def bundle(n=90, features=4, seed=0, classes=2, shift=100.0):
    """A bundle whose valid and test rows come from a different distribution than train,
    so that any statistic learned from them would show."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=gen)
    y = torch.arange(n) % classes
    x_valid, x_test = torch.randn(30, features, generator=gen) + shift, torch.randn(30, features, generator=gen) - shift
    return DataBundle((x, y), (x_valid, torch.arange(30) % classes), (x_test, torch.arange(30) % classes),
                      [f"c{i}" for i in range(classes)], "synthetic")


class Spy(TransformerMixin, BaseEstimator):
    """Records every array it is fit on (in a class-level list, since helpers fit clones)."""

    seen: list = []

    def fit(self, x, y=None):
        Spy.seen.append(np.array(x, copy=True))
        return self

    def transform(self, x):
        return np.asarray(x, dtype=float)


# ---------------------------------------------------------------- never fit on valid or test


@pytest.mark.parametrize("step", [StandardScaler(), MinMaxScaler(), SimpleImputer(strategy="median"),
                                  make_imputer("knn"), make_imputer("iterative"), OutlierToNaN("mad"),
                                  OutlierToNaN("iqr")], ids=lambda s: type(s).__name__)
def test_fit_on_train_learns_from_train_rows_only(step):
    data = bundle()
    x_train = data.train[0].numpy().astype(np.float64)
    ready, fitted = fit_on_train(step, data)
    on_train_only = clone(step).fit(x_train)
    for split in ("train", "valid", "test"):
        expected = on_train_only.transform(getattr(data, split)[0].numpy().astype(np.float64))
        np.testing.assert_allclose(getattr(ready, split)[0].numpy(), expected, rtol=1e-5, atol=1e-5, equal_nan=True)
        assert torch.equal(getattr(ready, split)[1], getattr(data, split)[1])  # labels untouched
    assert not hasattr(step, "n_features_in_") and not hasattr(step, "low_"), "the caller's step stays unfitted"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), scale=st.floats(1e-3, 1e3), method=st.sampled_from(["standard", "knn", "mad"]))
def test_whatever_valid_and_test_hold_the_fit_does_not_change(seed, scale, method):
    step = {"standard": StandardScaler(), "knn": make_pipeline(StandardScaler(), make_imputer("knn")),
            "mad": OutlierToNaN("mad")}[method]
    data = bundle(seed=0)
    gen = torch.Generator().manual_seed(seed)
    other = DataBundle(data.train, (scale * torch.randn(30, 4, generator=gen), data.valid[1]),
                       (torch.full((30, 4), float("nan")), data.test[1]), data.classes)
    first, fitted_first = fit_on_train(step, data)
    second, fitted_second = fit_on_train(step, other)
    assert torch.equal(first.train[0].nan_to_num(-7.0), second.train[0].nan_to_num(-7.0))
    probe = np.random.default_rng(1).normal(size=(5, 4))
    np.testing.assert_array_equal(fitted_first.transform(probe), fitted_second.transform(probe))


def test_fit_on_train_statistics_equal_the_train_rows_and_input_is_not_mutated():
    data = bundle()
    before = [t.clone() for t in (*data.train, *data.valid, *data.test)]
    ready, scaler = fit_on_train(StandardScaler(), data)
    np.testing.assert_allclose(scaler.mean_, data.train[0].numpy().mean(0), atol=1e-6)
    np.testing.assert_allclose(scaler.scale_, data.train[0].numpy().std(0), rtol=1e-5)
    assert ready.valid[0].mean() > 50, "valid keeps its own (shifted) distribution: scaled by train's statistics"
    assert all(torch.equal(a, b) for a, b in zip(before, (*data.train, *data.valid, *data.test)))


def test_outlier_fences_come_from_train_rows():
    data = bundle()
    fitted = fit_on_train(OutlierToNaN("mad"), data)[1]
    center = np.median(data.train[0].numpy().astype(np.float64), 0)
    np.testing.assert_allclose((fitted.low_ + fitted.high_) / 2, center, rtol=1e-6, atol=1e-9)
    ready = fit_on_train(OutlierToNaN("mad"), data)[0]
    assert torch.isnan(ready.valid[0]).all(), "valid rows far from train's median are flagged, not absorbed"


def test_compare_preprocessing_fits_every_pipeline_on_train_rows_only():
    Spy.seen = []
    data = bundle()
    compare_preprocessing(data, {"spy": Spy(), "spied scaler": make_pipeline(Spy(), StandardScaler())}, seeds=(0, 1),
                          epochs=1)
    assert len(Spy.seen) == 4
    for seen in Spy.seen:
        np.testing.assert_array_equal(seen, data.train[0].numpy())


@pytest.mark.parametrize("remedy", ["none", "over", "under", "smote", "weighted"])
def test_train_with_remedy_never_touches_valid_or_test_rows(remedy, monkeypatch):
    data = bundle(n=120, shift=0.0)
    data = DataBundle(make_imbalanced(*data.train, 0.2, minority=1, seed=0), data.valid, data.test, data.classes)
    captured = {}
    real = compare_module._train

    def spy(data_seen, **kwargs):
        captured["data"] = data_seen
        return real(data_seen, **kwargs)

    monkeypatch.setattr(compare_module, "_train", spy)
    train_with_remedy(data, remedy, steps=3, seed=0)
    seen = captured["data"]
    assert seen.valid[0] is data.valid[0] and seen.valid[1] is data.valid[1]
    assert seen.test[0] is data.test[0] and seen.test[1] is data.test[1]
    x_train, y_train = data.train
    x_seen, y_seen = seen.train
    originals = {tuple(row.tolist()) for row in x_train}
    if remedy in ("none", "weighted", "over", "under"):  # every training row is one of the original ones
        assert all(tuple(row.tolist()) in originals for row in x_seen)
    if remedy == "smote":  # originals first, then new rare rows inside the rare rows' bounding box
        assert torch.equal(x_seen[: len(x_train)], x_train)
        new, rare = x_seen[len(x_train):], x_train[y_train == 1]
        assert (y_seen[len(x_train):] == 1).all()
        assert (new >= rare.min(0).values - 1e-5).all() and (new <= rare.max(0).values + 1e-5).all()
    if remedy in ("over", "under", "smote"):
        assert torch.bincount(y_seen).tolist()[0] == torch.bincount(y_seen).tolist()[1]


def test_leakage_check_shows_the_optimism_of_selecting_features_on_all_rows():
    from sklearn.feature_selection import SelectKBest

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 1000)), rng.integers(0, 2, 80)  # pure noise: the truth is 50%
    table = leakage_check(SelectKBest(k=10), LogisticRegression(), x, y, seeds=(0, 1))
    means = table.groupby("fit_on")["accuracy"].mean()
    assert means["all rows (leaky)"] > 0.7 and abs(means["training folds only (pipeline)"] - 0.5) < 0.15
    assert list(table.columns) == ["seed", "fit_on", "accuracy"] and len(table) == 4


def test_leakage_check_accepts_resamplers_and_rejects_other_things():
    from imblearn.over_sampling import RandomOverSampler

    x, y = np.random.default_rng(0).normal(size=(60, 3)), np.array([0] * 50 + [1] * 10)
    table = leakage_check(RandomOverSampler(random_state=0), LogisticRegression(), x, y, seeds=(0,),
                          scoring="balanced_accuracy")
    assert table["balanced_accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match=r"leakage_check\(\): `step` must be a scikit-learn transformer"):
        leakage_check("scale", LogisticRegression(), x, y)
    with pytest.raises(ValueError, match=r"`cv` must be an integer >= 2; got 1"):
        leakage_check(StandardScaler(), LogisticRegression(), x, y, cv=1)
    with pytest.raises(ValueError, match=r"`seeds` must be a non-empty list or tuple of seeds \(integers >= 0 and "
                                         r"<= 4294967295\); got \(0, -1\)"):
        leakage_check(StandardScaler(), LogisticRegression(), x, y, seeds=(0, -1))
    with pytest.raises(ValueError, match=r"`scoring` must be the name of a scikit-learn scorer.*; got 'acuracy'. "
                                         r"Did you mean 'accuracy'\?"):
        leakage_check(StandardScaler(), LogisticRegression(), x, y, scoring="acuracy")
    with pytest.raises(ValueError, match=r"`y` must be class labels, one per row of x \(60\); got '59 labels'"):
        leakage_check(StandardScaler(), LogisticRegression(), x, y[1:])


def test_fit_on_train_messages():
    with pytest.raises(ValueError, match=r"fit_on_train\(\): `data` must be a DataBundle"):
        fit_on_train(StandardScaler(), (torch.zeros(3, 2), torch.zeros(3)))
    with pytest.raises(ValueError, match=r"`transformer` must be a scikit-learn transformer"):
        fit_on_train(LogisticRegression(), bundle())


# ---------------------------------------------------------------- missing values


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 40), columns=st.integers(1, 6), rate=st.floats(0.01, 0.99), seed=st.integers(0, 10**6))
def test_inject_missing_masks_exactly_the_new_holes(rows, columns, rate, seed):
    x = np.random.default_rng(seed).normal(size=(rows, columns))
    x[0, 0] = np.nan  # an entry missing already is not part of the mask
    holes, mask = inject_missing(x, rate, seed=seed)
    assert np.isnan(x).sum() == 1, "the input is not modified"
    np.testing.assert_array_equal(mask, np.isnan(holes) & ~np.isnan(x))
    np.testing.assert_array_equal(holes[~np.isnan(holes)], x[~np.isnan(holes)])


def test_inject_missing_rates_mar_and_types():
    x = np.random.default_rng(0).normal(size=(4000, 5))
    _, mask = inject_missing(x, 0.3, "mcar", seed=0)
    assert mask.mean() == pytest.approx(0.3, abs=0.01)
    _, mask = inject_missing(x, 0.3, "mar", driver=2, seed=0)
    assert not mask[:, 2].any() and mask.mean() == pytest.approx(0.3 * 4 / 5, abs=0.01)
    high = x[:, 2] > np.median(x[:, 2])
    assert mask[high].mean() > 2.5 * mask[~high].mean(), "MAR: rows with a large driver value lose more entries"
    holes, mask = inject_missing(torch.ones(10, 3), 0.5, seed=0)
    assert holes.dtype == torch.float32 and mask.dtype == torch.bool
    series, _ = inject_missing(pd.Series(np.arange(50.0)), 0.2, seed=0)
    assert series.shape == (50,)


def test_inject_missing_messages():
    with pytest.raises(ValueError, match=r"inject_missing\(\): `mechanism` must be one of 'mcar', 'mar'; "
                                         r"got 'mcr'. Did you mean 'mcar'\?"):
        inject_missing(np.ones((3, 3)), 0.1, "mcr")
    with pytest.raises(ValueError, match=r"`rate` must be a real number > 0 and <= 0.5; got 0.7"):
        inject_missing(np.ones((3, 3)), 0.7, "mar")
    with pytest.raises(ValueError, match=r"`x` must be a non-empty 2-D array or tensor; got \(3,\)"):
        inject_missing(np.ones(3), 0.1, "mar")
    with pytest.raises(ValueError, match=r"`driver` must be an integer >= 0 and <= 2; got 3"):
        inject_missing(np.ones((3, 3)), 0.1, "mar", driver=3)


@pytest.mark.filterwarnings("ignore:.IterativeImputer. Early stopping")
def test_score_imputers_against_a_hand_computed_mean_imputation_and_ranking():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 1)) @ np.ones((1, 4)) + 0.1 * rng.normal(size=(300, 4))  # four views of one thing
    holes, mask = inject_missing(x, 0.2, seed=1)
    table = score_imputers(x, holes).set_index("imputer")
    filled = np.where(mask, np.nanmean(holes, 0), x)
    by_hand = np.sqrt(np.mean(((filled - x) / x.std(0))[mask] ** 2))
    assert table.loc["mean", "rmse"] == pytest.approx(by_hand)
    assert table.loc["iterative", "rmse"] < table.loc["knn", "rmse"] < table.loc["mean", "rmse"]
    assert list(table.index) == ["mean", "median", "knn", "iterative"]
    custom = score_imputers(x, holes, {"zero": SimpleImputer(strategy="constant", fill_value=0.0)}, scale=False)
    assert custom["imputer"].tolist() == ["zero"]


def test_score_imputers_messages():
    x = np.ones((5, 2))
    with pytest.raises(ValueError, match=r"`x_missing` must be x_true with some entries set to NaN"):
        score_imputers(x, x)
    with pytest.raises(ValueError, match=r"`x_missing` must be an array shaped like x_true \(5, 2\); got \(4, 2\)"):
        score_imputers(x, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"score_imputers\(\): `imputers` must be a non-empty list of names from "
                                         r"'mean', 'median', .*; got \['medain'\]. Did you mean 'median'\?"):
        score_imputers(x, inject_missing(x, 0.5, seed=0)[0], ["medain"])


def test_score_fills_by_hand():
    truth = pd.Series([0.0, 1, 2, 3, 4, 5])
    holes = pd.Series([0.0, np.nan, 2, np.nan, np.nan, 5])
    table = score_fills(truth, holes).set_index("method")["rmse"]
    unit = truth.std(ddof=0)
    assert table["interpolate"] == pytest.approx(0.0)
    assert table["ffill"] == pytest.approx(np.sqrt(np.mean(np.array([1, 1, 2]) ** 2)) / unit)
    assert table["bfill"] == pytest.approx(np.sqrt(np.mean(np.array([1, 2, 1]) ** 2)) / unit)
    with pytest.raises(ValueError, match=r"score_fills\(\): `methods` must be a non-empty list of names from 'mean', "
                                         r"'ffill', 'bfill', 'interpolate'; got \['fill'\]. Did you mean 'ffill'\?"):
        score_fills(truth, holes, ["fill"])


# ---------------------------------------------------------------- outliers


def test_robust_outliers_rules_by_hand():
    x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [2.0, 5.0], [100.0, 5.0]])
    assert robust_outliers(x, "mad")[:, 0].tolist() == [False, False, False, False, True]
    assert not robust_outliers(x, "mad")[:, 1].any(), "a column without spread has no outliers"
    q1, q3 = np.percentile(x[:, 0], [25, 75])
    expected = (x[:, 0] < q1 - 1.5 * (q3 - q1)) | (x[:, 0] > q3 + 1.5 * (q3 - q1))
    np.testing.assert_array_equal(robust_outliers(x, "iqr")[:, 0], expected)
    assert not robust_outliers(x, "zscore")[:, 0].any(), "the big value inflates the sd and hides itself"
    reference = np.array([[0.0], [1.0], [2.0], [1.0]])
    assert robust_outliers(np.array([[1.5], [50.0]]), "iqr", reference=reference)[:, 0].tolist() == [False, True]
    flags = robust_outliers(torch.tensor(x), "mad")
    assert flags.dtype == torch.bool


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), low=st.floats(0.5, 3), extra=st.floats(0.1, 3),
       method=st.sampled_from(["mad", "iqr", "zscore"]))
def test_a_higher_threshold_flags_a_subset(seed, low, extra, method):
    x = np.random.default_rng(seed).standard_t(2, size=(50, 3))
    loose, strict = robust_outliers(x, method, low), robust_outliers(x, method, low + extra)
    assert not (strict & ~loose).any()


def test_outlier_messages_and_pipeline():
    with pytest.raises(ValueError, match=r"robust_outliers\(\): `method` must be one of 'zscore', 'mad', 'iqr'; "
                                         r"got 'mda'. Did you mean 'mad'\?"):
        robust_outliers(np.ones((3, 2)), "mda")
    with pytest.raises(ValueError, match=r"`threshold` must be a real number > 0 or None; got 0"):
        robust_outliers(np.ones((3, 2)), "mad", 0)
    clean = make_pipeline(OutlierToNaN("iqr", 1.5), SimpleImputer(strategy="median"))
    out = clone(clean).fit_transform(np.array([[1.0], [2.0], [3.0], [2.0], [100.0]]))
    assert out.ravel().tolist() == [1.0, 2.0, 3.0, 2.0, 2.0]
    assert OutlierToNaN("iqr", 2.0).get_params() == {"method": "iqr", "threshold": 2.0}
    with pytest.raises(ValueError, match=r"robust_outliers\(\): `reference` must be rows with as many columns as x "
                                         r"\(2\); got \(4, 1\)"):
        robust_outliers(np.ones((3, 2)), reference=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"score_outlier_rules\(\): `truth` must be a mask shaped like x_bad \(3, 2\)"):
        score_outlier_rules(np.ones((3, 2)), np.zeros((3, 1)))


def test_outlier_to_nan_checks_its_arguments_in_fit_as_scikit_learn_does():
    """scikit-learn's estimators only store their arguments in ``__init__`` (``clone`` and
    ``set_params`` rely on it): the bad values of the class's table are caught by ``fit``, and
    the message names the class, where the reader gave them."""
    from nbhelpers._checks import declared

    x = np.array([[1.0], [2.0], [3.0], [2.0], [100.0]])
    table = declared(OutlierToNaN)
    assert set(table) == {"method", "threshold"}
    cases = [(argument, bad) for argument, constraint in table.items() for bad in constraint.bad_values()]
    assert len(cases) >= 4
    for argument, bad in cases:
        step = OutlierToNaN(**{argument: bad})  # stored as given: scikit-learn's rule
        with pytest.raises(ValueError) as error:
            step.fit(x)
        message = str(error.value)
        assert message.startswith(f"OutlierToNaN(): `{argument}` must be ") and f"; got {bad!r}" in message, message
        assert not hasattr(step, "low_"), "nothing is learned from bad arguments"
    step = OutlierToNaN("mad").set_params(method="mda")  # set_params does not check either: fit does
    with pytest.raises(ValueError, match=r"OutlierToNaN\(\): `method` must be one of 'zscore', 'mad', 'iqr'; got "
                                         r"'mda'. Did you mean 'mad'\?"):
        step.fit(x)


def test_inject_outliers_and_scoring_rules():
    x = np.random.default_rng(0).normal(10, 1, size=(400, 5))
    bad, mask = inject_outliers(x, 0.05, 10, seed=0)
    np.testing.assert_allclose(bad[mask], 10 * x[mask])
    np.testing.assert_array_equal(bad[~mask], x[~mask])
    table = score_outlier_rules(bad, mask).set_index("method")
    assert list(table.index) == ["zscore", "mad", "iqr"]
    assert table.loc["mad", "recall"] > table.loc["zscore", "recall"], "robust rules are not masked by the errors"
    assert table[["flagged", "precision", "recall"]].stack().between(0, 1).all()
    with pytest.raises(ValueError, match=r"`rate` must be a real number > 0 and <= 1; got 0"):
        inject_outliers(x, 0)


# ---------------------------------------------------------------- class imbalance


@settings(max_examples=30, deadline=None)
@given(ratio=st.floats(0.01, 0.5), seed=st.integers(0, 1000))
def test_make_imbalanced_keeps_the_common_rows_and_the_asked_share_of_rare_ones(ratio, seed):
    y = np.repeat([0, 1, 2], [100, 200, 150])
    x = np.arange(len(y), dtype=float)[:, None]
    new_x, new_y = make_imbalanced(x, y, ratio, minority=0, seed=seed)
    counts = np.bincount(new_y, minlength=3)
    assert counts[1:].tolist() == [200, 150] and counts[0] == round(ratio * 200)
    assert (np.diff(new_x[:, 0]) > 0).all(), "rows keep their order"
    np.testing.assert_array_equal(y[new_x[:, 0].astype(int)], new_y)


def test_make_imbalanced_types_default_and_messages():
    x, y = torch.randn(300, 2), torch.tensor([0] * 100 + [1] * 200)
    new_x, new_y = make_imbalanced(x, y, 0.1)
    assert isinstance(new_x, torch.Tensor) and torch.bincount(new_y).tolist() == [20, 200]
    with pytest.raises(ValueError, match=r"make_imbalanced\(\): `ratio` must be a real number >= 0.005 and <= 0.5; "
                                         r"got 0.8"):
        make_imbalanced(x, y, 0.8, minority=0)
    with pytest.raises(ValueError, match=r"`y` must be integer class labels, one per row of x; got torch.float32"):
        make_imbalanced(x, y.float(), 0.1)
    with pytest.raises(ValueError, match=r"`y` must be integer class labels, one per row of x \(300\); got '299 labels'"):
        make_imbalanced(x, y[1:], 0.1)


def test_resample_counts_rows_and_types():
    x, y = np.arange(40.0).reshape(20, 2), np.array([0] * 16 + [1] * 4)
    for method, counts in (("over", [16, 16]), ("under", [4, 4]), ("smote", [16, 16])):
        new_x, new_y = resample(x, y, method, seed=0)
        assert np.bincount(new_y).tolist() == counts
    under_x, _ = resample(x, y, "under", seed=0)
    assert {tuple(r) for r in under_x} <= {tuple(r) for r in x}
    same = resample(x, y, "none")
    assert same[0] is x and same[1] is y
    tx, ty = resample(torch.tensor(x, dtype=torch.float32), torch.tensor(y), "smote", seed=0)
    assert tx.dtype == torch.float32 and ty.dtype == torch.int64
    again = resample(x, y, "smote", seed=0)[0]
    np.testing.assert_array_equal(again, resample(x, y, "smote", seed=0)[0])


def test_resample_smote_with_few_rare_rows_and_messages():
    x, y = np.arange(20.0).reshape(10, 2), np.array([0] * 8 + [1] * 2)
    assert np.bincount(resample(x, y, "smote", seed=0)[1]).tolist() == [8, 8]  # k shrinks to 1 neighbour
    with pytest.raises(ValueError, match=r"`y` must be at least 2 rows in every class for SMOTE"):
        resample(x, np.array([0] * 9 + [1]), "smote")
    with pytest.raises(ValueError, match=r"resample\(\): `method` must be one of .*Did you mean 'smote'\?"):
        resample(x, y, "smoot")


def test_class_weights_agree_with_scikit_learn():
    y = np.array([0] * 30 + [1] * 5 + [2] * 15)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    np.testing.assert_allclose(class_weights(torch.tensor(y)).numpy(), expected, rtol=1e-6)
    assert class_weights(y, num_classes=3).dtype == torch.float32
    with pytest.raises(ValueError, match=r"class_weights\(\): `y` must be labels 0..3 each present at least once"):
        class_weights(np.array([0, 1, 3]))
    with pytest.raises(ValueError, match=r"`y` must be labels 0..2 each present at least once; got 'class counts \[1, 1, 0\]'"):
        class_weights(np.array([0, 1]), num_classes=3)


def test_train_with_remedy_result_and_messages():
    data = tabular("breast_cancer")
    run = train_with_remedy(data, "weighted", minority=0, steps=12, seed=0)
    assert list(run)[:4] == ["balanced_accuracy", "rare_recall", "rare_precision", "rare_f1"]
    assert {"recall_malignant", "recall_benign", "plain_accuracy", "macro_f1"} <= set(run)
    assert all(0 <= run[k] <= 1 for k in run if k not in ("history", "epochs"))
    assert run["balanced_accuracy"] == pytest.approx((run["recall_malignant"] + run["recall_benign"]) / 2)
    assert run["epochs"] == 2 and set(run["history"]["split"]) == {"train", "valid"}  # 12 steps of 6 batches
    rare_benign = DataBundle(make_imbalanced(*data.train, 0.1, minority=1, seed=0), data.valid, None, data.classes)
    over = train_with_remedy(rare_benign, "over", steps=6, seed=0)  # the rarest class is found before resampling
    assert over["rare_recall"] == over["recall_benign"]
    with pytest.raises(ValueError, match=r"`model` must be None or a function \(in_features, num_classes\)"):
        train_with_remedy(data, model="mlp")
    with pytest.raises(ValueError, match=r"train_with_remedy\(\): `remedy` must be one of .*Did you mean 'smote'\?"):
        train_with_remedy(data, "smotte")
    with pytest.raises(ValueError, match=r"`data` must be a classification bundle with a validation split"):
        train_with_remedy(tabular("diabetes"))


# ---------------------------------------------------------------- comparisons


def test_compare_preprocessing_is_repeatable_and_tidy():
    data = lambda seed: tabular("wine", standardize=False, seed=seed)  # noqa: E731
    study = compare_preprocessing(data, {"raw": None, "standard": StandardScaler()}, seeds=(0, 1), epochs=3)
    again = compare_preprocessing(data, {"raw": None, "standard": StandardScaler()}, seeds=(0, 1), epochs=3)
    assert isinstance(study, Comparison)
    pd.testing.assert_series_equal(study.runs["valid_loss"], again.runs["valid_loss"])
    assert len(study.history) == 2 * 2 * 3 * 2  # settings x seeds x epochs x splits
    summary = study.summary("valid_accuracy")
    assert summary["n"].tolist() == [2, 2] and summary["mean"].between(0, 1).all()
    reached = study.epochs_to(0.0, "accuracy")
    assert reached["reached"].tolist() == [2, 2] and reached["mean"].tolist() == [1.0, 1.0]
    assert study.epochs_to(2.0, "accuracy")["reached"].tolist() == [0, 0]
    assert len(study.plot().axes) >= 2
    with pytest.raises(ValueError, match=r"compare_preprocessing\(\): `pipelines` must be a dict"):
        compare_preprocessing(data, [StandardScaler()])
    func = "Comparison.versus"
    with pytest.raises(ValueError, match=rf"{func}\(\): `a` must be a setting of this comparison: 'raw', 'standard'; "
                                         r"got 'standart'. Did you mean 'standard'\?"):
        study.versus("standart", "raw")
    with pytest.raises(ValueError, match=rf"{func}\(\): `b` must be a setting of this comparison other than a: 'raw'"):
        study.versus("standard", "standard")
    with pytest.raises(ValueError, match=r"Comparison.summary\(\): `metric` must be a metric column of `runs`: "
                                         r"'valid_loss', .*; got 'accuracy'. Did you mean 'valid_accuracy'\?"):
        study.summary("accuracy")
    with pytest.raises(ValueError, match=r"Comparison.epochs_to\(\): `threshold` must be a real number; got '90%'"):
        study.epochs_to("90%")
    with pytest.raises(ValueError, match=r"Comparison.plot\(\): `split` must be a split of `history`: 'train', 'valid'; "
                                         r"got 'test'"):
        study.plot(split="test")
    with pytest.raises(ValueError, match=r"Comparison.plot\(\): `metrics` must be a per-epoch metric of `history`: "
                                         r"'loss', 'accuracy', .*; got 'acc'"):
        study.plot(["loss", "acc"])
    with pytest.raises(ValueError, match=r"compare_preprocessing\(\): `minority` must be an integer >= 0 and <= 2; got 3"):
        compare_preprocessing(data, {"raw": None}, seeds=(0,), epochs=1, minority=3)
    with pytest.raises(ValueError, match=r"compare_preprocessing\(\): `data` must be a DataBundle.* or a function "
                                         r"seed -> DataBundle; got \"a function returning 'tuple'\""):
        compare_preprocessing(lambda seed: data(seed).train, {"raw": None}, seeds=(0,), epochs=1)


def test_ctrl_c_ends_the_whole_comparison(monkeypatch):
    real_fit, calls = compare_module.fit, []

    def interrupted_fit(*args, **kwargs):
        calls.append(kwargs["seed"])
        result = real_fit(*args, **kwargs)
        return replace(result, stop_reason="interrupted") if len(calls) == 2 else result

    monkeypatch.setattr(compare_module, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt, match="interrupted while training seed 1; the comparison stopped there"):
        compare_preprocessing(tabular("wine"), {"none": None, "standard": StandardScaler()}, seeds=(0, 1, 2), epochs=1)
    assert calls == [0, 1], "the comparison went on after Ctrl-C"
