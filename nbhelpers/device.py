"""Where training runs, in what precision, how repeatable, and how big (quick mode).

Examples
--------
>>> from nbhelpers import get_device, seed_everything, by_mode
>>> get_device().type in {"cpu", "cuda", "mps"}
True
>>> seed_everything(0)
0
>>> by_mode(full=20, quick=1) in (20, 1)
True
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

from ._checks import FLAG, SEED, Anything, Rule, check_choice, checked, fail

T = TypeVar("T")
_DEVICE_TYPES = ("cpu", "cuda", "mps")


def device_report() -> tuple[torch.device, str]:
    """Return the device training will use and a sentence saying why.

    Order: ``NBH_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) if set, else CUDA, else
    Apple's MPS, else the CPU.
    """
    wanted = os.environ.get("NBH_DEVICE", "").strip()
    if wanted:
        kind = wanted.split(":")[0].lower()
        check_choice("get_device", "NBH_DEVICE", kind, _DEVICE_TYPES)
        if kind == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"NBH_DEVICE={wanted!r} asks for CUDA, but this torch ({torch.__version__}) sees no CUDA GPU. "
                "Unset NBH_DEVICE to fall back to the CPU, or install a CUDA build of torch."
            )
        if kind == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"NBH_DEVICE={wanted!r} asks for MPS, which this machine does not offer. Unset NBH_DEVICE.")
        return torch.device(wanted), f"NBH_DEVICE={wanted} is set"
    if torch.cuda.is_available():
        return torch.device("cuda"), f"CUDA GPU found: {torch.cuda.get_device_name(0)}"
    if torch.backends.mps.is_available():
        return torch.device("mps"), "Apple MPS found"
    return torch.device("cpu"), "no GPU found (CUDA and MPS unavailable), so the CPU"


DEVICE_WORDS = "'cpu', 'cuda', 'cuda:<index>', 'mps' or a torch.device"


def check_device(func: str, name: str, device) -> None:
    """Raise unless ``device`` is a ``torch.device`` or a string such as ``"cpu"``, ``"cuda:1"``, ``"mps"``."""
    if isinstance(device, torch.device):
        return
    if not isinstance(device, str):
        raise fail(func, name, DEVICE_WORDS, device)
    kind, _, index = device.partition(":")
    check_choice(func, name, kind, _DEVICE_TYPES)
    if index and not index.isdigit():
        raise fail(func, name, DEVICE_WORDS, device)


DEVICE = Rule(check_device, DEVICE_WORDS, bad=["gpu", 0, None])  # `Optional(DEVICE)` where None means "pick one"


def get_device() -> torch.device:
    """The device to train on: cuda > mps > cpu, unless ``NBH_DEVICE`` says otherwise."""
    return device_report()[0]


@checked(device=DEVICE)
def amp_dtype(device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype mixed precision uses on ``device``, or ``None`` where it does not pay.

    bf16 on GPUs that support it (no loss scaling needed), fp16 on older CUDA GPUs (used
    with a gradient scaler), and ``None`` on the CPU and MPS, where autocast is slower than
    float32 for the small models of this course.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@checked(seed=SEED, deterministic=FLAG)
def seed_everything(seed: int, deterministic: bool = False) -> int:
    """Seed Python, NumPy and torch (all devices); return the seed.

    With ``deterministic=True`` torch also picks deterministic kernels, so that a CPU run
    repeats to the bit (on CUDA, cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG``, set here too).
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA and MPS generators too
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return seed


def quick_mode() -> bool:
    """True when ``NBH_QUICK`` is set to 1/true/yes: notebooks shrink data and epochs."""
    value = os.environ.get("NBH_QUICK", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise fail("quick_mode", "NBH_QUICK", "one of '1', 'true', 'yes', '0', 'false', 'no' or empty", value)


@checked(full=Anything(), quick=Anything())
def by_mode(full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise: the one place notebooks branch.

    >>> EPOCHS = by_mode(full=10, quick=1)
    """
    return quick if quick_mode() else full
