"""Pay UMAP's start-up cost once per server, in the background, not when the first user clicks.

``import umap`` takes 4-10 s and its first fit compiles numba kernels (~20 s the first time on a machine; ~2 s
afterwards, since :func:`explorer.analysis.projection.umap_module` keeps them in numba's disk cache). app.py calls
:func:`start_umap_warmup` at start-up: a daemon thread imports umap and fits a tiny layout through the same code
path, dtypes and parameters as the page (float32 vectors, our exact k-NN, the parallel layout kernel), so the
compiled kernels are ready when a user asks for UMAP. The thread never touches Streamlit.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from explorer.analysis.projection import ProjectionParams, umap_layout

WARMUP_POINTS, WARMUP_DIM = 200, 16


@dataclass
class WarmupStatus:
    state: str = "not started"  # not started | running | ready | failed
    seconds: float = 0.0
    message: str = ""


_status = WarmupStatus()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _warm() -> None:
    start = time.perf_counter()
    try:
        data = np.random.default_rng(0).standard_normal((WARMUP_POINTS, WARMUP_DIM)).astype(np.float32)
        for dims in (2, 3):  # the page offers both; the layout kernel is shared, the rest is cheap
            umap_layout(data, ProjectionParams("umap", n_components=dims))
        _status.state = "ready"
    except (ImportError, RuntimeError, ValueError, OSError) as err:  # the page still works: UMAP compiles on use
        _status.state, _status.message = "failed", f"{type(err).__name__}: {err}"
    finally:
        _status.seconds = time.perf_counter() - start


def start_umap_warmup(at_startup: bool = False) -> threading.Thread | None:
    """Start the warm-up thread once per process (later calls return the same thread). At start-up,
    ``EXPLORER_UMAP_WARMUP=0`` skips it (the test suite: many short processes that never draw a UMAP)."""
    global _thread
    if at_startup and os.environ.get("EXPLORER_UMAP_WARMUP", "1") == "0":
        return None
    with _lock:
        if _thread is None:
            _status.state = "running"
            _thread = threading.Thread(target=_warm, name="umap-warmup", daemon=True)
            _thread.start()
        return _thread


def umap_warmup_status() -> WarmupStatus:
    """Where the warm-up stands (for a caption on the page)."""
    return _status
