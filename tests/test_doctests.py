"""Every Examples section in the package runs (docstrings are documentation that is tested)."""

import doctest
import importlib
import pkgutil

import pytest

import nbhelpers

MODULES = sorted(m.name for m in pkgutil.walk_packages(nbhelpers.__path__, "nbhelpers.") if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.setenv("NBH_DEVICE", "cpu")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (run pytest -s to see them)"
