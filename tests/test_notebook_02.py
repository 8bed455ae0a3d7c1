"""Chapter 02 (data augmentation) runs top to bottom in quick mode, and what it prints holds up:
intervals contain their means, verdicts agree with their intervals, a screen's intervals say how
many comparisons they are corrected for, the sentences `say` renders carry the very numbers and
verdicts printed above them, and the words chosen from a verdict ("fell", "a clear loss") agree
with it. Quick mode trains for a few dozen steps, so the effects themselves are not checked here,
except the one that is large at any budget: turning digits by 180° costs the 6s and 9s more than
the 0s, 1s and 8s."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import (CI, NOTEBOOKS, VERDICT, check_interval, check_reference, check_structure, count_images,
                   executed_chapter)

NAME = "02_data_augmentation.ipynb"
STEPS = 16  # quick mode: the screen's steps and the size experiment's
GUIDES = ["Optimize guide (Keras)", "Improve guide (torchvision)"]
QUICK_SCREEN = ["none", *GUIDES, "hflip", "vflip", "brightness+contrast 40%", "CLAHE on every image"]
CANDIDATES = ["hflip", "vflip", "brightness+contrast 40%"]  # the screen's best is picked among these in quick mode
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
QUICK_NOTE = " *(Quick mode: these numbers show that the code runs, not the effect; full mode measures it.)*"
# An effect as `effect` writes it: the interval, maybe its correction, the seeds and the verdict.
EFFECT = (r"(([+-]\d+\.\d) points \(95% CI ([+-]\d+\.\d) to ([+-]\d+\.\d)(?:, corrected for (\d+) comparisons)?, "
          r"(\d+) seeds: " + VERDICT + r"\))")


def effect_after(prefix: str, text: str) -> dict:
    """The effect printed right after ``prefix`` (a regular expression), checked against its interval."""
    found = re.search(prefix + EFFECT, text)
    assert found, prefix
    phrase, mean, low, high, comparisons, seeds, verdict = found.groups()[-7:]
    check_interval(mean, low, high, verdict)
    assert verdict.endswith("[quick mode: not evidence]"), verdict
    return {"phrase": phrase, "mean": float(mean), "comparisons": int(comparisons or 1), "seeds": int(seeds),
            "verdict": verdict}


def firm(found: dict, word: str) -> bool:
    return found["verdict"].startswith(word) and "borderline" not in found["verdict"]


def sentence(text: str, start: str) -> str:
    """The line `say` rendered that begins with ``start``; it ends with the quick-mode note."""
    lines = [line for line in text.splitlines() if line.startswith(start)]
    assert len(lines) == 1, (start, lines)
    assert lines[0].endswith(QUICK_NOTE), lines[0]
    return lines[0][: -len(QUICK_NOTE)]


executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    markdown = "\n".join(check_structure(NAME, ("preview_panel(", "explore(", "sweep(", "summarize(", "paired_gain(",
                                                "by_mode(", "say(", 'comparisons="all"', 'images="images"')))
    # the guides' code next to ours: Keras ImageDataGenerator and torchvision per-sample transforms
    assert "ImageDataGenerator(rotation_range=20" in markdown and "transforms.RandomRotation(degrees=15)" in markdown
    code = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / NAME, as_version=4).cells if c.cell_type == "code")
    assert "pipeline(rotation_range=20, width_shift_range=0.2" in code and "pipeline(rotate=15, shift=0.1)" in code
    # "seed" means a random seed only: the guides go by their short names
    for old in (r"[Ss]eed 00\d", r"[Ss]eed texts?", r"seeds'", r"seed-00\d", r"seed_00\d"):
        assert not re.search(old, markdown + code), old
    for guide in ("*Optimize* guide", "*Improve* guide", "*Myths* guide", "*Boosting* guide"):
        assert guide in markdown, guide


def test_set_up_and_the_guides_recipes(executed):
    _, text = executed
    assert "5,400 training images; the model has 4,370 weights" in text
    # Keras' names map onto ours, and the printout shows the 0.2-degree shear of the Optimize guide's recipe
    assert "Rotate(degrees=20, fill_mode='nearest')" in text and "Shear(degrees=0.2, fill_mode='nearest')" in text
    assert "Zoom(zoom=0.2, per_axis=True, fill_mode='nearest')" in text


def test_mixup_prints_soft_labels_that_sum_to_one(executed):
    _, text = executed
    shares = [float(v) for v in re.search(r"soft labels of the first image: \[([^\]]+)\]", text).group(1).split(",")]
    assert len(shares) == 10 and sum(shares) == pytest.approx(1, abs=0.02) and sum(v > 0 for v in shares) <= 2
    assert "every row sums to 1: True" in text


def test_the_screen_is_corrected_and_its_sentence_carries_its_numbers(executed):
    _, text = executed
    base = float(re.search(r"no augmentation, 500 images: ([\d.]+)% validation accuracy \(3 seeds\)", text).group(1))
    assert 15 < base < 100, base  # above chance (10%) even after a few dozen steps
    extremes = {}
    for label in ("best", "worst"):
        recipe = re.search(rf"^{label}: (.+?): [+-]\d", text, flags=re.M).group(1)
        assert recipe in QUICK_SCREEN[1:]
        extremes[label] = recipe, effect_after(rf"{label}: {re.escape(recipe)}: ", text)
        assert extremes[label][1]["comparisons"] == len(QUICK_SCREEN) - 1 and extremes[label][1]["seeds"] == 3
    assert extremes["best"][1]["mean"] >= extremes["worst"][1]["mean"]
    counts = re.search(r"over (\d+) recipes: (.+)", text)
    assert int(counts.group(1)) == len(QUICK_SCREEN) - 1
    tally = {v: int(n) for n, v in re.findall(rf"(\d+) {VERDICT}", counts.group(2))}
    assert sum(tally.values()) == len(QUICK_SCREEN) - 1, tally
    said = sentence(text, f"The screen (3 seeds, 500 images, {STEPS} steps)")
    assert f"corrected for {len(QUICK_SCREEN) - 1} comparisons" in said
    (best, found_best), (worst, found_worst) = extremes["best"], extremes["worst"]
    assert f"Its best, {best}, changed validation accuracy by {found_best['phrase']}" in said
    assert f"its worst, {worst}, by {found_worst['phrase']}" in said
    lists = re.search(r"clearly helped: (.+?); clearly hurt: (.+?)\. Its best", said).groups()
    for verb, listed in zip(("helps", "hurts"), lists):
        names = [n for n in listed.split(", ") if n != "none"]
        assert len(names) == sum(n for v, n in tally.items() if v.startswith(verb)), (names, tally)
        assert all(n.removesuffix(" (borderline)") in QUICK_SCREEN[1:] for n in names), names


def test_the_confirmation_and_its_sentence(executed):
    _, text = executed
    confirmed = {r: effect_after(rf"confirmed, {re.escape(r)}: ", text) for r in QUICK_SCREEN[1:]}
    for found in confirmed.values():
        assert found["comparisons"] == 1 and found["seeds"] == 3, found  # questions asked in advance: not widened
    said = sentence(text, "On 3 of the screen's own seeds (quick mode), the *Optimize* guide's")
    picked = re.search(r"the screen's best, (.+?), by ", said).group(1)
    assert picked in CANDIDATES
    for words, recipe in (("Keras recipe changed validation accuracy by", GUIDES[0]),
                          ("torchvision recipe by", GUIDES[1]), ("the vertical flip by", "vflip"),
                          ("the horizontal flip by", "hflip"), (f"the screen's best, {picked}, by", picked)):
        assert f"{words} {confirmed[recipe]['phrase']}" in said, (words, said)


def test_flips_per_class_with_the_images_and_the_comparisons(executed):
    _, text = executed
    groups = {(flip, group): effect_after(rf"{flip} on {group}: ", text)
              for flip in ("hflip", "vflip") for group in ("footwear", "bags")}
    hit, plain = re.search(r"the class vflip hurt most: (.+?) \((\d+)% without augmentation\): ", text).groups()
    assert hit in CLASSES and 0 <= int(plain) <= 100
    worst = effect_after(r"the class vflip hurt most: .+? \(\d+% without augmentation\): ", text)
    assert worst["comparisons"] == 20, "10 classes x 2 flips"
    said = sentence(text, "On 3 of the screen's own seeds (quick mode), the vertical flip changed")
    assert f"ankle boots) by {groups['vflip', 'footwear']['phrase']} and on bags by {groups['vflip', 'bags']['phrase']}" \
        in said
    assert f"the horizontal flip changed footwear by {groups['hflip', 'footwear']['phrase']}" in said
    assert f"{hit} ({plain}% right without augmentation), changed by {worst['phrase']}" in said
    assert ("it is a clear loss" in said) == firm(worst, "hurts"), said
    assert ("not a clear loss" in said) != firm(worst, "hurts"), said


def test_the_other_camera(executed):
    _, text = executed
    valid, camera = re.search(r"no augmentation: ([\d.]+)% on the validation images, ([\d.]+)% on the other "
                              r"camera's", text).groups()
    assert float(camera) < float(valid), "the darker, flatter images are harder for a network trained without augmentation"
    rows = {r: re.search(rf"^{re.escape(r)}\s+{CI}\s+{VERDICT}\s+{CI}\s+{VERDICT}\s*$", text, flags=re.M)
            for r in QUICK_SCREEN[1:]}
    for recipe, row in rows.items():
        assert row, recipe
        check_interval(*row.groups()[:4])
        check_interval(*row.groups()[4:])
    assert text.count(f"corrected for {len(QUICK_SCREEN) - 1} comparisons)  ") >= 2 * len(rows)
    cam = {r: effect_after(rf"other camera, confirmed, {re.escape(r)}: ", text)
           for r in ("brightness+contrast 40%", "CLAHE on every image", GUIDES[1])}
    valid_gain = effect_after(r"confirmed, brightness\+contrast 40%: ", text)
    said = sentence(text, "Without augmentation, accuracy ")
    assert f"accuracy went from {valid}% on the validation images to {camera}% on the other camera's" in said
    assert f"changed the other camera's accuracy by {cam['brightness+contrast 40%']['phrase']} and the plain " \
           f"validation images' by {valid_gain['phrase']};" in said
    assert f"CLAHE on every image, the *Improve* guide's remedy, by {cam['CLAHE on every image']['phrase']};" in said
    assert f"the guide's torchvision recipe by {cam[GUIDES[1]]['phrase']}." in said
    helped = re.search(r"clearly helped on the other camera: (.+?)\. ", said).group(1)
    expected = [r for r, row in rows.items() if row.groups()[-1].startswith("helps")]
    assert helped == (", ".join(r + (" (borderline)" if "borderline" in rows[r].groups()[-1] else "") for r in expected)
                      or "none"), (helped, expected)
    assert ("earned its keep" in said) == firm(cam["brightness+contrast 40%"], "helps"), said


def test_turning_digits_by_180_degrees_costs_the_sixes_and_nines_most(executed):
    _, text = executed
    digits = {d: effect_after(rf"digit {d}: ", text) for d in "0123456789"}
    assert all(found["comparisons"] == 10 for found in digits.values())
    listed = re.search(r"digits the turns clearly hurt: (.+)", text).group(1)
    hurt = [d + (" (borderline)" if "borderline" in f["verdict"] else "") for d, f in digits.items()
            if f["verdict"].startswith("hurts")]
    assert listed == (", ".join(hurt) or "none")
    said = sentence(text, "Over 3 seeds and 718 held-out digits")
    groups = {}
    for name, words in (("6 and 9", "on 6 and 9 by "), ("0, 1 and 8", r"on 0, 1 and 8 \(which a turn leaves much as "
                                                                       r"they are\) by "),
                        ("others", "on the other five digits by ")):
        groups[name] = effect_after(words, said)
        assert groups[name]["comparisons"] == 1, "three groups named before the run"
    assert f"corrected for 10 comparisons, it clearly hurt: {listed}." in said
    for name in ("6 and 9", "0, 1 and 8"):  # the same numbers in the "What we measured" table
        row = re.search(rf"180° turns, digits {name}\s+{CI}\s+{VERDICT}", text)
        assert row and groups[name]["phrase"].startswith(f"{row[1]} points (95% CI {row[2]} to {row[3]}, "), name
        assert groups[name]["verdict"] == row[4], name
    assert ("The loss is broader than 6 and 9" in said) == (firm(groups["6 and 9"], "hurts")
                                                              and firm(groups["others"], "hurts")), said
    assert groups["6 and 9"]["mean"] < groups["0, 1 and 8"]["mean"], groups
    assert groups["6 and 9"]["mean"] < 0, groups


def test_size_experiment_and_its_sentences(executed):
    _, text = executed
    plain, aug, picked = re.search(rf"After {STEPS} steps at 500 images, the networks got ([\d.]+)% of their training "
                                   r"batches right without augmentation and ([\d.]+)% with (.+?), the screen's best",
                                   text).groups()
    assert picked in CANDIDATES and 0 < float(plain) <= 100 and 0 < float(aug) <= 100
    assert re.search(rf"the best single augmentation at 500 images: {re.escape(picked)}; each run now gets {STEPS} steps",
                     text)
    sizes = {size: effect_after(rf"{re.escape(picked)} at {size} images: ", text) for size in ("500", "1,000")}
    # quick mode: the 500-image runs with STEPS steps are the confirmation's runs, served from the cache
    assert sizes["500"]["phrase"] == effect_after(rf"confirmed, {re.escape(picked)}: ", text)["phrase"]
    said = sentence(text, f"On 3 of the screen's own seeds (quick mode) with {STEPS} steps, ")
    assert f"{picked} changed validation accuracy by {sizes['500']['phrase']} at 500 images; " \
           f"{sizes['1,000']['phrase']} at 1,000 images." in said
    screen = effect_after(rf"In the screen \({STEPS} steps, the seeds that picked it\) it had changed it by ", said)
    assert screen["comparisons"] == len(QUICK_SCREEN) - 1
    few, many = firm(sizes["500"], "helps"), firm(sizes["1,000"], "helps")
    assert ("did not clearly pay" in said) == (not few and not many), said
    assert ("It paid where images were scarce, not clearly where they were plentiful" in said) == (few and not many), said


def test_panel_and_what_we_measured(executed):
    notebook, text = executed
    panel = re.search(r"explore\(train\): 3 controls, (\d+) runs so far \((\d+) from the cache\)", text)
    assert panel and int(panel.group(1)) >= 4 and panel.group(1) == panel.group(2), "the panel trains nothing"
    start = re.search(r"what\s+effect\s+verdict\s+seeds", text)
    assert start, "the What we measured table"
    table = text[start.start(): text.index("torch.Size([16, 3, 28, 28])")]
    rows = re.findall(rf"^\s*(.+?)\s+{CI}\s+{VERDICT}\s+(\d)\s*$", table, flags=re.M)
    assert len(rows) == 13, table
    for what, mean, low, high, verdict, seeds in rows:
        check_interval(mean, low, high, verdict)
        assert verdict.endswith("[quick mode: not evidence]") and seeds == "3", (what, verdict)
    measured = {what: f"{mean} points (95% CI {low} to {high}" for what, mean, low, high, _, _ in rows}
    picked = re.search(r"the best single augmentation at 500 images: (.+?);", text).group(1)
    same = {"vflip, confirmed": r"confirmed, vflip: ", "vflip, footwear classes": r"vflip on footwear: ",
            f"{GUIDES[0]}, confirmed": rf"confirmed, {re.escape(GUIDES[0])}: ",
            "brightness+contrast 40%, other camera": r"other camera, confirmed, brightness\+contrast 40%: ",
            f"{picked}, 1,000 images, {STEPS} steps": rf"{re.escape(picked)} at 1,000 images: ",
            f"{picked}, the screen's best augmentation, confirmed": rf"confirmed, {re.escape(picked)}: "}
    for what, printed in same.items():
        assert effect_after(printed, text)["phrase"].startswith(measured[what]), what
    assert re.search(r"vflip, the class it hurt most: .+, corrected for 20 comparisons\)", table), table
    said = sentence(text, "In this run, the screen's best single augmentation, ")
    assert said.startswith(f"In this run, the screen's best single augmentation, {picked}, changed validation "
                           f"accuracy by {measured[f'{picked}, 500 images, {STEPS} steps']}")
    assert f"the *Optimize* guide's recipe changed it by {measured[f'{GUIDES[0]}, confirmed']}" in said
    assert f"the 180° turn changed the accuracy on 6 and 9 by {measured['180° turns, digits 6 and 9']}" in said
    assert count_images(notebook) >= 14, "galleries, previews, soft labels and the six plots of results"
    loss = float(re.search(r"trained on your loader's batches, augmented on the device: train loss ([\d.]+)", text).group(1))
    assert 0 < loss < 5


def test_the_chapter_shows_which_verdicts_held_on_its_recorded_runs(executed):
    check_reference(executed[1], "02")
