"""Figures of the learning-rate schedule: the rate planned over the step target and the rate each update used,
and the validation minimum that early stopping returns to."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from explorer.figures.theme import COLORWAY


def schedule_figure(planned: pd.DataFrame, used: pd.DataFrame | None = None,
                    title: str = "Learning rate ε_k") -> go.Figure:
    """``planned``: columns step, lr over the whole step target (dotted); ``used``: the rates of the updates
    taken so far (solid), from the trainer's history."""
    fig = go.Figure(go.Scatter(x=planned["step"], y=planned["lr"], mode="lines", name="planned",
                               line=dict(color=COLORWAY[0], dash="dot"),
                               hovertemplate="step %{x}<br>ε = %{y:.3g}<extra>planned</extra>"))
    if used is not None and not used.empty:
        fig.add_trace(go.Scatter(x=used["step"], y=used["lr"], mode="lines", name="used so far",
                                 line=dict(color=COLORWAY[3], width=3),
                                 hovertemplate="step %{x}<br>ε = %{y:.3g}<extra>used</extra>"))
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="step k", yaxis_title="ε_k", height=300,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
                      margin=dict(t=60))
    fig.update_yaxes(rangemode="tozero", exponentformat="power")
    return fig


def mark_validation_minimum(fig: go.Figure, step: int, value: float, stopped_at: int | None = None) -> go.Figure:
    """A star on the lowest validation loss (the weights early stopping keeps) and, when it stopped, a line at
    the step it stopped."""
    fig.add_trace(go.Scatter(x=[step], y=[value], mode="markers", name=_minimum_name(step),
                             marker=dict(symbol="star", size=16, color=COLORWAY[3], line=dict(width=1)),
                             hovertemplate="lowest validation loss %{y:.4f}<br>step %{x}<extra></extra>"))
    if stopped_at is not None:
        fig.add_vline(x=stopped_at, line=dict(color=COLORWAY[3], dash="dot", width=2),
                      annotation_text="early stop", annotation_position="top")
    return fig


def move_validation_minimum(fig: go.Figure, step: int, value: float) -> go.Figure:
    """Move the star :func:`mark_validation_minimum` put on ``fig`` (its last trace) to a new minimum, in place."""
    fig.data[-1].update(x=[step], y=[value], name=_minimum_name(step))
    return fig


def _minimum_name(step: int) -> str:
    return f"validation minimum (step {step})"
