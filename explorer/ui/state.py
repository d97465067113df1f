"""The one session-state object per browser session, and small helpers around it.

Everything a user creates (runs, saved checkpoints, settings) lives in one :class:`SessionState`
under a single key of ``st.session_state``, so two sessions never share a trainable model. Read-only
things shared by all sessions (pretrained models, corpora) are cached with ``st.cache_resource``
elsewhere, never here.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import streamlit as st
import torch

from explorer.data.names import safe_name
from explorer.training.footprint import run_memory_bytes, run_peak_bytes
from explorer.training.limits import LAPTOP, Limits
from explorer.training.remote.pool import backend, get_pool
from explorer.training.run import Run
from explorer.training.scheduler import get_scheduler
from explorer.ui.class_mode import session_limits
from explorer.ui.runtime import LARGE_RESULT_BYTES, release_freed_memory, session_alive_check, session_id

STATE_KEY = "explorer_state"
MAX_MEMO = 64
MAX_MEMO_BYTES = 512 * 2**20  # results that hold tensors (frozen model copies, records) count by their size
MAX_SAVED = 12  # checkpoints kept in a session's list
MAX_SAVED_BYTES = 256 * 2**20
MAX_WIDGETS = 400  # widget values remembered across pages (texts included), least recently drawn dropped first
PRETRAINED_PREFIX = "pretrained:"
T = TypeVar("T")


class NoRoom(ValueError):
    """The session holds as many runs as it may: the message says what to close first."""


@dataclass
class SessionState:
    """What one user has: runs, which model is selected, checkpoints saved in the session, settings."""

    runs: dict[str, Run] = field(default_factory=dict)
    current: str | None = None  # the sidebar's model, "the current model": a run id, or "pretrained:<name>"
    current_serial: int = 0  # counts changes of ``current``: a page follows the sidebar when it changed
    followed: dict[str, int] = field(default_factory=dict)  # page picker key -> current_serial when last drawn
    pretrained: list[str] = field(default_factory=list)  # pretrained models opened in this session
    saved: dict[str, bytes] = field(default_factory=dict)  # checkpoint name -> safetensors bytes
    slide_theme: bool = False
    seen_uploads: set[str] = field(default_factory=set)  # file ids already turned into runs
    loaded_datasets: set[str] = field(default_factory=set)  # hub datasets this session has loaded
    generated_specs: set = field(default_factory=set)  # large generated tasks this session asked for (Generate)
    notice: str = ""  # one message to show on the next page render (e.g. a run was dropped)
    memo: OrderedDict = field(default_factory=OrderedDict)  # (run id, step, what) -> result
    memo_bytes: dict = field(default_factory=dict)  # the same keys -> size_in_bytes of the result (measured once)
    widgets: dict[str, Any] = field(default_factory=dict)  # widget key -> its value when last drawn (widget_state.py)
    widget_keys: OrderedDict = field(default_factory=OrderedDict)  # the seeded widget keys, least recently drawn first
    owner: str = ""  # the browser session this state belongs to (the scheduler's fairness unit)
    limits: Limits = LAPTOP  # runs, memory, model size … this session may use (class mode: see class_mode.py)
    alive: Callable[[], bool] | None = field(default=None, repr=False, compare=False)  # is its browser still there?
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # ----------------------------------------------------------------- runs
    def room_for(self, n_new: int = 1) -> str | None:
        """None when ``n_new`` more runs fit in this session; else a message saying what to close first.

        Nothing is ever closed to make room: a page that would create runs asks first and shows this message
        (with the session's run list, where the user chooses what to save or close)."""
        max_runs = self.limits.max_runs
        if len(self.runs) + n_new <= max_runs:
            return None
        free = max(0, max_runs - len(self.runs))
        return (f"This needs {n_new} new run{'s' if n_new != 1 else ''} and the session has room for {free} "
                f"(at most {max_runs} runs each; it has {len(self.runs)}). Close or save some in 🗂️ Your runs first.")

    def memory_bytes(self) -> int:
        """What the session's runs hold now."""
        return sum(run_memory_bytes(r) for r in self.runs.values())

    def add_run(self, run: Run, make_current: bool = True) -> None:
        """Add a run (raises :class:`NoRoom` when the session is full: no run is ever closed to make room)."""
        if run.id not in self.runs and (problem := self.room_for(1)):
            raise NoRoom(problem)
        if run.id not in self.runs:
            need, used, cap_mb = run_peak_bytes(run), self.memory_bytes(), self.limits.max_session_mb
            if used + need > cap_mb * 2**20:
                raise NoRoom(f"This run would need up to {need / 2**20:,.0f} MB (weights, optimizer state and "
                             f"snapshots); the session holds {used / 2**20:,.0f} MB of its {cap_mb} MB. Close or save "
                             "runs in 🗂️ Your runs, or choose a smaller model.")
        owner = self.owner or f"state-{id(self)}"
        if run.trainer is not None and backend() == "processes":
            get_pool().adopt(owner, run)  # trained in a host process; this process keeps a proxy
        self.runs[run.id] = run
        if run.trainer is not None:
            state_ref = weakref.ref(self)
            get_scheduler().add(owner, run.trainer, alive=self.alive, on_gone=lambda: _session_gone(state_ref))
        if make_current:
            self.set_current(run.id)

    def set_current(self, key: str | None) -> None:
        """Make ``key`` the sidebar's model; pages showing another model switch to it when they are next drawn."""
        if key != self.current:
            self.current = key
            self.current_serial += 1

    def open_pretrained(self, name: str, make_current: bool = False) -> None:
        """List a pretrained model in the sidebar (and make it current when asked)."""
        if name not in self.pretrained:
            self.pretrained.append(name)
        if make_current:
            self.set_current(PRETRAINED_PREFIX + name)

    def remove_run(self, run_id: str) -> None:
        run = self.runs.pop(run_id, None)
        if run is not None and run.trainer is not None:
            run.trainer.pause()
            get_scheduler().remove(run.trainer)
            if getattr(run.trainer, "remote", False):
                get_pool().remove(self.owner or f"state-{id(self)}", run_id)
        if self.current == run_id:
            self.set_current(next(iter(self.runs), None))

    @property
    def current_run(self) -> Run | None:
        return self.runs.get(self.current) if self.current else None

    @property
    def current_pretrained(self) -> str | None:
        if self.current and self.current.startswith(PRETRAINED_PREFIX):
            return self.current[len(PRETRAINED_PREFIX):]
        return None

    def running_runs(self) -> list[Run]:
        return [r for r in self.runs.values() if r.trainer is not None and r.trainer.is_running]

    def unique_name(self, base: str) -> str:
        """``base`` made safe (explorer.data.names) and distinct from the session's other run names."""
        base = safe_name(base)
        names = {r.name for r in self.runs.values()}
        if base not in names:
            return base
        i = 2
        while f"{base} ({i})" in names:
            i += 1
        return f"{base} ({i})"

    # ----------------------------------------------------------------- checkpoints kept in the session
    def keep_checkpoint(self, label: str, blob: bytes) -> None:
        """Add a checkpoint to the session's list; beyond MAX_SAVED or MAX_SAVED_BYTES the oldest go (and the
        user is told: a downloaded file keeps it for good)."""
        self.saved.pop(label, None)
        self.saved[label] = blob
        dropped = []
        while len(self.saved) > 1 and (len(self.saved) > MAX_SAVED
                                       or sum(map(len, self.saved.values())) > MAX_SAVED_BYTES):
            oldest = next(iter(self.saved))
            del self.saved[oldest]
            dropped.append(oldest)
        if dropped:
            self.notice = (f"Removed the oldest saved checkpoint(s) {', '.join(dropped)}: a session keeps at most "
                           f"{MAX_SAVED} ({MAX_SAVED_BYTES // 2**20} MB). Download a checkpoint to keep it.")

    # ----------------------------------------------------------------- memo
    def remember(self, key: tuple, compute: Callable[[], T]) -> T:
        """Compute once per key (e.g. (run id, step, "confusion")); keeps the last MAX_MEMO results.

        The dict is guarded by a lock (two script runs of one session may overlap); ``compute`` runs outside it.
        """
        with self._lock:
            if key in self.memo:
                self.memo.move_to_end(key)
                return self.memo[key]
        value = compute()
        nbytes = size_in_bytes(value)
        if nbytes >= LARGE_RESULT_BYTES:
            release_freed_memory()  # what computing it needed beyond what it keeps
        with self._lock:
            self.memo[key] = value
            self.memo_bytes[key] = nbytes
            cap = min(MAX_MEMO_BYTES, self.limits.max_results_mb * 2**20)
            while len(self.memo) > 1 and (len(self.memo) > MAX_MEMO or sum(self.memo_bytes.values()) > cap):
                oldest, _ = self.memo.popitem(last=False)
                self.memo_bytes.pop(oldest, None)
        return value


def size_in_bytes(value: Any, depth: int = 0) -> int:
    """Memory held by a remembered result: tensors, arrays and frames, models, and containers of them; other
    objects count their attributes (e.g. a record of gates). Three levels deep at most."""
    if isinstance(value, torch.Tensor):
        return value.nelement() * value.element_size()
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=False).sum())
    if isinstance(value, torch.nn.Module):
        return sum(size_in_bytes(t) for t in value.state_dict().values())
    if depth >= 3 or isinstance(value, str | bytes | int | float | bool) or value is None:
        return 0
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], str | int | float):  # numbers or labels (e.g. a figure's data): small
            return 0
        return sum(size_in_bytes(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return sum(size_in_bytes(v, depth + 1) for v in value.values())
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return sum(size_in_bytes(v, depth + 1) for v in vars(value).values())
    return 0


_STATES: weakref.WeakValueDictionary[int, SessionState] = weakref.WeakValueDictionary()  # this process's, by id
SWEEP_EVERY_S = 1.0
_last_sweep = [0.0]
_sweep_lock = threading.Lock()


def drop_views_of_closed_tabs(now: float | None = None) -> int:
    """Free the computed views (the memo) of every session whose browser has gone; returns how many were freed.

    Streamlit keeps a closed tab's session for a while (a reload within it reconnects), and its runs stay for the
    scheduler's grace period; but the views it had computed — records, figures, frozen copies, often the largest
    part — are only for showing, and a session that comes back recomputes them. Called at most every
    SWEEP_EVERY_S seconds, from any session's script run.
    """
    now = time.monotonic() if now is None else now
    with _sweep_lock:
        if now - _last_sweep[0] < SWEEP_EVERY_S:
            return 0
        _last_sweep[0] = now
    freed = 0
    for state in list(_STATES.values()):
        if state.alive is None or not state.memo or state.alive():
            continue
        with state._lock:
            state.memo.clear()
            state.memo_bytes.clear()
        freed += 1
    if freed:
        release_freed_memory()
    return freed


def get_state() -> SessionState:
    """This session's state (created on first use)."""
    if STATE_KEY not in st.session_state:
        owner = session_id()
        st.session_state[STATE_KEY] = SessionState(owner=owner or "", alive=session_alive_check(owner))
        _STATES[id(st.session_state[STATE_KEY])] = st.session_state[STATE_KEY]
    state = st.session_state[STATE_KEY]
    state.limits = session_limits()
    return state


def _session_gone(state_ref: weakref.ref) -> None:
    """The browser has been gone for the scheduler's grace period: stop and free the session's runs (called by
    the scheduler, outside any script run; Streamlit keeps a closed session a little longer before dropping it)."""
    state = state_ref()
    if state is None:
        return
    with state._lock:
        n_runs = len(state.runs)
        if backend() == "processes" and any(getattr(r.trainer, "remote", False) for r in state.runs.values()):
            get_pool().remove_owner(state.owner or f"state-{id(state)}")
        state.runs.clear()
        state.saved.clear()
        state.memo.clear()
        state.memo_bytes.clear()
        state.current = None
        state.current_serial += 1
        state.notice = (f"This session's browser tab was closed for over a minute: its {n_runs} run(s) were stopped "
                        "and their memory freed. Download checkpoints to keep runs across sessions.")


def pop_notice(state: SessionState) -> str:
    notice, state.notice = state.notice, ""
    return notice


def model_choices(state: SessionState) -> dict[str, str]:
    """Selector options: id -> label, runs first, then pretrained models."""
    options: dict[str, Any] = {r.id: f"🧪 {r.name}" for r in state.runs.values()}
    options.update({PRETRAINED_PREFIX + name: f"📦 {name}" for name in state.pretrained})
    return options
