"""Chapter 01 runs top to bottom in quick mode, and what it prints says what the prose claims."""

import re

import pytest
from nbrun import count_images, run_notebook, text_of

NAME = "01_data_preprocessing.ipynb"
NUMBER = r"([+-]?[\d.]+)"
LINE = NUMBER + r"(?: points)? \(95% CI " + NUMBER + " to " + NUMBER + r", (\d+) seeds\): (helps|hurts|no clear effect)"


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("NBH_CACHE", str(tmp_path_factory.mktemp("cache")))  # train every run anew, leave the repo's cache alone
    try:
        notebook = run_notebook(NAME)
    finally:
        mp.undo()
    assert count_images(notebook) >= 5, "curves, series, outlier histogram, rings and remedies drawn"
    return text_of(notebook)


def diff(text: str, label: str) -> tuple[float, float, float, str]:
    """``(difference, ci_low, ci_high, verdict)`` of the printed line that starts with ``label``."""
    match = re.search(re.escape(label) + ": " + LINE, text)
    assert match, f"no line {label!r} with a difference and its CI"
    mean, low, high, seeds, verdict = match.groups()
    assert int(seeds) >= 3 and float(low) <= float(mean) <= float(high)
    return float(mean), float(low), float(high), verdict


def test_scaling(text):
    assert diff(text, "standard minus none (raw units), valid_accuracy")[0] > 10
    knn = {k: float(v) for k, v in re.findall(r"k-NN, (none \(raw units\)|min-max|standard): accuracy ([\d.]+)%", text)}
    assert len(knn) == 3 and knn["standard"] > knn["none (raw units)"] + 10, knn
    assert float(re.search(r"largest difference on the test rows: ([\d.e+-]+)", text).group(1)) < 1e-5


def test_leakage(text):
    scaler = diff(text, "all rows (leaky) minus training folds only (pipeline), accuracy")
    assert abs(scaler[0]) < 2, "a scaler's leak is small on 569 rows"
    selection = re.findall(r"all rows \(leaky\) minus training folds only \(pipeline\), accuracy: " + LINE, text)[1]
    assert float(selection[0]) > 10 and selection[4] == "helps", selection
    assert 30 <= float(re.search(r"pipeline, cross-validated: ([\d.]+)%", text).group(1)) <= 70
    assert diff(text, "all rows (leaky) minus training folds only (pipeline), balanced_accuracy")[0] > 0


def test_missing_values(text):
    assert re.search(r"MCAR: 30\.\d% missing", text) and "same values: True" in text
    for mechanism in ("mcar", "mar"):
        assert diff(text, f"{mechanism} iterative minus mean, rmse")[3] == "helps", "a lower rmse helps"
        assert diff(text, f"{mechanism} knn minus mean, rmse")[0] < 0
    assert diff(text, "mean imputation, mar minus mcar, rmse")[0] > 0, "MAR hurts the mean imputer"
    downstream = diff(text, "iterative minus mean, valid_accuracy")
    assert -100 <= downstream[1] and downstream[2] <= 100
    fills = {m: float(v) for m, v in re.findall(r"^\d+\s+(mean|ffill|bfill|interpolate)\s+([\d.]+)", text, re.M)}
    assert fills["interpolate"] < fills["ffill"] < fills["mean"] and fills["bfill"] < fills["mean"], fills


def test_outliers(text):
    rules = {m: [float(v) for v in values] for m, *values in
             re.findall(r"^(zscore|mad|iqr)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", text, re.M)}
    assert set(rules) == {"zscore", "mad", "iqr"} and all(0 <= v <= 1 for row in rules.values() for v in row)
    assert rules["mad"][2] > rules["zscore"][2] and rules["iqr"][2] > rules["zscore"][2], "recall: robust rules win"
    assert "same flags as robust_outliers: True" in text
    assert diff(text, "MAD to NaN, median, standard minus standard, valid_accuracy")[0] > 0
    diff(text, "standard minus min-max, valid_accuracy")


def test_features_and_imbalance(text):
    assert diff(text, "radius (domain) minus raw x, y, valid_accuracy")[0] > 20
    diff(text, "interactions, standard minus standard, valid_accuracy")
    assert "'always benign' on these rows: accuracy 91" in text
    weights = re.search(r"weights: \[([\d. ]+)\] scikit-learn: \[([\d. ]+)\]", text)
    assert weights and weights.group(1).split() == weights.group(2).split()
    assert float(re.search(r"largest difference: ([\d.e+-]+); classes after SMOTE", text).group(1)) < 1e-5
    for remedy in ("over", "under", "smote", "weighted"):
        for metric in ("rare_recall", "balanced_accuracy"):
            mean, low, high, _ = diff(text, f"{remedy} minus none, {metric}")
            assert -100 <= low <= high <= 100
    assert diff(text, "under minus none, rare_recall")[0] > 0, "under-sampling finds more of the rare class"


def test_panel_summary_and_own_data(text):
    assert re.search(r"explore\(train_imbalanced\): 2 controls, 10 runs so far", text)
    recalls = re.findall(r"^(none|over|under|smote|weighted)((?:\s+[\d.]+)+)$", text, re.M)
    assert len(recalls) == 5 and all(0 <= float(v) <= 1 for _, values in recalls for v in values.split())
    assert len(re.findall(r"seeds\): (helps|hurts|no clear effect)$", text, re.M)) >= 29
    table = re.findall(r"^\s*(scaling|leakage|imputation|outliers|features|imbalance) ", text, re.M)
    assert len(table) == 10, "the 'What we measured' table has its ten rows"
    own = re.search(r"own data: [\d.]+% rare rows; balanced accuracy ([\d.]+)%, rare recall ([\d.]+)%", text)
    assert own and float(own.group(1)) > 60
    diff(text, "own pipeline: all rows (leaky) minus training folds only (pipeline), accuracy")
    assert re.search(r"notebook run time: \d+ s \(quick mode\)", text)
    assert "Quick mode (3 seeds, 8 epochs): these verdicts show the code runs, not the effect" in text
