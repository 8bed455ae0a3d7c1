"""The package's shape, as ARCHITECTURE.md describes it: layers kept, modules small, a cheap import."""

import importlib
import pkgutil
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import nbhelpers

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 400
OVER_THE_LIMIT: set[str] = set()  # modules allowed past MAX_LINES until they are split by concern (none now)
# Libraries beyond torch load where they are used, never at `import nbhelpers` (each costs 0.1-1.5 s):
# `import nbhelpers` measured 3.20 s with torch's 2.94 s in it (python -X importtime, 2-core CPU).
NOT_AT_IMPORT = ("pandas", "matplotlib", "seaborn", "scipy", "sklearn", "imblearn", "fastai", "ipywidgets", "mnist1d",
                 "IPython", "torchvision", "nbclient", "schedulefree", "optuna", "hyperopt", "optuna_dashboard",
                 "sqlalchemy", "captum")


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "pyproject.toml", "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}, timeout=300)


def test_import_contracts_are_kept():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, line", [
    ("training/loop.py", "from ..ui import explore  # a lower layer importing a higher one"),
    ("evaluation/seeds.py", "from ..preprocess import leakage_check  # a technique from below"),
    ("augment/base.py", "from ..regularize import gap_table  # two techniques side by side"),
    ("plots/curves.py", "import ipywidgets  # a widget outside the UI layer"),
    ("ui/_worker.py", "import ipywidgets  # the panels' worker thread must stay widget-free"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line):
    shutil.copytree(ROOT / "nbhelpers", tmp_path / "nbhelpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / "nbhelpers" / module
    path.write_text(path.read_text() + "\n" + line + "\n")
    result = lint(tmp_path)
    importer = "nbhelpers." + module.removesuffix(".py").replace("/", ".")
    assert result.returncode != 0 and "BROKEN" in result.stdout and importer in result.stdout, result.stdout


def test_modules_stay_small():
    package = ROOT / "nbhelpers"
    sizes = {str(p.relative_to(package)): len(p.read_text().splitlines()) for p in package.rglob("*.py")}
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVER_THE_LIMIT}
    assert not too_long, f"split these modules (at most {MAX_LINES} lines): {too_long}"
    assert all(name in sizes for name in OVER_THE_LIMIT), "an exception for a module that no longer exists"


def test_import_loads_no_heavy_library():
    code = f"import sys, nbhelpers; print([m for m in {NOT_AT_IMPORT!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"`import nbhelpers` loaded {loaded}: import them inside the functions that use them"


def test_every_public_name_is_listed_once_and_importable():
    assert len(nbhelpers.__all__) == len(set(nbhelpers.__all__))
    for name in nbhelpers.__all__:
        assert getattr(nbhelpers, name) is not None, name


def test_no_module_is_shadowed_by_a_name_of_its_package():
    """`import nbhelpers.x.y` must give the module, not a function the package exports as `y`."""
    shadowed = []
    for info in pkgutil.walk_packages(nbhelpers.__path__, "nbhelpers."):
        if info.name.endswith("__main__"):
            continue
        parent, _, leaf = info.name.rpartition(".")
        importlib.import_module(info.name)
        if not isinstance(getattr(importlib.import_module(parent), leaf), types.ModuleType):
            shadowed.append(info.name)
    assert not shadowed, f"rename these modules: their package exports a name like theirs: {shadowed}"
