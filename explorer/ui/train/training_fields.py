"""The first deck's training controls in the Train form — SGD's momentum, RMSprop, learning-rate schedules drawn as
they will run, early stopping — and, while a run trains, its schedule beside the loss and the validation minimum.

Hooked into :mod:`explorer.ui.train.model_form` (the fields) and :mod:`explorer.ui.train.curves` (the live view)
with a line each.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from explorer.figures.schedules import mark_validation_minimum, schedule_figure
from explorer.training.config import SCHEDULES, TrainConfig
from explorer.training.run import Run
from explorer.training.schedules import SCHEDULE_TITLES, robbins_monro, schedule_frame
from explorer.ui.figure import show_figure
from explorer.ui.state import get_state

MOMENTUM_HELP = ("SGD keeps a velocity v ← μ·v + ĝ and steps θ ← θ − ε·v. μ = 0 is the deck's plain update "
                 "θ ← θ − ε·ĝ; 0.9 is the common choice (and what this app used before it was a field).")
OPTIMIZER_NOTES = {
    "sgd": "SGD: θ ← θ − ε·ĝ on a minibatch's gradient estimate ĝ (with momentum μ: a running sum of ĝ).",
    "rmsprop": "RMSprop: each weight's step is divided by the root of a running mean of its squared gradients, "
               "s ← 0.99·s + 0.01·ĝ², θ ← θ − ε·ĝ/√s.",
    "adam": "Adam: RMSprop's per-weight scaling plus a momentum of ĝ (the deck: 'Adam tends to be favoured').",
    "adamw": "AdamW: Adam with weight decay applied to the weights directly (the transformer recipe).",
}


def training_extras(cfg: TrainConfig, prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """Momentum, schedule, early stopping; returns the changed values. ``values``: the form's other training fields
    so far (learning rate, optimizer, step target), used to draw the schedule as it will run."""
    out: dict[str, Any] = {}
    optimizer = values.get("optimizer", cfg.optimizer)
    st.caption(OPTIMIZER_NOTES.get(optimizer, ""))
    c1, c2, c3, c4 = st.columns(4)
    if optimizer == "sgd":
        out["momentum"] = float(c1.number_input("Momentum μ (0 = plain SGD)", 0.0, 0.999, float(cfg.momentum), 0.1,
                                                format="%.3f", key=f"{prefix}.momentum", help=MOMENTUM_HELP))
    schedule = c2.selectbox("Learning-rate schedule", SCHEDULES, index=SCHEDULES.index(cfg.schedule),
                            key=f"{prefix}.schedule", format_func=SCHEDULE_TITLES.get)
    out["schedule"] = schedule
    if schedule == "step":
        out["decay_every"] = int(c3.number_input("Every s steps", 1, 10**6, cfg.decay_every, key=f"{prefix}.every"))
        out["decay_factor"] = float(c4.number_input("Multiply ε by γ", 0.01, 1.0, float(cfg.decay_factor), 0.1,
                                                    key=f"{prefix}.factor"))
    elif schedule == "inverse":
        out["tau"] = float(c3.number_input("τ (steps to halve ε)", 1.0, 1e9, float(cfg.tau), 50.0,
                                           key=f"{prefix}.tau"))
    elif schedule == "warmup_cosine":
        out["warmup_steps"] = int(c3.number_input("Warmup steps", 0, 10**6, cfg.warmup_steps,
                                                  key=f"{prefix}.warmup"))
    c1, c2 = st.columns([1, 3])
    out["early_stopping"] = c1.checkbox("Early stopping", cfg.early_stopping, key=f"{prefix}.early",
                                        help="Watch the validation loss; stop when it has not reached a new minimum "
                                             "for 'patience' evaluations and put back the weights of the minimum.")
    if out["early_stopping"]:
        out["patience"] = int(c2.number_input("Patience (evaluations without a new minimum)", 1, 10_000,
                                              cfg.patience, key=f"{prefix}.patience",
                                              help=f"An evaluation every {cfg.eval_every} steps"))
    try:
        planned = dataclasses.replace(cfg, **{**values, **out})
    except ValueError:
        return out  # the form shows the config's own message
    if schedule != "constant":
        show_figure(schedule_figure(schedule_frame(planned), title=f"ε_k planned over {planned.max_steps} steps"),
                    f"train.schedule.{prefix}", "learning rate schedule")
        st.caption(robbins_monro(schedule))
    return out


def render_schedule(run: Run) -> None:
    """The rate each update used so far and the rest of the plan (Train page, beside the loss)."""
    trainer = run.trainer
    if trainer is None or trainer.config.schedule == "constant":
        return
    state = get_state()
    fig = state.remember((run.id, trainer.step_count, len(trainer.history), "schedule"), lambda: schedule_figure(
        schedule_frame(trainer.config), trainer.metrics_frame()[["step", "lr"]],
        title=f"Learning rate: {SCHEDULE_TITLES[trainer.config.schedule]}"))
    show_figure(fig, f"schedule.{run.id}", f"{run.name} learning rate")


def best_marked(run: Run, metric: str) -> bool:
    """Whether :func:`mark_best` puts a validation minimum on this curve of the run."""
    return metric == "loss" and run.trainer is not None and run.trainer.best_step is not None


def mark_best(fig: go.Figure, run: Run, metric: str) -> go.Figure:
    """On the loss curves, the validation minimum (and where early stopping stopped)."""
    trainer = run.trainer
    if not best_marked(run, metric):
        return fig
    return mark_validation_minimum(fig, trainer.best_step, trainer.best_val_loss,
                                   trainer.step_count if trainer.stopped_early else None)
