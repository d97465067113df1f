"""Process-wide settings for the server, applied once by app.py."""

from __future__ import annotations

import os

import torch

DEFAULT_THREADS = 1


def configure_torch() -> None:
    """One intra-op thread per process by default (EXPLORER_TORCH_THREADS overrides).

    The models here are small: a second thread gains little, and on a shared server (or a laptop
    whose browser is busy drawing) OpenMP threads spinning for a busy core slow every step down by
    an order of magnitude. Sessions already run in parallel on their own script threads.
    """
    threads = int(os.environ.get("EXPLORER_TORCH_THREADS", DEFAULT_THREADS))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
