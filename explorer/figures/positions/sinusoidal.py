"""Figures of the sinusoidal table and what an encoding must satisfy: heatmaps, dimension curves,
wavelengths, distinctness and boundedness, the shift matrix M(k), similarity by offset.

Builders take tensors or frames from explorer.analysis.positions and return plotly figures; they never set
fonts or sizes (the theme does). No LaTeX (MathJax would load from a CDN): formulas are written in Unicode.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.figures.positions.common import LEGEND_BELOW, left_title, to_numpy
from explorer.figures.theme import COLORWAY, DIVERGING


def table_heatmap(table: torch.Tensor, title: str, n_trained: int | None = None) -> go.Figure:
    """A position table ``[n_pos, d]`` as a heatmap: rows are positions (top = 0), columns dimensions; colours
    saturate at the 99.5th percentile of |value| (hover shows the true value). ``n_trained``: rows from here on
    never appeared in training (a dashed line marks the boundary)."""
    z = to_numpy(table)
    bound = float(np.percentile(np.abs(z), 99.5)) or 1.0  # a few outlying entries (MiniLM's) would wash out the rest
    fig = go.Figure(go.Heatmap(z=z, colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound,
                               colorbar=dict(title="value"),
                               hovertemplate="position %{y}<br>dimension %{x}<br>value %{z:.3f}<extra></extra>"))
    if n_trained is not None and n_trained < z.shape[0]:
        fig.add_hline(y=n_trained - 0.5, line=dict(color="black", dash="dash"),
                      annotation_text=f"rows ≥ {n_trained}: never used in training", annotation_position="bottom right")
    fig.update_layout(xaxis_title="dimension", yaxis_title="position", yaxis_autorange="reversed")
    return left_title(fig, title)


def dimension_curves_figure(curves: pd.DataFrame) -> go.Figure:
    """Chosen columns of the sinusoidal table against position, each labelled with its wavelength."""
    fig = go.Figure()
    for i, (dim, rows) in enumerate(curves.groupby("dimension", sort=True)):
        first = rows.iloc[0]
        fig.add_trace(go.Scatter(x=rows["position"], y=rows["value"], mode="lines",
                                 line=dict(color=COLORWAY[i % len(COLORWAY)]),
                                 name=f"dim {dim} ({first['function']}, wavelength {first['wavelength']:,.1f})"))
    fig.update_layout(xaxis_title="position", yaxis_title="PE(position, dimension)", yaxis_range=[-1.1, 1.1],
                      legend=LEGEND_BELOW)
    return left_title(fig, "Each pair of dimensions is a sinusoid with its own wavelength")


def wavelengths_figure(waves: torch.Tensor, base: float) -> go.Figure:
    """Wavelength of each (sin, cos) pair on a log axis, from 2π up to base·2π (a geometric progression)."""
    pairs = list(range(len(waves)))
    fig = go.Figure(go.Scatter(x=pairs, y=to_numpy(waves), mode="lines+markers", name="wavelength",
                               hovertemplate="pair %{x}<br>wavelength %{y:,.1f} positions<extra></extra>"))
    ends = [pairs[0], pairs[-1]]
    for value, label, colour in ((2 * math.pi, "2π", COLORWAY[2]),
                                 (base * 2 * math.pi, f"base·2π = {base * 2 * math.pi:,.0f}", COLORWAY[3])):
        fig.add_trace(go.Scatter(x=ends, y=[value, value], mode="lines", name=label, hoverinfo="skip",
                                 line=dict(dash="dot", color=colour)))
    fig.update_layout(xaxis_title="pair i (dimensions 2i, 2i+1)", yaxis_title="wavelength (positions)",
                      yaxis_type="log", legend=LEGEND_BELOW)
    return left_title(fig, "Wavelengths 2π·base^(2i/d): from 2π to almost base·2π")


def requirements_figure(norms: torch.Tensor, nearest: torch.Tensor) -> go.Figure:
    """Left: ‖PE(t)‖ per position (bounded, constant). Right: distance from each position to its nearest other
    position (unique: never 0)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Bounded: the norm at every position",
                                                        "Unique: distance to the nearest other position"))
    positions = list(range(len(norms)))
    fig.add_trace(go.Scatter(x=positions, y=to_numpy(norms), mode="lines", name="‖PE(t)‖",
                             line=dict(color=COLORWAY[0])), 1, 1)
    fig.add_trace(go.Scatter(x=positions, y=to_numpy(nearest), mode="lines", name="min over s≠t ‖PE(t) − PE(s)‖",
                             line=dict(color=COLORWAY[3])), 1, 2)
    top = float(norms.max()) * 1.15 or 1.0
    fig.update_yaxes(range=[0, top], row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_xaxes(title_text="position t")
    fig.update_layout(showlegend=False)
    return fig


def shift_figure(matrix: torch.Tensor, residual: torch.Tensor, k: int, max_dims: int = 32) -> go.Figure:
    """Left: M(k), block-diagonal 2×2 rotations (its first ``max_dims`` dimensions). Right: the residual
    max_j |PE(t+k) − M(k)·PE(t)| for every t (log scale)."""
    shown = min(max_dims, matrix.shape[0])
    fig = make_subplots(rows=1, cols=2, column_widths=[0.42, 0.58], horizontal_spacing=0.16,
                        subplot_titles=(f"M({k}) (first {shown} of {matrix.shape[0]} dims)",
                                        f"Residual of PE(t+{k}) = M({k})·PE(t)"))
    fig.add_trace(go.Heatmap(z=to_numpy(matrix[:shown, :shown]), colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1,
                             colorbar=dict(title="entry", x=0.4, thickness=12, len=0.9),
                             hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"), 1, 1)
    floor = np.maximum(to_numpy(residual), 1e-12)  # log axis: exact zeros drawn at 1e-12
    fig.add_trace(go.Scatter(x=list(range(len(floor))), y=floor, mode="lines", line=dict(color=COLORWAY[3]),
                             name="residual"), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_yaxes(type="log", title_text="max |difference|", exponentformat="e", row=1, col=2)
    fig.update_xaxes(title_text="position t", row=1, col=2)
    fig.update_layout(showlegend=False)
    return fig


def similarity_heatmap(similarity: torch.Tensor, title: str, label: str = "position") -> go.Figure:
    """cos(P(t), P(s)) for every pair of positions."""
    fig = go.Figure(go.Heatmap(z=to_numpy(similarity), colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1,
                               colorbar=dict(title="cosine"),
                               hovertemplate=f"{label} %{{y}} vs %{{x}}<br>cosine %{{z:.3f}}<extra></extra>"))
    fig.update_layout(xaxis_title=label, yaxis_title=label, yaxis_autorange="reversed")
    return left_title(fig, title)


def similarity_offset_figure(by_offset: pd.DataFrame, title: str) -> go.Figure:
    """Mean similarity against the offset, with the min-max band over all pairs at that offset."""
    fig = go.Figure([
        go.Scatter(x=by_offset["offset"], y=by_offset["max"], mode="lines", line=dict(width=0), showlegend=False,
                   hoverinfo="skip"),
        go.Scatter(x=by_offset["offset"], y=by_offset["min"], mode="lines", line=dict(width=0), fill="tonexty",
                   fillcolor="rgba(0,114,178,0.2)", name="min-max over pairs"),
        go.Scatter(x=by_offset["offset"], y=by_offset["mean"], mode="lines", line=dict(color=COLORWAY[0]),
                   name="mean"),
    ])
    fig.update_layout(xaxis_title="offset s − t (positions)", yaxis_title="cosine similarity",
                      legend=LEGEND_BELOW)
    return left_title(fig, title)
