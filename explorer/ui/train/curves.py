"""The live part of the Train page: progress, metrics and curves, redrawn by a fragment while training."""

from __future__ import annotations

import math

import streamlit as st

from explorer.figures.training import training_curves
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.state import get_state
from explorer.ui.train.training_fields import mark_best, render_schedule


def render_live(run: Run) -> None:
    """Curves that follow training; only this fragment reruns on each tick."""
    interval = live_tick_s() if run.trainer and run.trainer.is_running else None

    @st.fragment(run_every=interval)
    def live() -> None:
        current = get_state().runs.get(run.id)
        if current is None or current.trainer is None:
            return
        _draw(current)

    live()


def _metric(label: str, value: float | None, fmt: str) -> tuple[str, str]:
    return label, "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _draw(run: Run) -> None:
    trainer = run.trainer
    target = trainer.config.max_steps
    st.progress(min(1.0, trainer.step_count / target), text=f"Step {trainer.step_count} of {target}")
    last_val = trainer.val_history[-1] if trainer.val_history else {}
    cols = st.columns(5)
    for col, (label, value) in zip(cols, [
        _metric("Train loss", trainer.last_loss, ".4f"),
        _metric("Validation loss", last_val.get("val_loss"), ".4f"),
        _metric("Validation accuracy", last_val.get("val_accuracy"), ".1%"),
        _metric("Whole-sequence accuracy", last_val.get("val_sequence_accuracy"), ".1%")
        if run.data and run.data.kind == "seq2seq" else _metric("Gradient norm", _last(trainer, "grad_norm"), ".3g"),
        _metric("Tokens / s", trainer.tokens_per_second() or None, ",.0f"),
    ]):
        col.metric(label, value)
    if not trainer.history:
        st.caption("Press ▶️ Start (or ⏭️ Step) to begin; the curves appear here.")
        return
    state = get_state()
    frame = state.remember((run.id, trainer.step_count, len(trainer.history), "metrics"), trainer.metrics_frame)
    left, right = st.columns(2)
    for column, metric in ((left, "loss"), (right, "accuracy")):
        fig = state.remember((run.id, trainer.step_count, len(trainer.history), metric),
                             lambda m=metric: mark_best(training_curves({run.name: frame}, m), run, m))
        with column:
            show_figure(fig, f"{metric}.{run.id}", f"{run.name} {metric}")
    render_schedule(run)


def _last(trainer, column: str) -> float | None:
    return trainer.history[-1][column] if trainer.history else None
