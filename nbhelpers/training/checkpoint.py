"""Checkpoints that resume to the same history as an uninterrupted run.

A checkpoint holds everything the next epoch depends on: weights, optimizer and schedule
state, the gradient scaler, the shuffling generator and torch's RNG (dropout), the history,
the best weights so far and each callback's ``state_dict()``. It is written to a temporary
file and renamed, so a crash mid-write never leaves a broken checkpoint, and read with
``weights_only=True``, which cannot run code hidden in a file.
"""

from __future__ import annotations

import os

import torch

from .._files import atomic_write

FORMAT = 1


def save_checkpoint(path: str | os.PathLike, payload: dict) -> None:
    """Write ``payload`` to ``path`` atomically (temp file in the same folder, then rename)."""
    atomic_write(path, lambda file: torch.save({"format": FORMAT, **payload}, file))


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by `fit` (tensors and plain Python values only)."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"fit(): {str(path)!r} is not a checkpoint written by nbhelpers.fit (format {FORMAT}). "
                         "Pass another `checkpoint` path, or delete the file to start afresh.")
    return payload


def rng_state(generator: torch.Generator) -> dict:
    state = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict, generator: torch.Generator) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
