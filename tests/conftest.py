"""Shared test setup: deterministic, two CPU threads, caches in a temporary folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("EXPLORER_DEVICE", "cpu")
os.environ.setdefault("EXPLORER_UMAP_WARMUP", "0")  # AppTest runs app.py in this process: no compile thread at exit
torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _quiet_scheduler():
    """Runs a test started must not go on training (and slowing) the tests after it."""
    yield
    from explorer.training.scheduler import get_scheduler

    get_scheduler().forget_all()


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread than on two that wait for each other on a busy machine (measured:
    a 120-step masked-LM test took 3 s instead of 72 s on a loaded 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
