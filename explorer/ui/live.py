"""Live training status in the sidebar. Training itself runs on the server's clock (explorer.training.scheduler):
this fragment only reads each run's status and redraws it, every TICK_S seconds while anything trains.

When a run stops by itself (step target reached, learned, diverged) the whole app reruns once so that buttons and
pages see the new state.
"""

from __future__ import annotations

import streamlit as st

from explorer.training.run import Run, describe_model
from explorer.ui.state import get_state

TICK_S = 1.0  # seconds between redraws of live figures and status while something trains
RUNNING_KEY = "live.running"  # st.session_state: the ids of the runs that were training at the last redraw
STATUS_ICONS = {"running": "🟢 training", "paused": "⏸️ paused", "ready": "⚪ ready", "done": "✅ done",
                "diverged": "🛑 stopped"}


def running_ids() -> set[str]:
    return {r.id for r in get_state().running_runs()}


def render_status() -> None:
    """Draw the current run's status; while anything trains, redraw every TICK_S seconds."""
    st.session_state[RUNNING_KEY] = running_ids()
    interval = TICK_S if st.session_state[RUNNING_KEY] else None

    @st.fragment(run_every=interval)
    def status() -> None:
        state = get_state()
        now = running_ids()
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
