"""Live training: a sidebar fragment that advances every running run by one bounded chunk per tick.

It lives in the sidebar, so training goes on whichever page the user is looking at, and only the
fragment reruns on a tick: the rest of the page stays usable. When a run stops by itself (step target
reached, divergence) the whole app reruns once so that buttons and pages see the new state.
"""

from __future__ import annotations

import streamlit as st

from explorer.training.run import describe_model
from explorer.ui.state import SessionState, get_state

TICK_S = 0.5  # seconds between ticks
CHUNK_BUDGET_S = 0.3  # training time per tick, shared by the running runs


def advance(state: SessionState, budget_s: float = CHUNK_BUDGET_S) -> list[str]:
    """Train each running run for its share of the budget; returns the names of runs that stopped."""
    running = state.running_runs()
    stopped = []
    for run in running:
        run.trainer.step(time_budget_s=budget_s / len(running))
        if not run.trainer.is_running:
            stopped.append(run.name)
    return stopped


def render_status() -> None:
    """Draw the current run's status; when anything trains, tick every TICK_S seconds."""
    state = get_state()
    interval = TICK_S if state.running_runs() else None

    @st.fragment(run_every=interval)
    def status() -> None:
        st_ = get_state()
        stopped = advance(st_)
        run = st_.current_run
        if run is not None:
            _run_summary(run)
        elif st_.current_pretrained:
            st.caption(f"📦 {st_.current_pretrained} (pretrained, read-only)")
        else:
            st.caption("No model yet: train one on the Train page.")
        others = [r.name for r in st_.running_runs() if run is None or r.id != run.id]
        if others:
            st.caption("Also training: " + ", ".join(others))
        if stopped or (interval is not None and not st_.running_runs()):
            st.rerun(scope="app")

    status()


def _run_summary(run) -> None:
    trainer = run.trainer
    st.caption(f"{describe_model(run.config)} · data: {run.data_name}")
    if trainer is None:
        st.caption("Opened from a checkpoint (inspect only).")
        return
    icon = {"running": "🟢 training", "paused": "⏸️ paused", "ready": "⚪ ready", "done": "✅ done",
            "diverged": "🛑 stopped"}.get(trainer.status, trainer.status)
    loss = trainer.last_loss
    st.progress(min(1.0, trainer.step_count / trainer.config.max_steps),
                text=f"{icon} · step {trainer.step_count}/{trainer.config.max_steps}"
                     + (f" · loss {loss:.3f}" if loss is not None else ""))
