"""Chapter 02 (data augmentation) runs top to bottom in quick mode, and what it prints holds up:
intervals contain their means, verdicts agree with their intervals, the tables have their rows,
the figures are drawn. Quick mode trains for a few dozen steps, so the effects themselves are
not checked here (their sizes are the full-mode numbers quoted in the notebook), except the
one that is large at any budget: turning digits by 180° costs the 6s and 9s more than the
0s, 1s and 8s."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import CI, NOTEBOOKS, check_interval, check_structure, count_images, run_notebook, text_of

NAME = "02_data_augmentation.ipynb"
QUICK_SCREEN = ["none", "hflip", "vflip", "brightness+contrast 40%"]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@pytest.fixture(scope="module")
def executed():
    notebook = run_notebook(NAME)
    return notebook, text_of(notebook)


def test_structure_of_the_committed_notebook():
    markdown = "\n".join(check_structure(NAME, ("preview_panel(", "explore(", "sweep(", "summarize(", "paired_gain(",
                                                "by_mode(")))
    # the seeds' code next to ours: Keras ImageDataGenerator and torchvision per-sample transforms
    assert "ImageDataGenerator(rotation_range=20" in markdown and "transforms.RandomRotation(degrees=15)" in markdown
    code = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / NAME, as_version=4).cells if c.cell_type == "code")
    assert "pipeline(rotation_range=20, width_shift_range=0.2" in code and "pipeline(rotate=15, shift=0.1)" in code


def test_set_up_and_seed_recipes(executed):
    _, text = executed
    assert "5,400 training images; the model has 4,370 weights" in text
    # Keras' names map onto ours, and the printout shows the 0.2-degree shear of seed 000
    assert "Rotate(degrees=20, fill_mode='nearest')" in text and "Shear(degrees=0.2, fill_mode='nearest')" in text
    assert "Zoom(zoom=0.2, per_axis=True, fill_mode='nearest')" in text


def test_mixup_prints_soft_labels_that_sum_to_one(executed):
    _, text = executed
    shares = [float(v) for v in re.search(r"soft labels of the first image: \[([^\]]+)\]", text).group(1).split(",")]
    assert len(shares) == 10 and sum(shares) == pytest.approx(1, abs=0.02) and sum(v > 0 for v in shares) <= 2
    assert "every row sums to 1: True" in text


def test_one_at_a_time_effects_are_intervals_with_matching_verdicts(executed):
    _, text = executed
    base = float(re.search(r"no augmentation, 500 images: ([\d.]+)% validation accuracy \(3 seeds\)", text).group(1))
    assert 15 < base < 100, base  # above chance (10%) even after a few dozen steps
    for label in ("best", "worst"):
        recipe, *numbers = re.search(rf"{label}: (.+?): {CI}, (.+)", text).groups()
        assert recipe in QUICK_SCREEN[1:]
        check_interval(*numbers)
    counts = re.search(r"over (\d+) recipes: (.+)", text)
    assert int(counts.group(1)) == len(QUICK_SCREEN) - 1
    assert sum(int(n) for n in re.findall(r"(\d+) (?:helps|hurts|no clear effect)", counts.group(2))) == 3


def test_flips_per_class_and_the_other_camera(executed):
    _, text = executed
    for flip in ("hflip", "vflip"):
        found = re.search(rf"{flip} on the footwear classes \(sandal, sneaker, ankle boot\): {CI}, (.+)", text)
        assert found, flip
        check_interval(*found.groups())
    for cls in ("Sandal", "Sneaker", "Ankle boot", "Bag"):
        assert re.search(rf"{cls}\s+[hv]flip\s+[+-]\d+\.\d points", text), cls
    hit = re.search(rf"the class vflip hurt most: (.+) \((\d+)% without augmentation\): {CI}, (.+)", text)
    assert hit and hit.group(1) in CLASSES and 0 <= int(hit.group(2)) <= 100
    check_interval(*hit.groups()[2:])
    valid, camera = map(float, re.search(r"no augmentation: ([\d.]+)% on the validation images, ([\d.]+)% on the "
                                         r"other camera's", text).groups())
    assert camera < valid, "the darker, flatter images are harder for a network trained without augmentation"
    found = re.search(rf"other camera, brightness\+contrast 40%: {CI}, (.+)", text)
    check_interval(*found.groups())


def test_turning_digits_by_180_degrees_costs_the_sixes_and_nines_most(executed):
    _, text = executed
    found = {d: re.search(rf"digit {d}: {CI}, (.+)", text).groups() for d in "0123456789"}
    effects = {d: check_interval(*groups) for d, groups in found.items()}
    listed = re.search(r"digits the turns clearly hurt: (.+)", text).group(1)
    assert listed == (", ".join(d for d, groups in found.items() if groups[3] == "hurts") or "none")
    assert (effects["6"] + effects["9"]) / 2 < (effects["0"] + effects["1"] + effects["8"]) / 3, effects
    assert (effects["6"] + effects["9"]) / 2 < 0, effects


def test_size_experiment_gains_and_measured_table(executed):
    notebook, text = executed
    picked, steps = re.search(r"the best single augmentation at 500 images: (.+); each run now gets (\d+) steps",
                              text).groups()
    assert picked in QUICK_SCREEN[1:] and steps == "24"
    for size in ("500", "1,000"):
        found = re.search(rf"{re.escape(picked)} at {size} images: {CI}, (.+)", text)
        assert found, size
        check_interval(*found.groups())
    budgets = re.search(rf"{re.escape(picked)} at 500 images: {CI} with 24 steps, {CI} with 24 steps", text)
    assert budgets and budgets.group(1) == budgets.group(4), "quick mode: one budget, the same runs"
    panel = re.search(r"explore\(train\): 3 controls, (\d+) runs so far \((\d+) from the cache\)", text)
    assert panel and int(panel.group(1)) >= 4 and panel.group(1) == panel.group(2), "the panel trains nothing"
    start = re.search(r"what\s+effect\s+verdict\s+seeds", text)
    assert start, "the What we measured table"
    table = text[start.start() : text.index("torch.Size([16, 3, 28, 28])")]
    rows = re.findall(rf"{CI}\s+(helps|hurts|no clear effect)\s+(\d)", table)
    assert len(rows) == 9, table
    for mean, low, high, verdict, seeds in rows:
        check_interval(mean, low, high, verdict)
        assert seeds == "3"
    for what in ("vflip, footwear classes, 500 images", "vflip, the class it hurt most:",
                 "brightness+contrast 40%, other camera", "180° turns, digit 6", "180° turns, digit 9",
                 f"{picked}, 500 images, 24 steps", f"{picked}, 1,000 images, 24 steps"):
        assert what in table, what
    assert count_images(notebook) >= 13, "galleries, previews, soft labels and the five plots of results"
    loss = float(re.search(r"trained on your loader's batches, augmented on the device: train loss ([\d.]+)", text).group(1))
    assert 0 < loss < 5
