"""`python -m nbhelpers doctor` tells versions, device and why, data and what to do."""

import re
import subprocess
import sys
from pathlib import Path


def test_doctor_reports_versions_device_and_data():
    out = subprocess.run([sys.executable, "-m", "nbhelpers", "doctor"], capture_output=True, text=True,
                         env={"NBH_DEVICE": "cpu", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "torch" in text and "Device:" in text and "NBH_DEVICE=cpu is set" in text
    assert "fashion-mnist" in text.lower() and "Data:" in text


def test_doctor_tells_a_cuda_build_without_a_gpu_from_a_cpu_build(monkeypatch):
    import torch

    from nbhelpers.cli import device_lines

    monkeypatch.delenv("NBH_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.4")  # the default install on a Linux laptop
    text = "\n".join(device_lines())
    assert "this torch is a CUDA build (CUDA 12.4) but sees no NVIDIA GPU/driver" in text
    assert "On a laptop without one, the CPU-only wheel saves ~4 GB: make clean-venv && make lab TORCH=cpu" in text
    assert "install a CUDA build" not in text

    monkeypatch.setattr(torch.version, "cuda", None)  # torch's CPU-only build
    text = "\n".join(device_lines())
    assert "this torch is a CPU-only build" in text and "With an NVIDIA GPU, install a CUDA build of torch" in text
    assert "TORCH=cpu" not in text

    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("NBH_DEVICE", "cpu")
    text = "\n".join(device_lines())
    assert "a CUDA GPU is there, but NBH_DEVICE keeps training on the CPU" in text and "TORCH=cpu" not in text


def test_unknown_command_fails_with_usage():
    out = subprocess.run([sys.executable, "-m", "nbhelpers", "doctr"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "invalid choice" in out.stderr


def chapters(folder, **texts):
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.ipynb").write_text(text)


def test_the_learners_copies_are_made_once_and_never_overwritten(tmp_path):
    from nbhelpers.workspace import sync_workspace

    course, mine = tmp_path / "notebooks", tmp_path / "my-notebooks"
    chapters(course, **{"00_start": "v1", "01_data": "v1"})
    assert len(sync_workspace(course, mine)) == 2 and (mine / "00_start.ipynb").read_text() == "v1"
    (mine / "00_start.ipynb").write_text("my outputs and my edits")
    assert sync_workspace(course, mine) == []
    chapters(course, **{"00_start": "v2", "02_new": "v1"})  # a course update: a changed chapter and a new one
    lines = sync_workspace(course, mine)
    assert lines == ["00_start.ipynb changed in the course since you copied it; your copy is unchanged. To take the "
                     "new version: make lab REFRESH=00 (yours is kept beside it)",
                     "copied 02_new.ipynb into my-notebooks/: run and edit it there; git ignores that folder"]
    assert (mine / "00_start.ipynb").read_text() == "my outputs and my edits"


def test_refresh_takes_the_new_version_and_keeps_the_learners_beside_it(tmp_path):
    from nbhelpers.workspace import sync_workspace

    course, mine = tmp_path / "notebooks", tmp_path / "my-notebooks"
    chapters(course, **{"03_arch": "v1"})
    sync_workspace(course, mine)
    for k, version in enumerate(("v2", "v3"), start=1):
        (mine / "03_arch.ipynb").write_text(f"mine before {version}")
        chapters(course, **{"03_arch": version})
        assert sync_workspace(course, mine, refresh=["03"]) == [
            f"03_arch.ipynb: the course's new version is in my-notebooks/; yours is kept as 03_arch.mine-{k}.ipynb"]
        assert (mine / "03_arch.ipynb").read_text() == version
        assert (mine / f"03_arch.mine-{k}.ipynb").read_text() == f"mine before {version}", "a kept copy was lost"
    assert sync_workspace(course, mine) == []
    try:
        sync_workspace(course, mine, refresh=["09"])
    except ValueError as error:
        assert str(error).startswith("workspace(): `refresh` must be chapter numbers or names: 03; got '09'")
    else:
        raise AssertionError("an unknown chapter was accepted")


def test_make_lab_opens_the_learners_folder_which_git_ignores():
    root = Path(__file__).resolve().parents[1]
    assert "--ServerApp.root_dir=$(MINE)" in (root / "Makefile").read_text()
    ignored = subprocess.run(["git", "-c", "safe.directory=*", "check-ignore", "-q", "my-notebooks/00_x.ipynb"],
                             cwd=root, capture_output=True)
    assert ignored.returncode in (0, 128), ignored.stderr  # 128: not a git checkout (a source tarball)
    assert "my-notebooks/" in (root / ".gitignore").read_text().splitlines()


def test_course_run_keeps_conditions_and_verdicts_and_finds_the_fragile_ones(tmp_path, monkeypatch):
    import nbformat

    from nbhelpers.course import compare_runs, record_run, reference_runs, run_course

    def chapter(folder, extra=""):  # its verdict depends on the thread count alone, as a fragile one does
        folder.mkdir()
        cell = nbformat.v4.new_code_cell(
            "import os\nwords = 'helps' if os.environ['OMP_NUM_THREADS'] == '1' else 'no clear effect'\n"
            "print(f'flip minus none: +1.0 points (95% CI +0.2 to +1.8, 5 seeds: {words}), threads', "
            f"os.environ['OMP_NUM_THREADS'], 'cache', os.environ['NBH_CACHE']){extra}")
        nbformat.write(nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}),
                       folder / "00_tiny.ipynb")
        return folder

    course = chapter(tmp_path / "a")
    monkeypatch.chdir(tmp_path)  # a relative --out: the kernels, which run in the notebooks' folder, find the same cache
    first = run_course(quick=True, threads=1, out="one", notebooks=course)
    second = run_course(quick=True, threads=2, out=tmp_path / "two", notebooks=course)
    executed = nbformat.read(first / "00_tiny.ipynb", as_version=4)
    assert "threads 1" in executed.cells[0].outputs[0]["text"]  # the kernel ran with the thread count asked for
    assert executed.cells[0].outputs[0]["text"].split("cache ")[1].strip() == str(tmp_path.resolve() / "one" / "cache")
    (first / "cache").mkdir()
    (first / "cache" / "run.json").write_text("{}")
    assert "| cached runs read back | 1 |" in (run_course(quick=True, threads=1, out="one", notebooks=course)
                                               / "RUN.md").read_text()  # a rerun into the same folder says so
    run = executed.metadata["nbhelpers_run"]
    assert run["torch threads"] == 1 and run["mode"] == "quick" and run["wall seconds"] > 0 and run["torch"]
    assert re.fullmatch(r"load average \d+\.\d to \d+\.\d \(median \d+\.\d\)", run["load"]), run  # how busy the CPU was
    assert "| torch threads | 1 |" in (first / "RUN.md").read_text()
    assert (first / "verdicts.tsv").read_text().splitlines()[1].startswith("00\t0\t0\thelps\t")
    assert compare_runs(first, first) == []
    differ = compare_runs(first, second)
    assert len(differ) == 1 and "helps" in differ[0] and "no clear effect" in differ[0]

    # kept in reference/, the two runs show the chapter which verdict is fragile
    reference = tmp_path / "reference"
    assert [p.name for p in record_run(first, reference) + record_run(second, reference)] == \
        ["quick-1-thread.json", "quick-2-thread.json"]
    shown = reference_runs("00", reference, notebooks=course)
    assert [r["current"] for r in shown.records] == [True, True]
    assert len(shown.verdicts) == 1 and list(shown.fragile["quick-1-thread"]) == ["helps"]
    text = shown._repr_markdown_()
    assert text.startswith("**Recorded runs of chapter 00**")  # quick runs: not called full-mode
    assert "0 of 1 verdicts came out the same" in text and "5 seeds: no clear effect" in text
    load = shown.records[0]["conditions"]["load"]  # the record's own: the folder was run again after `run` was read
    assert "this version of the chapter's code" in text and f"min, {load}, this version" in text
    changed = reference_runs("00", reference, notebooks=chapter(tmp_path / "b", extra="  # edited"))
    assert [r["current"] for r in changed.records] == [False, False]
    assert "an earlier version of the chapter's code" in changed._repr_markdown_()
    # a run of other code is no second run of the same code: its verdicts are not lined up cell by cell
    third = run_course(quick=True, threads=2, out=tmp_path / "three", notebooks=tmp_path / "b")
    record_run(third, reference)  # replaces quick-2-thread with a run of the edited chapter
    mixed = reference_runs("00", reference, notebooks=course)._repr_markdown_()
    assert "different versions of the chapter's code, so their verdicts are not compared" in mixed
    assert "No recorded runs of chapter 00" in reference_runs("00", tmp_path / "nowhere")._repr_markdown_()


def test_verdicts_line_up_by_what_they_judge_not_by_position():
    from nbhelpers.course import line_up, verdicts_in_text

    def cell(text):
        return [{**v, "cell": 3} for v in verdicts_in_text(text)]

    # run b prints one verdict more (its reading of flips); by position, EMA would meet that one
    a = cell("It reached 86.1%. Removing: flips, +1.3 points: helps (borderline) (it hurt); EMA, +0.1 points: no clear effect")
    b = cell("It reached 85.0%. Removing: flips, +1.0 points: no clear effect (no clear effect); EMA, -0.1 points: hurts")
    pairs = [(x and x["verdict"], y and y["verdict"]) for _, (x, y) in line_up([a, b])]
    assert pairs == [("helps (borderline)", "no clear effect"), (None, "no clear effect"), ("no clear effect", "hurts")]
    assert [v["line"] for v in a] == ["Removing: flips, +1.3 points: helps (borderline)", "EMA, +0.1 points: no clear effect"]
    assert line_up([[{"cell": "3", "k": "0", "verdict": "helps", "line": "x"}]])[0][0] == ("", 3, "0", 0)  # an old record


def test_the_code_fingerprint_ignores_prose_and_the_cell_that_shows_the_recorded_runs():
    import nbformat

    from nbhelpers.course import code_fingerprint

    def notebook(*cells):
        return nbformat.v4.new_notebook(cells=list(cells))

    code = nbformat.v4.new_code_cell("x = fit(model, lr=0.01)")
    base = code_fingerprint(notebook(code))
    assert code_fingerprint(notebook(nbformat.v4.new_markdown_cell("Why."), code)) == base
    assert code_fingerprint(notebook(code, nbformat.v4.new_code_cell('reference_runs("04")'))) == base
    assert code_fingerprint(notebook(nbformat.v4.new_code_cell("x = fit(model, lr=0.02)"))) != base


def test_a_cell_that_shows_recorded_runs_adds_no_verdict_of_this_run():
    import nbformat

    from nbhelpers.course import notebook_verdicts

    said = {"output_type": "stream", "name": "stdout", "text": "flip minus none: +1.0 points (95% CI +0.2 to +1.8): helps\n"}
    own, shown = (nbformat.v4.new_code_cell(source, outputs=[said]) for source in ("print(x)", 'table(reference_runs("07"))'))
    assert [v["cell"] for v in notebook_verdicts(nbformat.v4.new_notebook(cells=[own, shown]), "11")] == [0]
