"""Device choice, AMP dtype, seeding, quick mode."""

import pytest
import torch

from nbhelpers import amp_dtype, by_mode, device_report, get_device, quick_mode, seed_everything


def test_nbh_device_overrides(monkeypatch):
    monkeypatch.setenv("NBH_DEVICE", "cpu")
    device, why = device_report()
    assert device == torch.device("cpu") and "NBH_DEVICE" in why


def test_unknown_device_gets_a_did_you_mean(monkeypatch):
    monkeypatch.setenv("NBH_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"`NBH_DEVICE` must be one of 'cpu', 'cuda', 'mps'"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_missing_cuda_says_what_to_do(monkeypatch):
    monkeypatch.setenv("NBH_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="Unset NBH_DEVICE"):
        get_device()


def test_default_device_follows_availability(monkeypatch):
    monkeypatch.delenv("NBH_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert get_device().type == expected


def test_amp_is_off_on_the_cpu():
    assert amp_dtype("cpu") is None


def test_seed_everything_repeats_draws():
    seed_everything(5)
    a = torch.randn(3)
    seed_everything(5, deterministic=True)
    b = torch.randn(3)
    torch.use_deterministic_algorithms(False)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="`seed` must be an integer >= 0"):
        seed_everything(-1)


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("1", True), ("true", True)])
def test_quick_mode_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("NBH_QUICK", value)
    assert quick_mode() is expected
    assert by_mode(full="big", quick="small") == ("small" if expected else "big")


def test_quick_mode_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("NBH_QUICK", "maybe")
    with pytest.raises(ValueError, match="NBH_QUICK"):
        quick_mode()
