"""Start / Pause / Step / Reset for the selected run, and the step target. State changes in callbacks."""

from __future__ import annotations

import streamlit as st

from explorer.training.run import Run
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

START = "controls.start"
PAUSE = "controls.pause"
STEP = "controls.step"
STEP_SIZE = "controls.step_size"
RESET = "controls.reset"
TARGET = "controls.target"
CLEAR = "controls.clear"
DELETE = "controls.delete"
KEEP = "controls.keep_training"
SPEED = "controls.speed"
SPEEDS = {"full speed": None, "50 steps/s": 50.0, "20 steps/s": 20.0, "10 steps/s": 10.0, "5 steps/s": 5.0,
          "2 steps/s": 2.0, "1 step/s": 1.0, "1 step / 2 s": 0.5}


def _run() -> Run | None:
    return get_state().current_run


def _start() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.start()


def _pause() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.pause()


def _step() -> None:
    """n more steps, trained in the background like a running run (so they can be paused), then a pause."""
    if (run := _run()) and run.trainer:
        run.trainer.step_through(int(st.session_state.get(STEP_SIZE, 1)))


def _set_speed() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.set_speed(SPEEDS[st.session_state[f"{SPEED}.{run.id}"]])


def _keep_training() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.keep_training()


def _reset() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.reset()


def _set_target() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.set_max_steps(int(st.session_state[f"{TARGET}.{run.id}"]))


def _clear() -> None:
    if (run := _run()) and run.trainer:
        run.trainer.clear_divergence()


def _delete() -> None:
    state = get_state()
    if state.current_run:
        state.remove_run(state.current_run.id)


def render_controls(run: Run) -> None:
    trainer = run.trainer
    if trainer is None:
        st.info("This run was opened from a checkpoint whose data is not available here: it can be inspected "
                "on every page, but not trained further.")
        st.button("🗑️ Close run", key=DELETE, on_click=_delete)
        return
    running = trainer.is_running
    c1, c2, c3, c4, c5, c6 = st.columns([1, 1, 1, 0.9, 1, 1.3], vertical_alignment="bottom")
    c1.button("▶️ Start", key=START, on_click=_start, disabled=running or trainer.status in ("diverged", "done"),
              type="primary", width="stretch")
    c2.button("⏸️ Pause", key=PAUSE, on_click=_pause, disabled=not running, width="stretch")
    c3.button("⏭️ Step", key=STEP, on_click=_step, disabled=running or trainer.status in ("diverged", "done"),
              width="stretch", help="Train the number of optimizer steps on the right, then pause (⏸️ stops them "
                                    "sooner)")
    seed(STEP_SIZE, 1)
    c4.number_input("Steps per ⏭️", 1, 1000, key=STEP_SIZE, help="Optimizer steps that one click on ⏭️ Step runs")
    c5.button("↺ Reset", key=RESET, on_click=_reset, width="stretch",
              help="Back to the seeded initial weights; the history is cleared")
    st.session_state[f"{TARGET}.{run.id}"] = trainer.config.max_steps  # the trainer's own value (presets change it)
    c6.number_input("Step target", 1, 1_000_000, step=500, key=f"{TARGET}.{run.id}", on_change=_set_target,
                    help="Training stops at this step; raise it to train further")
    speeds = list(SPEEDS)
    current = next((name for name, value in SPEEDS.items() if value == trainer.steps_per_second), speeds[0])
    st.session_state[f"{SPEED}.{run.id}"] = current  # the trainer's own pace
    st.select_slider("Speed", speeds, key=f"{SPEED}.{run.id}", on_change=_set_speed,
                     help="Slow training down to narrate it step by step; training goes on in the background on any "
                          "page, at most this fast")
    if trainer.status == "diverged":
        st.error(f"🛑 {trainer.message}")
        st.button("Keep these weights and allow training again", key=CLEAR, on_click=_clear)
    elif trainer.learned:
        st.success(f"✅ {trainer.message}")
        st.button("▶️ Keep training to the step target", key=KEEP, on_click=_keep_training,
                  help="Train on past the point where the task was learned (to watch it overfit, say)")
    elif trainer.status == "done":
        st.success(f"✅ {trainer.message} Raise the step target to train further.")
