"""Figures of a model's reading over time: class probability after each prefix, next-token probability,
and several models' hidden states on the same input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.gates import MAX_TICK_LABELS, token_label
from explorer.figures.theme import COLORWAY, DIVERGING


def _token_axis(fig: go.Figure, pieces: Sequence[str], **where) -> None:
    if len(pieces) <= MAX_TICK_LABELS:
        fig.update_xaxes(tickmode="array", tickvals=list(range(len(pieces))),
                         ticktext=[token_label(p) for p in pieces], tickangle=-45 if len(pieces) > 24 else 0, **where)


def prefix_probability_figure(curves: dict[str, np.ndarray], pieces: Sequence[str], class_name: str,
                              title: str | None = None) -> go.Figure:
    """p(class | tokens 0..t) against t, one line per model (``curves``: name -> [pos])."""
    fig = go.Figure()
    labels = [token_label(p) for p in pieces]
    for k, (name, probs) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=np.arange(len(probs)), y=probs, mode="lines+markers", name=name,
                                 line=dict(color=COLORWAY[k % len(COLORWAY)], shape="hv"), customdata=labels,
                                 hovertemplate="after %{customdata} (t = %{x})<br>p = %{y:.3f}<extra>" + name
                                               + "</extra>"))
    fig.add_hline(y=0.5, line=dict(color="#000000", dash="dash", width=1))
    _token_axis(fig, pieces)
    fig.update_yaxes(range=[-0.02, 1.02])
    fig.update_layout(title=dict(text=title or f"p({class_name}) after each token", x=0),
                      xaxis_title="last token read", yaxis_title=f"p({class_name})",
                      legend=dict(orientation="h", yanchor="top", y=-0.25, x=0, xanchor="left"))
    return fig


def next_token_figure(probs: np.ndarray, pieces: Sequence[str], title: str = "p(the actual next token)"
                      ) -> go.Figure:
    """Bars: the probability a language model gave to each token before reading it (x = that token)."""
    labels = [token_label(p) for p in pieces[1:]]
    fig = go.Figure(go.Bar(x=np.arange(1, len(probs) + 1), y=probs, marker_color=COLORWAY[0], customdata=labels,
                           hovertemplate="t = %{x} (%{customdata})<br>p = %{y:.3f}<extra></extra>"))
    _token_axis(fig, pieces)
    fig.update_yaxes(range=[0, 1])
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="token being predicted", yaxis_title="probability")
    return fig


def compare_hidden_figure(states: dict[str, tuple[np.ndarray, Sequence[str]]],
                          title: str = "hₜ of each model on the same input") -> go.Figure:
    """One heatmap row per model (units × time) of its top layer's hₜ, on a shared colour scale −1..1."""
    names = list(states)
    fig = make_subplots(rows=len(names), cols=1, vertical_spacing=0.08, subplot_titles=names)
    for row, name in enumerate(names, start=1):
        values, pieces = states[name]
        fig.add_trace(go.Heatmap(z=values.T, coloraxis="coloraxis",
                                 hovertemplate="t = %{x}<br>unit %{y}<br>hₜ = %{z:.3f}<extra>" + name + "</extra>"),
                      row=row, col=1)
        fig.update_yaxes(title_text="unit", row=row, col=1)
        _token_axis(fig, pieces, row=row, col=1)
    fig.update_layout(coloraxis=dict(colorscale=DIVERGING, cmin=-1, cmax=1, colorbar=dict(title=dict(text="hₜ"))),
                      title=dict(text=title, x=0), height=140 + 220 * len(names))
    fig.update_annotations(x=0, xanchor="left")
    return fig
