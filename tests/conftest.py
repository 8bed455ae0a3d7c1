"""Fixtures shared by several test files."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Tiny models train many times faster on one thread when the 2 CPU cores are shared
    (OpenMP threads spin waiting for each other): the course's policy too (README, "CPU
    threads"; `bench/threads.py` measures it)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """Runs stored in a fresh folder (full mode), so a test trains anew and never reads or
    writes the repository's cache."""
    monkeypatch.setenv("NBH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NBH_QUICK", raising=False)
    return tmp_path / "cache"
