"""How nbhelpers installs: the two ways list the same dependencies, with open ranges; the
wheel carries the data the package reads, and installed outside the repository (a reader's
project, a shared JupyterHub) it loads data and trains, writing only to the user's cache."""

import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from nbhelpers import _files, runs
from nbhelpers.data import datasets as D

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge's name -> PyPI's name


def parse(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    return CONDA_NAMES.get(name.lower(), name.lower()), version.replace(" ", "")


def pyproject_deps() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(parse(s) for s in specs)


def conda_deps() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            specs += [s for s in entry["pip"] if not s.startswith("-e")]
        elif not entry.startswith(("python", "pip")) or entry.startswith("python-"):
            specs.append(entry)
    return dict(parse(s) for s in specs)


def test_environment_yml_matches_pyproject():
    assert conda_deps() == pyproject_deps()


def test_version_ranges_stay_open():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert pyproject_deps()["torch"] == ">=2.4"
    pinned = [name for name, version in pyproject_deps().items() if "==" in version or "<" in version]
    assert pinned == [], f"exact pins or upper bounds break a course within months: {pinned}"


def test_readme_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make lab") < readme.index("make test") < readme.index("\n## ")


# ---------------------------------------------------------------- where files go


def test_a_clone_keeps_its_data_and_caches_in_datasets(monkeypatch):
    monkeypatch.delenv("NBH_CACHE", raising=False)
    assert _files.clone_datasets() == ROOT / "datasets" == D.DATASETS_DIR
    assert runs.cache_dir() == ROOT / "datasets" / ".cache" / "explore"
    assert _files.cache_home() == ROOT / "datasets" / ".cache"
    assert D.SHIPPED_DIR == ROOT / "nbhelpers" / "data" / "shipped" and D.MANIFEST.parent == D.SHIPPED_DIR


def test_installed_caches_go_to_the_user_cache_and_env_vars_override(tmp_path, monkeypatch):
    site_packages = tmp_path / "site-packages"
    (site_packages / "datasets").mkdir(parents=True)  # Hugging Face's `datasets`: no clone of ours
    monkeypatch.setattr(_files, "CLONE", site_packages)
    monkeypatch.delenv("NBH_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert _files.clone_datasets() is None
    assert _files.data_home() == tmp_path / "home" / ".cache" / "nbhelpers"
    assert runs.cache_dir() == tmp_path / "home" / ".cache" / "nbhelpers" / "explore"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: only absolute paths count
    assert _files.user_cache() == tmp_path / "home" / ".cache" / "nbhelpers"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _files.data_home() == tmp_path / "xdg" / "nbhelpers"
    assert _files.cache_home() == tmp_path / "xdg" / "nbhelpers"
    assert runs.cache_dir() == tmp_path / "xdg" / "nbhelpers" / "explore"
    monkeypatch.setenv("NBH_CACHE", str(tmp_path / "mine"))
    assert runs.cache_dir() == _files.cache_home() == tmp_path / "mine"
    (site_packages / "pyproject.toml").write_text("")  # what tells a clone
    monkeypatch.delenv("NBH_CACHE")
    assert _files.clone_datasets() == site_packages / "datasets"


# ---------------------------------------------------------------- the wheel, installed outside the repository

# Run by the installed package, from a folder outside the repository, with no PYTHONPATH:
# quick-mode data (checked against the shipped MANIFEST) and a short fit, stored as a run.
CHECK = """
import json
import torch
torch.set_num_threads(1)
import nbhelpers
from nbhelpers import MLP, data_report, fashion_mnist, fit, pretrained_resnet, sweep
from nbhelpers.data import datasets
from nbhelpers.runs import cache_dir

data = fashion_mnist(quick=True)
small = data.subset(256)

def train(lr, seed=0):
    return fit(MLP(784, 10, width=32, depth=1), small, epochs=1, lr=lr, batch_size=64, progress=False, seed=seed)

table = sweep(train, {"lr": [1e-2]}, progress=False)
backbone = pretrained_resnet()  # chapter 07's checkpoint, checked against the shipped MANIFEST
print(json.dumps({"file": nbhelpers.__file__, "version": nbhelpers.__version__, "manifest": str(datasets.MANIFEST),
                  "data_home": str(datasets.DATASETS_DIR), "runs": str(cache_dir()), "name": data.name,
                  "sizes": [len(data.train[1]), len(data.valid[1]), len(data.test[1])],
                  "status": table["status"].tolist(), "accuracy": float(table["valid_accuracy"].iloc[0]),
                  "report": {row["name"]: row["where"] for row in data_report()},
                  "backbone": backbone.pretraining["file"]}))
"""


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` but Python's own bytecode caches: size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def quiet_run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a clean copy of the sources (no stale build/ folder, nothing written to the repo)."""
    src = tmp_path_factory.mktemp("wheel") / "src"
    shutil.copytree(ROOT / "nbhelpers", src / "nbhelpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    quiet_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
               "--disable-pip-version-check", "-w", str(src.parent / "dist"), str(src)])
    return next((src.parent / "dist").glob("nbhelpers-*.whl"))


def test_the_wheel_ships_the_data_the_package_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    listed = [line.split()[1] for line in D.MANIFEST.read_text().splitlines() if line.strip()]
    subset = [path for path in listed if path.startswith("fashion-mnist-subset/")]
    assert len(subset) == len(D.FASHION_FILES)
    backbones = [path for path in listed if path.startswith("backbones/")]  # chapter 07's pretrained backbone
    assert backbones
    shipped = {f"nbhelpers/data/shipped/{path}"  # README: the licence
               for path in ["MANIFEST", "README.md", *subset, *backbones]}
    assert shipped <= names, f"missing from the wheel: {sorted(shipped - names)}"
    assert not [n for n in names if n.startswith(("datasets/", "tests/", "notebooks/"))]


@pytest.mark.timeout(300)  # about 25 s on the 2-core CPU; it runs in `make test`: CI's only proof of the install
def test_installed_wheel_loads_data_and_fits_outside_the_repository(wheel, tmp_path):
    """A fresh environment outside the repository: only the wheel is installed in it; the
    dependencies are read from this interpreter's site-packages by a path-only .pth file,
    which leaves this checkout's editable install (an import hook in another .pth) out."""
    env = tmp_path / "env"
    quiet_run([sys.executable, "-m", "venv", "--without-pip", str(env)])
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    quiet_run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
               "--ignore-installed", "--disable-pip-version-check", "--no-warn-script-location", str(wheel)])
    purelib = Path(quiet_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             cwd=tmp_path).stdout.strip())
    assert (purelib / "nbhelpers" / "data" / "shipped" / "MANIFEST").is_file()
    here = site.getsitepackages() + [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    dependencies = [p for p in here if Path(p).is_dir()]
    (purelib / "_test_dependencies.pth").write_text("\n".join(dict.fromkeys(dependencies)) + "\n")
    (purelib / "datasets").mkdir()  # as Hugging Face's `datasets` would be: not a place to write
    before = snapshot(purelib)
    home, xdg, cwd = tmp_path / "home", tmp_path / "xdg", tmp_path / "elsewhere"
    for folder in (home, xdg, cwd):
        folder.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NBH_", "PYTHON", "XDG_", "VIRTUAL_ENV"))}
    environ.update(HOME=str(home), XDG_CACHE_HOME=str(xdg), NBH_DEVICE="cpu", OMP_NUM_THREADS="1")
    out = quiet_run([str(python), "-c", CHECK], cwd=cwd, env=environ).stdout
    report = json.loads(out.strip().splitlines()[-1])

    assert Path(report["file"]).is_relative_to(purelib), "the import did not come from the fresh environment"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert Path(report["manifest"]).is_relative_to(purelib) and report["version"] == version
    assert report["name"] == "fashion-mnist-subset" and report["sizes"] == [5400, 600, 1000]
    assert Path(report["report"]["fashion-mnist-subset"]).is_relative_to(purelib)  # what `nbhelpers doctor` shows
    assert Path(report["backbone"]).is_relative_to(purelib)
    assert report["status"] == ["completed"] and 0.1 < report["accuracy"] <= 1
    assert report["data_home"] == str(xdg / "nbhelpers") and report["runs"] == str(xdg / "nbhelpers" / "explore")
    assert len(list((xdg / "nbhelpers" / "explore").glob("*.json"))) == 1  # the run, stored in the user cache
    assert snapshot(purelib) == before, "the installed package wrote into site-packages"
    assert not list(cwd.iterdir()) and not (home / ".cache" / "nbhelpers").exists()  # XDG_CACHE_HOME was respected
