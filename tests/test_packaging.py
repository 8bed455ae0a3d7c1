"""The two ways to install list the same dependencies; ranges stay open."""

import re
import tomllib
from pathlib import Path

import yaml

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
