"""Live training status in the sidebar. Training itself runs on the server's clock (explorer.training.scheduler):
this fragment only reads each run's status and redraws it, every TICK_S seconds while anything trains.

When a run stops by itself (step target reached, learned, diverged) the whole app reruns once so that buttons and
pages see the new state.

On a class server every training session's tab asks for these redraws: with thirty students at one a second the web
server used 0.61 cores, at one every three seconds 0.52 (benchmarks/classroom.py), and what it uses training cannot.
:func:`tick_s` stretches the interval so that the server makes at most REDRAWS_PER_S of them per second in total
(one second alone, three with thirty students training).
"""

from __future__ import annotations

import threading
import time

import streamlit as st

from explorer.training.run import Run, describe_model
from explorer.ui.runtime import session_id
from explorer.ui.state import get_state

TICK_S = 1.0  # seconds between redraws of live figures and status while something trains (one session alone)
REDRAWS_PER_S = 10.0  # sidebar redraws per second for the whole server, at most, once many sessions train
_SEEN_FOR_S = 10.0  # a session counts as training while it redrew within this many seconds (or 3 intervals)

_training_sessions: dict[str, float] = {}  # session id -> when its status was last drawn with a run training
_sessions_lock = threading.Lock()
RUNNING_KEY = "live.running"  # st.session_state: the ids of the runs that were training at the last redraw
STATUS_ICONS = {"running": "🟢 training", "paused": "⏸️ paused", "ready": "⚪ ready", "done": "✅ done",
                "diverged": "🛑 stopped"}


def running_ids() -> set[str]:
    return {r.id for r in get_state().running_runs()}


def note_training(session: str | None, training: bool, now: float | None = None) -> int:
    """Record whether ``session`` has a run training; returns how many sessions of this server do."""
    now = time.monotonic() if now is None else now
    with _sessions_lock:
        if session is not None:
            if training:
                _training_sessions[session] = now
            else:
                _training_sessions.pop(session, None)
        keep_s = max(_SEEN_FOR_S, 3 * tick_s(len(_training_sessions)))  # a few of its redraws, however slow
        for stale in [s for s, seen in _training_sessions.items() if now - seen > keep_s]:
            del _training_sessions[stale]
        return len(_training_sessions)


def tick_s(training_sessions: int) -> float:
    """Seconds between live redraws of one session, when ``training_sessions`` sessions train on this server."""
    return max(TICK_S, training_sessions / REDRAWS_PER_S)


def live_tick_s(factor: float = 1.0) -> float:
    """The interval for a page's live figures: ``factor`` × this server's present sidebar interval."""
    return tick_s(note_training(None, False)) * factor


def render_status() -> None:
    """Draw the current run's status; while anything trains, redraw every :func:`tick_s` seconds."""
    st.session_state[RUNNING_KEY] = running_ids()
    training = bool(st.session_state[RUNNING_KEY])
    interval = tick_s(note_training(session_id(), training)) if training else None

    @st.fragment(run_every=interval)
    def status() -> None:
        state = get_state()
        now = running_ids()
        note_training(session_id(), bool(now))
        run = state.current_run
        if run is not None:
            run_summary(run)
        elif state.current_pretrained:
            st.caption(f"📦 {state.current_pretrained} (pretrained, read-only)")
        else:
            st.caption("No model yet: train one on the Train page.")
        others = [r.name for r in state.running_runs() if run is None or r.id != run.id]
        if others:
            st.caption("Also training: " + ", ".join(others))
        if now != st.session_state.get(RUNNING_KEY):  # a run stopped (or started elsewhere): redraw the page
            st.session_state[RUNNING_KEY] = now
            st.rerun(scope="app")

    status()


def run_summary(run: Run) -> None:
    """One run's model, data and progress (shared by the sidebar and the Train page, so the two agree)."""
    trainer = run.trainer
    st.caption(f"{describe_model(run.config)} · data: {run.data_name}")
    if trainer is None:
        st.caption("Opened from a checkpoint (inspect only).")
        return
    icon = STATUS_ICONS.get(trainer.status, trainer.status)
    loss = trainer.last_loss
    speed = f" · ≤ {trainer.steps_per_second:g} steps/s" if trainer.steps_per_second else ""
    st.progress(min(1.0, trainer.step_count / trainer.config.max_steps),
                text=f"{icon} · step {trainer.step_count}/{trainer.config.max_steps}"
                     + (f" · loss {loss:.3f}" if loss is not None else "") + speed)
