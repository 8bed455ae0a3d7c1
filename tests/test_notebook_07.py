"""Chapter 07 (transfer learning) runs top to bottom in quick mode, and what it prints holds up: the
source and target tasks and the labelled subsets are the ones described; each method's rate is the
best of its screen on validation; the backbone's source accuracy is what it scores on the shipped
subset's source images; the linear probe's sentence repeats its table; the table of what trains
shows each method's frozen layers and rates (discriminative rates in the stated ratios); every gain
over from-scratch lies in its interval, agrees with its verdict, equals the difference of the
printed means, and the sentences repeat them with the corrections they state; the far source's
lesson follows its verdicts; the ImageNet cell never downloads and says what it would do; "What we
measured" carries every verdict with the quick-mode note. Quick mode trains for six steps on a few
images, so the sizes of the effects are not checked (the notebook renders them from the run)."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import (NOTEBOOKS, POINTS, VERDICT, check_interval, check_reference, check_structure, count_images,
                   executed_chapter, said)

from nbhelpers import ResNet, count_parameters, evaluate, fashion_mnist, pretrained_resnet

NAME = "07_transfer_learning.ipynb"
METHODS = ("from scratch", "feature extraction", "top layers", "discriminative", "fastai fine_tune")
FAR = ("feature extraction", "discriminative")
LABELS = (5, 20)  # quick mode
SECONDS = (r"([+-]\d+\.\d{3}) \(95% CI ([+-]\d+\.\d{3}) to ([+-]\d+\.\d{3})(?:, corrected for (\d+) comparisons)?, "
           rf"(\d+) seeds: {VERDICT}\)")
ALTERNATIVES = "|".join(re.escape(m) for m in METHODS)


def firm(verdict: str) -> str:
    """What `Effect.firm` says of a printed verdict: the word where it is clear and not borderline."""
    word = verdict.split(" [")[0]
    return word if word in ("helps", "hurts") else "unclear"


def points(phrase: str, comparisons: str, higher_is_better: bool = True) -> tuple[float, str]:
    """A printed effect corrected for ``comparisons``, checked against its interval: (mean, verdict)."""
    found = re.fullmatch(POINTS if higher_is_better else SECONDS, phrase)
    assert found and found.group(4) == comparisons and found.group(5) == "3", (phrase, comparisons)
    mean, low, high, verdict = found.group(1, 2, 3, 6)
    assert verdict.endswith("[quick mode: not evidence]"), phrase
    if higher_is_better:
        check_interval(mean, low, high, verdict)
    else:  # fewer seconds are better: "helps" needs the whole interval below zero
        check_interval(str(-float(mean)), str(-float(high)), str(-float(low)), verdict)
    return float(mean), verdict


executed = executed_chapter(NAME)


@pytest.fixture(scope="module")
def rates(executed):
    line = re.search(r"learning rate picked on validation: (.+)", executed[1]).group(1)
    return {m: float(lr) for m, lr in re.findall(rf"({ALTERNATIVES}) ([\d.e-]+)", line)}


@pytest.fixture(scope="module")
def means(executed):
    """The printed test accuracy table: method -> {labels per class: percent}."""
    block = executed[1][executed[1].index("test accuracy, mean over seeds:"):]
    rows = re.findall(rf"\n({ALTERNATIVES})\s+([\d.]+)%\s+([\d.]+)%", block[:block.index("\n\n")])
    return {m: dict(zip(LABELS, (float(a), float(b)))) for m, a, b in rows}


@pytest.fixture(scope="module")
def gains(executed):
    found = re.findall(rf"\n(\d+) labels per class, ({ALTERNATIVES}) minus from scratch, test accuracy: (.+)",
                       executed[1])
    return {(int(n), m): phrase for n, m, phrase in found}


def test_structure_of_the_committed_notebook():
    calls = ("pretrained_resnet(", "replace_head(", "freeze(model, but_last=1)", "unfreeze(freeze(model), last=2)",
             "trainable_table(", '"param_groups"', ".to_fastai(", ".fine_tune(", "splitter=", "sweep(", "paired_gain(",
             "effect(", "say(", "summarize(", "plot_ci(", "by_mode(", 'comparisons="all"', "images=TEST_IMAGES",
             "imagenet_model(", "imagenet_weights(", "load_digits", "LogisticRegression", "seeds=SEEDS", "seeds=SCREEN",
             "seeds=FAR_SEEDS")
    markdown = "\n".join(check_structure(NAME, calls))
    for phrase in ("*Myths* guide", "VGG16", "ResNet", "Untested:", "weights_only=True", "pretrain_backbone.py",
                   "download=True", "splitter"):
        assert phrase in markdown, phrase
    assert not re.search(r"\bseed (?:text|00\d)", markdown), "name the guides, not seeds"
    code = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / NAME, as_version=4).cells if c.cell_type == "code")
    assert "download=True" not in code, "the chapter never downloads: the ImageNet code runs only on a local file"


def test_the_tasks_and_the_labelled_subsets(executed):
    _, text = executed
    assert "source: T-shirt/top, Trouser, Pullover, Dress, Coat\ntarget: Sandal, Shirt, Sneaker, Bag, Ankle boot" in text
    line = re.search(r"target training images to draw from: ([\d,]+); labelled per class: \[([\d, ]+)\]; validation "
                     r"(\d+), test (\d+); (\d+) steps of (\d+) images per run; seeds \[([\d, ]+)\]", text)
    assert line, "the set-up line"
    pool, labels, valid, test, steps, batch, seeds = line.groups()
    assert pool == "2,700" and labels == "5, 20" and (valid, test) == ("50", "200"), line.group(0)
    assert (steps, batch, seeds) == ("6", "25", "0, 1, 2")


def test_each_method_runs_at_the_rate_its_screen_picked(executed, rates):
    assert list(rates) == list(METHODS) and set(rates.values()) <= {0.01, 0.1}, rates
    assert count_images(executed[0]) >= 8, ("labelled images, rate screen, probe, trained parameters, accuracy, "
                                            "gains, digits, far source")


def test_the_backbone_and_what_a_probe_reads_from_it(executed):
    _, text = executed
    data, backbone = fashion_mnist(quick=True), pretrained_resnet()
    x, y = data.test
    keep = y < 5  # the source classes are the first five
    accuracy = evaluate(backbone, (x[keep], y[keep]), device="cpu")["accuracy"]
    sentence = said(text, "Pretrained for 3 epochs on 30,000 images")
    assert f"scored {accuracy:.1%} on the {int(keep.sum())} test images" in sentence, (accuracy, sentence)
    assert f"measured {backbone.pretraining['source_test_accuracy']:.1%} on all" in sentence
    rows = re.findall(r"\n(stem|stage1|stage2|stage3)[ ]+([\d.]+)%[ ]+([\d.]+)%(?=\n)", text)
    probe = {stage: (float(r), float(p)) for stage, r, p in rows}
    assert list(probe) == ["stem", "stage1", "stage2", "stage3"], rows
    best = max(probe, key=lambda stage: probe[stage][1])  # the first of a tie, as idxmax picks it
    sentence = said(text, "Read after the last stage")
    assert (f"gave the probe {probe['stage3'][1]:.1f}%, against {probe['stage3'][0]:.1f}% for random weights; the "
            f"pretrained backbone's best depth was `{best}` ({probe[best][1]:.1f}%)") in sentence, sentence


def test_the_table_of_what_each_method_trains(executed, rates):
    _, text = executed
    rows = re.findall(r"\n(stem|stage1|stage2|stage3|head)[ ]+(\d+)[ ]+(\S+)[ ]+(\S+)[ ]+(\S+)[ ]+(\S+)(?=\n)", text)
    table = {layer: (int(n), *values) for layer, n, *values in rows}
    assert list(table) == ["stem", "stage1", "stage2", "stage3", "head"], rows
    assert sum(n for n, *_ in table.values()) == count_parameters(ResNet(widths=(16, 32, 64), num_classes=5))
    ratio = {"stem": 100, "stage1": 30, "stage2": 10, "stage3": 3, "head": 1}
    for layer, (_, scratch, extraction, top, discriminative) in table.items():
        assert float(scratch) == pytest.approx(rates["from scratch"], rel=0.05)
        if layer == "head":
            assert float(extraction) == pytest.approx(rates["feature extraction"], rel=0.05)
        else:
            assert extraction == "frozen", layer
        if layer in ("stem", "stage1", "stage2"):
            assert top == "frozen", layer
        else:
            assert float(top) == pytest.approx(rates["top layers"], rel=0.05)
        assert float(discriminative) == pytest.approx(rates["discriminative"] / ratio[layer], rel=0.05), layer


def test_gains_over_from_scratch_at_each_label_count(executed, means, gains):
    _, text = executed
    assert list(means) == list(METHODS) and all(0 <= v <= 100 for row in means.values() for v in row.values())
    assert set(gains) == {(n, m) for n in LABELS for m in METHODS[1:]}, list(gains)
    verdicts = {}
    for (n, m), phrase in gains.items():
        mean, verdicts[n, m] = points(phrase, "4")  # four methods against from-scratch at each label count
        assert mean == pytest.approx(means[m][n] - means["from scratch"][n], abs=0.16), (n, m, phrase)
    sentence = said(text, "Against training from scratch (test accuracy")
    assert "every interval corrected for the 4 comparisons at its label count" in sentence
    for n in LABELS:
        part = "; ".join(f"{m} {gains[n, m]}" for m in METHODS[1:])
        assert f"With {n} labels per class from scratch reached {means['from scratch'][n]:.1f}%; {part}." in sentence
        best = re.search(rf"({ALTERNATIVES}) at {n} labels per class \((.+?) on test\)", sentence)
        assert best and best.group(1) != "from scratch", sentence
        assert gains[n, best.group(1)].startswith(best.group(2)[:-1]), (best.groups(), gains[n, best.group(1)])
        helped = [m for m in METHODS[1:] if firm(verdicts[n, m]) == "helps"]
        assert f"at {n} labels per class {len(helped)} of the four methods" in sentence


def test_is_the_gain_larger_with_few_labels(executed, gains):
    _, text = executed
    sentence = said(text, "Each method's gain at 5 labels per class minus its gain at 20")
    words = {"helps": "larger with few labels", "hurts": "smaller with few labels", "unclear": "not clearly different"}
    larger = 0
    for m in METHODS[1:]:
        found = re.search(rf"{re.escape(m)} (?P<phrase>{POINTS}) \((?P<word>{'|'.join(words.values())})\)", sentence)
        assert found, (m, sentence)
        mean, verdict = points(found.group("phrase"), "4")
        assert found.group("word") == words[firm(verdict)]
        few, many = (float(re.match(r"[+-][\d.]+", gains[n, m]).group(0)) for n in LABELS)
        assert mean == pytest.approx(few - many, abs=0.16), (m, mean, few, many)
        larger += firm(verdict) == "helps"
    assert f"clearly larger with few labels for {larger} of the 4 methods" in sentence


def test_training_seconds_at_the_same_steps(executed):
    _, text = executed
    lines = dict(re.findall(rf"\n({ALTERNATIVES}) minus from scratch, training seconds per run: (.+)", text))
    assert list(lines) == list(METHODS[1:]), lines
    for phrase in lines.values():
        points(phrase, "4", higher_is_better=False)
    sentence = said(text, "At the same 6 steps, from scratch trained for")
    assert "; ".join(f"{m} {phrase}" for m, phrase in lines.items()) in sentence


def test_a_far_source(executed):
    _, text = executed
    digits = re.search(r"Trained on 300 upscaled digits \(1 passes over them, \d+ s\), the digits backbone scored "
                       r"([\d.]+)% on the other 297\.", text)
    assert digits and 0 < float(digits.group(1)) <= 100
    found = re.findall(rf"\n(\d+) labels per class, ({'|'.join(FAR)}): from digits minus from scratch (.+?); from "
                       r"digits minus from clothing (.+)", text)
    assert [(int(n), m) for n, m, *_ in found] == [(n, m) for n in LABELS for m in FAR], found
    versus_scratch, versus_clothing = {}, {}
    for n, m, scratch, clothing in found:
        versus_scratch[f"{m} at {n}"] = firm(points(scratch, "2")[1])  # two methods at each label count
        versus_clothing[f"{m} at {n}"] = firm(points(clothing, "2")[1])
    helped = [k for k, v in versus_scratch.items() if v == "helps"]
    hurt = [k for k, v in versus_scratch.items() if v == "hurts"]
    worse = sum(v == "hurts" for v in versus_clothing.values())
    sentence = said(text, "Against training from scratch (each label count's intervals")
    assert (f"the digits backbone helped clearly in {', '.join(helped) or 'no case'} and hurt clearly in "
            f"{', '.join(hurt) or 'no case'}. Against the clothing backbone it was clearly worse in {worse} of 4 "
            "cases.") in sentence, sentence
    lesson = ("can cost accuracy" if hurt else "bought nothing clear" if not helped else
              "less than the near one" if worse else "not clearly less than the near one")
    assert lesson in sentence, sentence


def test_the_imagenet_cell_never_downloads_and_says_what_to_do(executed):
    _, text = executed
    lines = dict(re.findall(r"\n(vgg16|resnet18): (found|not on this machine): ", text))
    assert set(lines) == {"vgg16", "resnet18"}, lines
    if lines["resnet18"] == "found":
        assert re.search(r"ImageNet resnet18, feature extraction, 20 labels per class, one seed \(not a comparison\): "
                         r"test accuracy [\d.]+%", text)
    else:
        assert "Not run. With the file, this cell would train a new head" in text
        for part in ("resnet18-f37072fd.pth", "Nothing is downloaded unless you ask", "download=True",
                     "weights='path/to/resnet18-f37072fd.pth'"):
            assert part in text, part


def test_your_own_data(executed):
    _, text = executed
    rows = re.findall(r"\n\s*(layer1\.0|layer2\.0|head)\s+(\d+)\s+(True|False)\s+(\S+)", text)
    assert [(layer, trainable, lr) for layer, _, trainable, lr in rows] == [
        ("layer1.0", "False", "NaN"), ("layer2.0", "True", "0.0003"), ("head", "True", "0.0030")], rows
    accuracy = float(re.search(r"validation accuracy on the new task: ([\d.]+)%", text).group(1))
    assert accuracy > 60, accuracy


def test_what_we_measured(executed, gains):
    _, text = executed
    start = text.rindex("\n", 0, text.index("feature extraction minus from scratch, 5 labels per class, test accuracy  "))
    lines = text[start + 1:text.index("\n\n", start)].splitlines()
    rows = [re.fullmatch(r"\s*(.+?)\s+([+-]\d+\.\d+(?: points)? \(95% CI .+?\))\s+(.+?)\s{2,}(\d+)", line)
            for line in lines]
    assert all(rows), [line for line, row in zip(lines, rows) if not row]
    rows = [row.groups() for row in rows]
    assert len(rows) == 24, [r[0] for r in rows]  # 8 gains, 4 differences of gains, 4 times, 4 + 4 far source
    for what, _, verdict, seeds in rows:
        assert verdict.endswith("[quick mode: not evidence]") and seeds == "3", (what, verdict)
    table = {what: phrase for what, phrase, *_ in rows}
    for (n, m), phrase in gains.items():
        assert table[f"{m} minus from scratch, {n} labels per class, test accuracy"] == phrase.split(", 3 seeds")[0] + ")"


def test_the_chapter_shows_which_verdicts_held_on_its_recorded_runs(executed):
    check_reference(executed[1], "07")
