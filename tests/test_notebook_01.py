"""Chapter 01 (data preprocessing) runs top to bottom in quick mode, and what it prints holds up:
intervals contain their means, verdicts agree with their intervals, and every sentence that
states a result (`say`) carries the numbers and verdicts of the lines and tables printed
above it, with words that fit its verdict. Quick mode trains 3 seeds for a few epochs, so
most effects are not checked for size here; the ones that are large at any budget are
(scaling for k-NN, the feature-selection leak, the imputers' error, the radius for the rings)."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import NOTEBOOKS, VERDICT, check_interval, check_reference, check_structure, count_images, run_notebook, text_of

NAME = "01_data_preprocessing.ipynb"
QUICK = " *(Quick mode: these numbers show that the code runs, not the effect; full mode measures it.)*"
NUMBER = r"[+-]\d+\.\d+"
# what effect() writes, in points (shares) or in the metric's own unit (rmse): the whole phrase, then its parts
EFFECT = (rf"(({NUMBER})(?: points)? \(95% CI ({NUMBER}) to ({NUMBER})(?:, corrected for (\d+) comparisons)?, "
          rf"(\d+) seeds: {VERDICT}\))")
LEAK = "all rows (leaky) minus training folds only (pipeline)"


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    notebook = run_notebook(NAME, cache=tmp_path_factory.mktemp("cache"))  # train every run anew
    assert count_images(notebook) >= 5, "curves, series, outlier histogram, rings and remedies drawn"
    return text_of(notebook)


def effect(text: str, label: str, seeds: int = 3, lower: bool | None = None) -> dict:
    """The effect printed after ``label``: checked (interval holds its mean, verdict fits it, quick-mode note).

    ``lower``: lower is better (an rmse, a loss; read from ``label`` by default)."""
    match = re.search(re.escape(label) + EFFECT, text)
    assert match, f"no effect after {label!r}"
    phrase, mean, low, high, comparisons, n, verdict = match.groups()
    assert int(n) == seeds and verdict.endswith("[quick mode: not evidence]"), phrase
    if lower if lower is not None else re.search(r"rmse|loss", label):
        check_interval(str(-float(mean)), str(-float(high)), str(-float(low)), verdict)  # a fall helps
    else:
        check_interval(mean, low, high, verdict)
    return {"phrase": phrase, "mean": float(mean), "low": float(low), "high": float(high), "verdict": verdict,
            "comparisons": int(comparisons or 1)}


def said(text: str, start: str) -> str:
    """The sentence `say` rendered that begins with ``start``; in quick mode it ends with the note."""
    match = re.search("^" + re.escape(start) + r".*$", text, re.M)
    assert match, f"no sentence starting {start!r}"
    assert match.group(0).endswith(QUICK), match.group(0)
    return match.group(0)


def percent(sentence: str, before: str) -> float:
    """The percentage right after ``before`` in ``sentence``."""
    return float(re.search(re.escape(before) + r" ([\d.]+)%", sentence).group(1))


def table(text: str, first: str, names: str, columns: int) -> dict[str, list[float]]:
    """Rows of a printed table: name (one of ``names``, a regex; spaces normalised) and ``columns``
    numbers, the first such rows after the text ``first``."""
    block = text[text.index(first):]
    rows = re.findall(rf"^\s*(?:\d+\s+)?({names})((?:\s+[-\d.]+|\s+NaN){{{columns}}})\s*$", block, re.M)
    found = {}
    for name, values in rows:
        found.setdefault(" ".join(name.split()), [float(v) for v in values.split()])
    return found


def near(sentence: str, before: str, value: float, scale: float = 100.0, digits: int = 1) -> None:
    """The number right after ``before`` in ``sentence`` is ``value`` (times ``scale``) to its printed digits."""
    shown = float(re.search(re.escape(before) + r" ([\d.]+)", sentence).group(1))
    assert shown == pytest.approx(value * scale, abs=0.51 * 10 ** -digits + 0.0005 * scale), (before, shown, value)


def test_structure_guides_and_no_seed_texts():
    markdown = "\n".join(check_structure(NAME, ("compare_preprocessing(", "leakage_check(", "fit_on_train(", "say(",
                                                "paired_gain(", 'comparisons="all"', "images=", "by_mode(", "sweep(",
                                                "explore(")))
    code = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / NAME, as_version=4).cells if c.cell_type == "code")
    assert not re.search(r"seed text|seeds'|seed 00\d", markdown + code, re.I), "name the guides, not 'seed texts'"
    for guide in ("*Boosting* guide", "*Optimize* guide"):
        assert guide in markdown, guide
    assert "# the Boosting guide's way" in code
    assert "Reading it" in markdown
    assert re.search(r"full mode [\d.]+ minutes .*measured by\s+`make course`", markdown, re.S), "a measured time"
    # ten seeds where effects are large, more where they are about as large as the seed-to-seed spread
    assert "SEEDS = by_mode(full=list(range(10)), quick=[0, 1, 2])" in code
    assert re.search(r"MORE_SEEDS = by_mode\(full=list\(range\((\d+)\)\), quick=\[0, 1, 2\]\)", code)
    assert code.count("seeds=MORE_SEEDS") == 5, "downstream, cleaning, its reference, engineered features, remedies"


def test_scaling(text):
    assert "3 seeds (3 for the small effects), 8 epochs per training run" in text
    assert float(re.search(r"largest difference on the test rows: ([\d.e+-]+)", text).group(1)) < 1e-5
    raw = effect(text, "standard minus none (raw units), valid_accuracy: ")
    accuracy = effect(text, "standard minus min-max, valid_accuracy: ")
    loss = effect(text, "standard minus min-max, valid_loss: ")
    sentence = said(text, "Raw units: ")
    for found in (raw, accuracy, loss):
        assert found["phrase"] in sentence
    reach = table(text, "largest difference on the test rows", r"none \(raw units\)|min-max|standard", 5)
    for setting, name in (("standard", "Standardized columns"), ("min-max", "min-max")):
        runs, hit, mean = reach[setting][:3]
        if hit == 0:
            assert f"{name}: no run of {int(runs)} reached 90%" in sentence
        else:
            assert f"{name}: {int(hit)} of {int(runs)} runs reached 90%, after " in sentence
            near(sentence[sentence.index(f"{name}: "):], "runs reached 90%, after", mean, scale=1)
    assert ("Raw units: no run of" in sentence) == (reach["none (raw units)"][1] == 0)
    firm = accuracy["verdict"].split(" [")[0]  # "helps (borderline)" gets the cautious words
    words = {"helps": "standardized columns still ahead", "hurts": "min-max ahead"}.get(firm,
                                                                                      "no clear difference left")
    assert f"in accuracy ({words})" in sentence, (firm, sentence)


def test_knn_needs_scaling(text):
    knn = {k: float(v) for k, v in re.findall(r"k-NN, (none \(raw units\)|min-max|standard): accuracy ([\d.]+)%", text)}
    assert len(knn) == 3 and knn["standard"] > knn["none (raw units)"] + 10, knn
    sentence = said(text, "In raw units k-NN was right on")
    assert percent(sentence, "right on") == knn["none (raw units)"]
    assert percent(sentence, "standardized columns on") == knn["standard"]
    assert percent(sentence, "min-max on") == knn["min-max"]
    gain = effect(sentence, "standard minus raw units: ")
    assert gain["mean"] == pytest.approx(knn["standard"] - knn["none (raw units)"], abs=0.11)
    low, high = map(float, re.search(r"k-NN, none \(raw units\): accuracy [\d.]+% \(95% CI ([\d.]+)% to ([\d.]+)%",
                                     text).groups())
    p = knn["none (raw units)"] / 100
    assert (high - low) / 2 >= 100 * 1.96 * (p * (1 - p) / 178) ** 0.5, "178 wines: the interval holds their noise"


def test_leakage(text):
    scaler = effect(text, f"{LEAK}, accuracy: ")
    sentence = said(text, "The scaler's leak, leaky minus honest estimate: ")
    assert scaler["phrase"] in sentence
    if scaler["verdict"].startswith("no clear effect"):
        assert "Within the noise here" in sentence
    selection = table(text, "The scaler's leak", r"all rows \(leaky\)|training folds only \(pipeline\)", 4)
    leaky, honest = selection["all rows (leaky)"][0], selection["training folds only (pipeline)"][0]
    sentence = said(text, "On coin flips, selecting features on all rows scored ")
    near(sentence, "scored", leaky)
    near(sentence, "the pipeline", honest)
    gap = effect(sentence, "leaky minus honest: ")
    assert gap["mean"] > 10 and gap["verdict"].startswith("helps") and "optimism bought by the leak" in sentence
    assert gap["phrase"] in re.findall(re.escape(f"{LEAK}, accuracy: ") + EFFECT, text)[1][0]
    assert 30 <= float(re.search(r"pipeline, cross-validated: ([\d.]+)%", text).group(1)) <= 70
    effect(text, f"{LEAK}, balanced_accuracy: ")


def test_missing_values(text):
    assert re.search(r"MCAR: 30\.\d% missing", text) and "same values: True" in text
    for mechanism in ("mcar", "mar"):
        iterative = effect(text, f"{mechanism} iterative minus mean, rmse: ")
        assert iterative["verdict"].startswith("helps"), "a lower rmse helps"
        assert effect(text, f"{mechanism} knn minus mean, rmse: ")["mean"] < 0
    mar = effect(text, "mean imputation, mar minus mcar, rmse: ")
    assert mar["mean"] > 0, "MAR hurts the mean imputer"
    rmse = table(text, "same values: True", r"(?:mcar|mar)\s+(?:mean|median|knn|iterative)", 4)
    sentence = said(text, "Under MCAR the error fell from ")
    for before, imputer in (("fell from", "mean"), ("(mean) to", "knn"), ("(k-NN) and", "iterative")):
        near(sentence, before, rmse[f"mcar {imputer}"][0], scale=1, digits=3)
    assert mar["phrase"] in sentence
    knn_raw = float(re.search(r"k-NN on unscaled columns \(MCAR, seed 0\): rmse ([\d.]+)", text).group(1))
    assert f"(MCAR, seed 0): {knn_raw:.3f}, against " in sentence
    effect(sentence, "iterative minus k-NN: ", lower=True)


def test_better_fill_and_accuracy(text):
    accuracy = effect(text, "iterative minus mean, valid_accuracy: ")
    sentence = said(text, "Under MAR the iterative imputer's error was ")
    assert accuracy["phrase"] in sentence
    rmse = table(text, "same values: True", r"mar\s+(?:mean|iterative)", 4)
    cut = 1 - rmse["mar iterative"][0] / rmse["mar mean"][0]
    shown = int(re.search(r"error was (\d+)% below the mean's", sentence).group(1))
    assert abs(shown - 100 * cut) <= 1, (shown, cut)
    verdict = accuracy["verdict"]
    expected = ("A gain at the edge" if "(borderline)" in verdict else "Real, but small" if verdict.startswith("helps")
                else "cost accuracy" if verdict.startswith("hurts") else "did not clearly change")
    assert expected in sentence, (verdict, sentence)


def test_time_series_fills(text):
    fills = {m: v[0] for m, v in table(text, "Under MAR the iterative imputer's error", "mean|ffill|bfill|interpolate",
                                       4).items()}
    assert fills["interpolate"] < fills["ffill"] < fills["mean"] and fills["bfill"] < fills["mean"], fills
    sentence = said(text, "The series' mean missed by ")
    for before, method in (("The series' mean missed by", "mean"), ("`ffill` by", "ffill"), ("`bfill` by", "bfill"),
                           ("`interpolate` by", "interpolate")):
        near(sentence, before, fills[method], scale=1, digits=2)
    assert effect(sentence, "interpolate minus ffill: ", lower=True)["mean"] < 0


def test_outliers(text):
    rules = table(text, "flagged  precision  recall", "zscore|mad|iqr", 3)
    assert set(rules) == {"zscore", "mad", "iqr"} and all(0 <= v <= 1 for row in rules.values() for v in row)
    assert rules["mad"][2] > rules["zscore"][2] and rules["iqr"][2] > rules["zscore"][2], "recall: robust rules win"
    assert "same flags as robust_outliers: True" in text
    sentence = said(text, "The z-score rule found ")
    for before, rule in (("found", "zscore"), ("MAD", "mad"), ("IQR", "iqr")):
        near(sentence, before, rules[rule][2])
    precisions = [float(v) for v in
                  re.search(r"flagged, ([\d.]+)%, ([\d.]+)% and ([\d.]+)% were slips", sentence).groups()]
    assert precisions == pytest.approx([100 * rules[r][1] for r in ("zscore", "mad", "iqr")], abs=0.051 + 0.05)


def test_cleaning(text):
    clean = effect(text, "MAD to NaN, median, standard minus standard, valid_accuracy: ")
    short = effect(text, "MAD to NaN, median, standard minus uncorrupted, standard, valid_accuracy: ")
    claim = [effect(text[m.start():], "standard minus min-max, valid_accuracy: ")
             for m in re.finditer(re.escape("standard minus min-max, valid_accuracy: "), text)][-1]
    robust = effect(text, "robust scaler minus standard, valid_accuracy: ")
    assert clean["mean"] > 0
    accuracy = table(text, "The z-score rule found", r"standard|uncorrupted, standard", 4)
    sentence = said(text, "The slips took the network from ")
    near(sentence, "from", accuracy["uncorrupted, standard"][0])
    near(sentence, "(uncorrupted) to", accuracy["standard"][0])
    for found in (clean, short, claim, robust):
        assert found["phrase"] in sentence
    words = {"helps": "supports", "hurts": "contradicts", "no clear effect": "does not support"}
    verdict = claim["verdict"]
    expected = "gives only weak support to" if "(borderline)" in verdict else words[verdict.split(" [")[0]]
    assert f"so this run {expected} the *Boosting* guide's claim" in sentence


def test_features(text):
    rings = table(text, "The slips took the network from",
                  r"raw x, y, MLP|raw x, y|polynomial, degree 2|radius \(domain\)", 4)
    radius = effect(text, "radius (domain) minus raw x, y, valid_accuracy: ")
    assert radius["mean"] > 20
    sentence = said(text, "The linear model on raw coordinates reached ")
    near(sentence, "reached", rings["raw x, y"][0])
    near(sentence, "with polynomial features", rings["polynomial, degree 2"][0])
    near(sentence, "with the radius", rings["radius (domain)"][0])
    near(sentence, "the MLP on raw coordinates", rings["raw x, y, MLP"][0])
    coin = "no better than a coin" if rings["raw x, y"][1] <= 0.5 else "above a coin's 50%"
    assert coin in sentence
    interactions = effect(text, "interactions, standard minus standard, valid_accuracy: ")
    log = effect(text, "log1p, standard minus standard, valid_accuracy: ")
    sentence = said(text, "Interactions minus standard: ")
    assert interactions["phrase"] in sentence and log["phrase"] in sentence
    verdict = interactions["verdict"]
    expected = ("may cost a little" if "(borderline)" in verdict else "paid, even" if verdict.startswith("helps")
                else "cost accuracy" if verdict.startswith("hurts") else "did not clearly pay")
    assert expected in sentence, (verdict, sentence)


def test_imbalance(text):
    assert "'always benign' on these rows: accuracy 91" in text
    weights = re.search(r"weights: \[([\d. ]+)\] scikit-learn: \[([\d. ]+)\]", text)
    assert weights and weights.group(1).split() == weights.group(2).split()
    assert float(re.search(r"largest difference: ([\d.e+-]+); classes after SMOTE", text).group(1)) < 1e-5
    gains = {(remedy, metric): effect(text, f"{remedy} minus none, {metric}: ")
             for remedy in ("over", "under", "smote", "weighted")
             for metric in ("rare_recall", "balanced_accuracy", "rare_precision")}
    assert all(g["comparisons"] == 4 for g in gains.values()), "a screen of four remedies: corrected intervals"
    assert all(-100 <= g["low"] <= g["high"] <= 100 for g in gains.values())
    sentence = said(text, "Untreated, the network found ")
    best = max(("over", "under", "smote", "weighted"), key=lambda r: gains[r, "rare_recall"]["mean"])
    assert (f"The largest gain in recall was {best}'s: {gains[best, 'rare_recall']['phrase']}, and its precision "
            f"moved by {gains[best, 'rare_precision']['phrase']}.") in sentence
    raised = [r for r in ("over", "under", "smote", "weighted")
              if gains[r, "balanced_accuracy"]["verdict"].startswith("helps")]
    assert ("none of the four" in sentence) == (not raised) and all(f"{r} (helps" in sentence for r in raised)
    assert gains["smote", "balanced_accuracy"]["phrase"] in sentence
    assert 0 < percent(sentence, "found") <= 100


def test_panel(text):
    assert re.search(r"explore\(train_imbalanced\): 2 controls, 10 runs so far", text)
    recall = table(text, "Untreated, the network found", "none|over|under|smote|weighted", 2)
    assert len(recall) == 5 and all(0 <= v <= 1 for values in recall.values() for v in values)
    sentence = said(text, "In seed 0, at ratio 0.05 the untreated network found ")
    near(sentence, "found", recall["none"][0])
    near(sentence, "under-sampling", recall["under"][0])
    others = [recall[r][0] for r in ("over", "smote", "weighted")]
    near(sentence, "weighted loss", min(others))
    near(sentence, f"{100 * min(others):.1f}% to", max(others))
    near(sentence, "at ratio 0.1, untreated", recall["none"][1])
    trend = ("the rarer class cost the untreated network recall" if recall["none"][0] < recall["none"][1]
             else "the untreated network lost no recall at the rarer ratio")
    assert trend in sentence


def test_summary_and_own_data(text):
    block = text[text.index("k-NN accuracy on wine"):]
    rows = re.findall(r"^\s*(scaling|leakage|imputation|outliers|features|imbalance) .*?\s"
                      rf"{VERDICT}\s+(\d+)$", block, re.M)
    assert len(rows) == 10, "the 'What we measured' table has its ten rows"
    assert all(v.endswith("[quick mode: not evidence]") and int(n) == 3 for _, v, n in rows)
    smote = re.search(r"smote minus none\s+rare_recall\s+(.+?\))\s+" + VERDICT, block)
    assert smote and smote.group(1)[:-1] + ", 3 seeds: " + smote.group(2) + ")" == \
        effect(text, "smote minus none, rare_recall: ")["phrase"], "the table repeats the section's corrected interval"
    assert "Quick mode (3 seeds, 8 epochs): these verdicts show the code runs, not the effect" in text
    own = re.search(r"own data: [\d.]+% rare rows; balanced accuracy ([\d.]+)%, rare recall ([\d.]+)%", text)
    assert own and float(own.group(1)) > 60
    effect(text, f"own pipeline: {LEAK}, accuracy: ")
    assert re.search(r"notebook run time: \d+ s \(quick mode\)", text)
    assert text.count(QUICK) == 13, "every sentence that states a result says that quick mode is not evidence"


def test_the_chapter_shows_which_verdicts_held_on_its_recorded_runs(text):
    check_reference(text, "01")
