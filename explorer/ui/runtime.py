"""Process-wide settings for the server (applied once by app.py), and which browser session a script run serves."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable

import torch
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

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


def session_id() -> str | None:
    """The id of the browser session this script run serves (None outside a script run)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def session_alive_check(session: str | None) -> Callable[[], bool] | None:
    """A check that the browser session still has a connected tab (None where it cannot be told: AppTest, bare
    scripts). Safe to call from any thread."""
    if session is None or not Runtime.exists():
        return None
    runtime = Runtime.instance()
    return lambda: runtime.is_active_session(session)


LARGE_RESULT_BYTES = 16 * 2**20  # after computing a result at least this big, freed memory goes back to the system


def _glibc(function: str) -> Callable[..., int] | None:
    """A function of glibc's allocator, or None where the C library is another (macOS, musl): nothing to do."""
    try:
        return getattr(ctypes.CDLL("libc.so.6"), function)
    except (OSError, AttributeError):
        return None


_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")


def release_freed_memory() -> None:
    """Hand memory freed by a large computation back to the system (glibc's ``malloc_trim``).

    A 512-token MiniLM recording keeps 75 MB, but its intermediate tensors pass through glibc's heap, which keeps
    the freed pages: without this a class server's memory grows by what each large view needed at its peak, not by
    what it keeps. (Lowering glibc's mmap threshold does the same for every allocation, but made MiniLM 30 % slower.)
    """
    if _TRIM is not None:
        _TRIM(0)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD_BYTES = 4 * 2**20
_ALLOCATOR_SET = threading.Event()


def configure_allocator() -> None:
    """Give every allocation of 4 MB or more its own pages, handed back to the system when it is freed (once per
    process; glibc only).

    glibc raises its mmap threshold each time a large block is freed (up to 32 MB), after which blocks of that size
    come from the heap, and a freed one stays in the process while anything above it lives. On a class server a
    512-token MiniLM pass allocates many 12–60 MB tensors: with the moving threshold, the bad-input catalogue
    (benchmarks/abuse.py) left the server 413 MB larger, with a fixed 4 MB one 310 MB; MiniLM is as fast (±15 %).
    Small tensors (training's) are not affected.
    """
    if _ALLOCATOR_SET.is_set() or _MALLOPT is None:
        return
    _ALLOCATOR_SET.set()
    _MALLOPT(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


_BACKEND_STARTED = threading.Event()


def start_training_backend() -> None:
    """With EXPLORER_TRAIN_BACKEND=processes, start the training hosts now, in the background (a few seconds of
    Ray start-up that the first student would otherwise wait for). Once per process."""
    from explorer.training.remote.pool import backend, get_pool

    if backend() != "processes" or _BACKEND_STARTED.is_set():
        return
    _BACKEND_STARTED.set()
    threading.Thread(target=get_pool, name="explorer-training-hosts", daemon=True).start()
