"""The live part of the Train page: progress, metrics and curves, redrawn by a fragment while training.

Each curve is one figure per run, built once and then given the new points in place at every redraw (building it
anew each tick was most of what a training session's Train page cost the server).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from explorer.figures.schedules import move_validation_minimum
from explorer.figures.training import refresh_training_curves, training_curves
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.state import get_state
from explorer.ui.train.training_fields import best_marked, mark_best, render_schedule

LIVE_POINTS = 600  # per curve: a half-width figure has about this many pixels across


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
    frame = trainer.metrics_frame()
    left, right = st.columns(2)
    for column, metric in ((left, "loss"), (right, "accuracy")):
        with column:
            show_figure(_curve(run, frame, metric), f"{metric}.{run.id}", f"{run.name} {metric}")
    render_schedule(run)


def _curve(run: Run, frame: pd.DataFrame, metric: str) -> go.Figure:
    """The run's curve of ``metric`` with ``frame``'s points: the figure kept for its traces (a validation curve
    or not, a validation minimum or not, where early stopping stopped), refreshed in place."""
    trainer = run.trainer
    has_val = bool(frame[f"val_{metric}"].notna().any())
    marked = best_marked(run, metric)
    shape = (has_val, marked, trainer.step_count if trainer.stopped_early else None)
    fig = get_state().remember((run.id, "live curve", metric, *shape), lambda: mark_best(
        training_curves({run.name: frame}, metric, max_points=LIVE_POINTS), run, metric))
    refresh_training_curves(fig, {run.name: frame}, metric, max_points=LIVE_POINTS)  # a no-op on a new figure
    if marked:
        move_validation_minimum(fig, trainer.best_step, trainer.best_val_loss)
    return fig


def _last(trainer, column: str) -> float | None:
    return trainer.history[-1][column] if trainer.history else None
