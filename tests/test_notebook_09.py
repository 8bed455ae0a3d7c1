"""Chapter 09 (GPU acceleration and scale) runs top to bottom in quick mode, and what it prints holds
up: the profile sentence's shares are shares and its lesson follows them; the loader, layout and bf16
effects lie in their intervals, agree with their verdicts (lower is better for seconds) and carry the
quick-mode note; the batch sentence's "more" or "less" follows its four rates; the DDP sentence
reports identical digests only when they are identical, and the share of images per rank; each
trick's word in the ablation sentence matches its verdict; "What we measured" repeats the printed
effects; the GPU cells say that no GPU run is recorded unless one is; the figures are drawn.
Quick mode times tiny networks a few steps on a loaded CPU and trains for one epoch, so the sizes
and directions of the effects are not checked (the notebook renders them from the run)."""

from __future__ import annotations

import re

import pytest
from nbrun import NUMBER, check_effects, check_reference, check_structure, count_images, executed_chapter, said

NAME = "09_gpu_and_scale.ipynb"
REPEATS = SEEDS = 3  # quick mode


executed = executed_chapter(NAME)


def test_structure_of_the_committed_notebook():
    calls = ("time_breakdown(", "plot_time_breakdown(", "\"dataloader\"", "DataLoader(", "paired_gain(",
             "effect(", "say(", "summarize(", "plot_ci(", "by_mode(", "launch_ddp(n, **DDP)",
             "by_mode(full=(1, 2), quick=(2,))", "ablation(",
             "train_fast(", 'bench_records("gpu")', 'bench_records("cpu")', "recorded_time_to_accuracy(",
             "plot_time_to_accuracy(", "pipeline(hflip=True, crop=2)", 'images="correct"', "batch_size=64", 'amp="bf16"',
             "channels_last=True", "warmup=WARMUP")
    markdown = "\n".join(check_structure(NAME, calls))
    assert "*Boosting* guide" in markdown and "is not tested by this chapter" in markdown
    assert not re.search(r"\bseed (?:text|00\d)", markdown), "name the guides, not seeds"
    for source in ("https://github.com/KellerJordan/cifar10-airbench", "https://myrtle.ai/learn/how-to-train-your-resnet/",
                   "https://github.com/zalandoresearch/fashion-mnist#benchmark"):
        assert source in markdown, source
    assert "torchrun --standalone --nproc_per_node" in markdown and "process_group()" in markdown


def test_the_profile_sentence(executed):
    _, text = executed
    sentence = said(text, "On the CPU, getting a batch took")
    rd, rl, md, ml = (float(v) for v in re.search(r"took ([\d.]+)% of the ResNet's step with the data on the device and "
                                                  r"([\d.]+)% through a `DataLoader`; for the MLP, ([\d.]+)% and "
                                                  r"([\d.]+)%", sentence).groups())
    assert all(0 <= v <= 100 for v in (rd, rl, md, ml))
    assert ("the less arithmetic a step does" in sentence) == (ml > rl)
    op = re.search(r"was `(aten::\w+)` \(([\d.]+) ms a step\)", sentence)
    assert op and op[1] in text.split(sentence)[0], "the operator named is in the table printed above"


def test_the_timing_effects(executed):
    _, text = executed
    loader = said(text, "An epoch of the MLP took")
    t, d = (float(v) for v in re.search(r"took ([\d.]+) s with the data as tensors and ([\d.]+) s through", loader).groups())
    (mean, *_), = check_effects(loader, NUMBER, seeds=REPEATS, lower=True)
    assert float(mean) == pytest.approx(t - d, abs=0.011)
    formats = said(text, "Against float32 with the default layout, a ResNet step")
    assert len(check_effects(formats, NUMBER, seeds=REPEATS, lower=True)) == 2
    batch = said(text, "From a batch of 32 to 128, the MLP went from")
    m0, m1, r0, r1 = (float(v.replace(",", "")) for v in re.search(
        r"from ([\d,]+) to ([\d,]+) images/s and the ResNet from ([\d,]+) to ([\d,]+):", batch).groups())
    assert ("gained more" in batch) == (m1 / m0 > r1 / r0)


def test_ddp_ranks_agree_and_share_the_images(executed):
    _, text = executed
    sentence = said(text, "With 2 processes, rank 0 and rank 1 ended with")
    word, a, b = re.search(r"ended with (\w+) weights \(SHA-256 (\w+) on rank 0, (\w+) on rank 1\)", sentence).groups()
    assert word == "identical" and a == b
    share, n = (int(v.replace(",", "")) for v in re.search(r"trained on ([\d,]+) of the ([\d,]+) images", sentence).groups())
    assert n == 512 and share == n // 2
    first, last = (float(v) for v in re.search(r"loss went from (\d+\.\d+) to (\d+\.\d+)", sentence).groups())
    assert last < first
    assert re.search(r"The launch took \d+ s with 2 processes, start-up included", sentence), "quick mode launches 2 only"


def test_the_ablation_sentence_and_what_we_measured(executed):
    notebook, text = executed
    sentence = said(text, "The whole recipe reached")
    acc, low, high = (float(v) for v in re.search(r"reached ([\d.]+)% test accuracy \(95% interval ([\d.]+)% to "
                                                  r"([\d.]+)%, 3 seeds\)", sentence).groups())
    assert low <= acc <= high
    found = check_effects(sentence, seeds=SEEDS)
    assert len(found) == 6
    words = re.findall(r"\) \((it helped(?:, borderline)?|it hurt(?:, borderline)?|no clear effect)\)", sentence)
    assert len(words) == 6, sentence
    for (*_, verdict), word in zip(found, words):
        said_verdict = verdict.split(" [")[0]  # "hurts", "hurts (borderline)", ...: removing the trick hurt, so it helped
        expected = {"hurts": "it helped", "helps": "it hurt"}.get(said_verdict.split(" (")[0], "no clear effect")
        expected += ", borderline" if "(borderline)" in said_verdict and expected != "no clear effect" else ""
        assert word == expected, (verdict, word)
    block = text[text.index("data as tensors minus a DataLoader"):]
    rows = [line for line in block[:block.index("\n\n")].splitlines() if line.strip()]
    assert len(rows) == 3 + 6 and all(line.rstrip().endswith(" 3") for line in rows)
    printed = re.findall(r"([+-][\d.]+(?: points)? \(95% CI [^)]*\))", "\n".join(rows))
    assert len(printed) == 9 and all(p[:-1] in text.split(block[:50])[0] for p in printed), "the table repeats the sentences"
    assert count_images(notebook) >= 5, "profile, formats, batch sizes, DDP curves, ablation"


def test_gpu_cells_say_whether_a_run_is_recorded(executed):
    from nbhelpers import bench_records

    _, text = executed
    recorded = bench_records("gpu")
    for name in ("precision", "compile", "time-to-accuracy"):
        assert (f"No GPU run is recorded yet (reference/09/gpu/{name}.json)" in text
                or "No GPU run is recorded yet (reference/09/gpu/)" in text) == (name not in recorded)
    if not recorded:  # then the one "Recorded on" is the CPU record's, if there is one
        assert text.count("Recorded on") == len(bench_records("cpu"))


def test_the_cpu_record_is_shown_with_its_goal(executed):
    """The recorded CPU run of bench/time_to_accuracy.py, stated from the record: its mean accuracy
    and whether the 2-core goal (93.9% in at most 600 s of training) was met, as the numbers say."""
    from nbhelpers import bench_records

    _, text = executed
    record = bench_records("cpu").get("time-to-accuracy")
    if record is None:
        assert "No CPU run is recorded yet (reference/09/cpu/time-to-accuracy.json)" in text
        return
    sentence = text[text.index(f"Recorded on {record['device']}"):].split("\n")[0]
    summary = record["summary"]
    assert f"reached {summary['accuracy_mean']:.2%} test accuracy" in sentence
    met = summary["accuracy_mean"] >= 0.939 and summary["train_seconds_median"] <= 600
    assert f"the goal, 93.9% in at most 600 s of training, was {'met' if met else 'not met'}" in sentence
    error = summary["accuracy_std"] / len(record["runs"]) ** 0.5
    assert ("(borderline: the mean is within two standard errors" in sentence) == (
        summary["train_seconds_median"] <= 600 and abs(summary["accuracy_mean"] - 0.939) < 2 * error)
    assert record["split"]["name"] == "final" and len(record["runs"]) >= 3, "reported on the test set, over 3+ seeds"


def test_own_data_and_reference(executed):
    _, text = executed
    assert re.search(r"digits: [\d.]+% accuracy on 397 held-out images after 2 epochs", text)
    check_reference(text, "09")


def test_the_gpu_cells_read_what_the_benches_write(tmp_path):
    """The GPU cells run only where a GPU run is recorded: here they run on records shaped as the
    benches write them (every key a cell reads is one a bench writes), without a GPU."""
    import json
    from pathlib import Path

    import nbformat
    import pandas as pd

    from nbhelpers import recorded_time_to_accuracy, say

    root = Path(__file__).resolve().parents[1]
    benches = "\n".join((root / "bench" / f).read_text() for f in ("time_to_accuracy.py", "train_throughput.py"))
    versions = {"torch": "2.x", "python": "3.x", "nbhelpers": "0", "cuda": "12"}
    runs = [{"seed": s, "accuracy": 0.95 + s / 1000, "train_seconds": 8.0, "seconds": 9.0, "curve": [],
             "to_93": 3.0, "to_94": 5.0 if s else None} for s in range(2)]
    gpu = {"precision": {"device": "H100", "date": "2026-01-01T00:00", "versions": versions,
                         "median": {"bf16": 30000.0, "fp32": 12000.0}, "ratio_bf16_over_fp32": 2.5},
           "compile": {"device": "H100", "epoch_seconds": {"eager": [2.0, 1.9], "compiled": [30.0, 1.2]}},
           "time-to-accuracy": {"device": "H100", "date": "2026-01-01T00:00", "versions": versions,
                                "split": {"words": "train on all training images, score the test set"}, "runs": runs,
                                "recipe": {"epochs": 16},
                                "summary": {"accuracy_mean": 0.9505, "accuracy_min": 0.95, "accuracy_std": 0.0007,
                                            "seconds_to_94_median": 5.0, "train_seconds_median": 8.0,
                                            "seconds_from_process_start_first_run": 20.0},
                                "ablation": [{"removed": "none", "seed": 0, "accuracy": 0.95, "train_seconds": 8.0}]}}
    for key in ("ratio_bf16_over_fp32", "epoch_seconds", "seconds_to_{goal}_median", "accuracy_std", "train_seconds_median",
                "seconds_from_process_start_first_run", '"median"', '"words"', '"ablation"', '"recipe"'):
        assert key in benches, key
    notebook = nbformat.read(root / "notebooks" / NAME, as_version=4)
    cells = [c.source for c in notebook.cells if c.cell_type == "code" and 'in gpu:' in c.source]
    assert len(cells) == 3
    shown = []
    namespace = {"gpu": gpu, "bench_records": lambda kind: gpu, "recorded_time_to_accuracy": recorded_time_to_accuracy,
                 "say": lambda *a, **k: shown.append(str(say(*a, **k))), "pd": pd,
                 "display": lambda *a: shown.extend(str(x) for x in a if isinstance(x, str))}
    for source in cells:
        exec(source, namespace)  # noqa: S102  (the chapter's own cells)
    assert len(shown) == 3 and all(s.startswith("Recorded on H100") for s in shown), shown
    assert "a ratio of 2.50" in shown[0] and "paid for itself within the run: no" in shown[1]
    assert "95.05% test accuracy" in shown[2] and "94% after 5.0 s of training (median of the 1 of 2 seeds" in shown[2]
    assert shown[2].endswith("the goal, 95.0% in at most 10 s of training, was met (borderline: the mean is within "
                             "two standard errors, 0.10 points, of 95.0%)."), shown[2]
    json.dumps(gpu)  # records are JSON
