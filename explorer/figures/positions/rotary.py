"""Figures of rotary encodings: a query/key pair rotating, scores by offset, frequencies, with and without
the rotation.

Builders take tensors or frames from explorer.analysis.positions and return plotly figures; they never set
fonts or sizes (the theme does). No LaTeX (MathJax would load from a CDN): formulas are written in Unicode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.figures.positions.common import LEGEND_BELOW, left_title, to_numpy
from explorer.figures.theme import COLORWAY, DIVERGING, SEQUENTIAL


def rotation_figure(q_path: pd.DataFrame, k_path: pd.DataFrame, m: int, n: int, theta: float,
                    score: float) -> go.Figure:
    """One dimension pair: q rotated to every position (faint path) and q at m, k at n as arrows."""
    fig = go.Figure()
    radius = max(float(np.hypot(q_path.x, q_path.y).max()), float(np.hypot(k_path.x, k_path.y).max()), 1e-9)
    circle = np.linspace(0, 2 * np.pi, 121)
    for path, colour, name in ((q_path, COLORWAY[0], "q"), (k_path, COLORWAY[3], "k")):
        r = float(np.hypot(path.x.iloc[0], path.y.iloc[0]))
        fig.add_trace(go.Scatter(x=r * np.cos(circle), y=r * np.sin(circle), mode="lines", hoverinfo="skip",
                                 line=dict(color=colour, width=1, dash="dot"), showlegend=False))
        fig.add_trace(go.Scatter(x=path.x, y=path.y, mode="markers", marker=dict(color=colour, size=6, opacity=0.35),
                                 name=f"{name} at positions 0…{int(path.position.max())}", customdata=path.position,
                                 hovertemplate=f"{name} at position %{{customdata}}<extra></extra>"))
    for path, pos, colour, name in ((q_path, m, COLORWAY[0], "q"), (k_path, n, COLORWAY[3], "k")):
        row = path[path.position == pos].iloc[0]
        fig.add_annotation(x=row.x, y=row.y, ax=0, ay=0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowwidth=3, arrowcolor=colour, text="")
        fig.add_trace(go.Scatter(x=[row.x], y=[row.y], mode="text", text=[f"{name} at {pos}"],
                                 textposition="top center", showlegend=False, hoverinfo="skip"))
    lim = radius * 1.25
    fig.update_layout(xaxis=dict(range=[-lim, lim], zeroline=True, title="dimension 2i"),
                      yaxis=dict(range=[-lim, lim], zeroline=True, scaleanchor="x", title="dimension 2i+1"),
                      legend=LEGEND_BELOW)
    return left_title(fig, f"θ = {theta:.4g} rad per position · angle between them (m−n)θ + const · score {score:.3f}")


def scores_heatmap(scores: torch.Tensor, title: str, x_label: str = "key position n",
                   y_label: str = "query position m", symmetric: bool = True) -> go.Figure:
    """Scores over (query, key); masked entries (−inf) are left blank."""
    z = to_numpy(scores)
    z = np.where(np.isfinite(z), z, np.nan)
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    colours = dict(colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound) if symmetric else \
        dict(colorscale=SEQUENTIAL, zmin=0, zmax=1)
    fig = go.Figure(go.Heatmap(z=z, colorbar=dict(title="score" if symmetric else "attention"),
                               hovertemplate="query %{y}, key %{x}<br>%{z:.3f}<extra></extra>", **colours))
    fig.update_layout(xaxis_title=x_label, yaxis_title=y_label, yaxis_autorange="reversed")
    return left_title(fig, title)


def scores_offset_figure(by_offset: pd.DataFrame) -> go.Figure:
    """The rotary score as a function of n − m: every pair with the same offset has the same score."""
    fig = go.Figure(go.Scatter(x=by_offset["offset"], y=by_offset["score"], mode="lines+markers",
                               customdata=by_offset["spread"], line=dict(color=COLORWAY[2]),
                               hovertemplate="n − m = %{x}<br>score %{y:.4f}<br>spread %{customdata:.1e}"
                                             "<extra></extra>"))
    fig.update_layout(xaxis_title="offset n − m (key − query)", yaxis_title="q_m · k_n")
    return left_title(fig, "The score depends on the offset only")


def frequencies_figure(freqs: pd.DataFrame) -> go.Figure:
    """θ_i per dimension pair (log scale), one line per model; pairs are numbered as a fraction of d/2."""
    fig = go.Figure()
    for i, (label, rows) in enumerate(freqs.groupby("model", sort=False)):
        fraction = rows["pair"] / max(len(rows), 1)
        fig.add_trace(go.Scatter(x=fraction, y=rows["theta"], mode="lines+markers", name=label,
                                 line=dict(color=COLORWAY[i % len(COLORWAY)]), customdata=rows[["pair", "wavelength"]],
                                 hovertemplate="pair %{customdata[0]}<br>θ = %{y:.3g} rad/position"
                                               "<br>full turn every %{customdata[1]:,.1f} positions<extra></extra>"))
    fig.update_layout(xaxis_title="pair i / (d/2)", yaxis_title="θ_i (radians per position)", yaxis_type="log",
                      legend=LEGEND_BELOW)
    return left_title(fig, "Rotary frequencies θ_i = base^(−2i/d)")


def with_without_figure(with_: torch.Tensor, without: torch.Tensor, labels: list[str], what: str) -> go.Figure:
    """Two heatmaps side by side: one head's scores or pattern with rotary and with it switched off."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"{what} with rotary", f"{what} with rotary switched off"),
                        horizontal_spacing=0.12)
    both = [np.where(np.isfinite(to_numpy(t)), to_numpy(t), np.nan) for t in (with_, without)]
    if what == "pattern":
        colours = dict(colorscale=SEQUENTIAL, zmin=0, zmax=1)
    else:
        bound = float(np.nanmax([np.nanmax(np.abs(z)) for z in both])) or 1.0
        colours = dict(colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound)
    ticks = [f"{i}:{t}" for i, t in enumerate(labels)]
    for col, z in enumerate(both, start=1):
        fig.add_trace(go.Heatmap(z=z, x=ticks, y=ticks, showscale=col == 2, **colours,
                                 hovertemplate="query %{y}<br>key %{x}<br>%{z:.3f}<extra></extra>"), 1, col)
    fig.update_yaxes(autorange="reversed", title_text="query")
    fig.update_xaxes(title_text="key")
    return fig
