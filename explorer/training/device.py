"""Pick where to train: CUDA or Apple's MPS when present, else the CPU."""

from __future__ import annotations

import os

import torch


def default_device() -> torch.device:
    """``cuda`` > ``mps`` > ``cpu``; the environment variable EXPLORER_DEVICE overrides."""
    forced = os.environ.get("EXPLORER_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
