"""Figures of position tables added to tokens and of learned tables: sizes, a token at several positions,
projections of a table and how a learned table forms during training.

Builders take tensors or frames from explorer.analysis.positions and return plotly figures; they never set
fonts or sizes (the theme does). No LaTeX (MathJax would load from a CDN): formulas are written in Unicode.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from explorer.figures.positions.common import LEGEND_BELOW, left_title, to_numpy
from explorer.figures.theme import COLORWAY, SEQUENTIAL


def sizes_figure(sizes: pd.DataFrame, title: str) -> go.Figure:
    """Mean norm of token embeddings and position vectors, with their min-max range."""
    labels = ["<br>".join(textwrap.wrap(str(v), 18)) for v in sizes["vectors"]]  # long names on several lines
    fig = go.Figure(go.Bar(
        x=labels, y=sizes["mean norm"], marker_color=COLORWAY[: len(sizes)],
        error_y=dict(type="data", symmetric=False, array=sizes["max norm"] - sizes["mean norm"],
                     arrayminus=sizes["mean norm"] - sizes["min norm"]),
        customdata=sizes["vectors"], hovertemplate="%{customdata}<br>mean norm %{y:.2f}<extra></extra>"))
    fig.update_layout(yaxis_title="‖vector‖ (mean; bars: min-max)", xaxis_title="", height=460,
                      margin=dict(b=110))
    fig.update_xaxes(tickangle=0, automargin=True)
    return left_title(fig, title)


def token_positions_figure(points: pd.DataFrame, explained: torch.Tensor) -> go.Figure:
    """Each token at every position, E(token) + P(pos), in 2D (PCA): a path coloured by position, and the token
    alone as a star."""
    fig = go.Figure()
    for i, (token, rows) in enumerate(points.groupby("token", sort=False)):
        colour = COLORWAY[i % len(COLORWAY)]
        placed, alone = rows[rows["position"] >= 0], rows[rows["position"] < 0]
        fig.add_trace(go.Scatter(x=placed["x"], y=placed["y"], mode="lines+markers", name=f"E({token}) + P(pos)",
                                 line=dict(color=colour, width=1),
                                 marker=dict(color=placed["position"], colorscale=SEQUENTIAL, size=8,
                                             showscale=i == 0, colorbar=dict(title="position")),
                                 customdata=placed[["position", "distance", "angle"]],
                                 hovertemplate="position %{customdata[0]}<br>moved ‖P‖ = %{customdata[1]:.2f}"
                                               "<br>angle to P(0) %{customdata[2]:.0f}°<extra></extra>"))
        fig.add_trace(go.Scatter(x=alone["x"], y=alone["y"], mode="markers+text", text=[f"E({token})"],
                                 textposition="top center", marker=dict(symbol="star", size=16, color=colour),
                                 name=f"E({token}) alone", hovertemplate=f"E({token})<extra></extra>"))
    share = ", ".join(f"PC{i + 1} {float(e):.0%}" for i, e in enumerate(explained))
    fig.update_layout(xaxis_title="PC1", yaxis_title="PC2", yaxis_scaleanchor="x", legend=LEGEND_BELOW)
    return left_title(fig, f"One token at every position (PCA; variance shown: {share})")


def distance_angle_figure(points: pd.DataFrame) -> go.Figure:
    """Exact, not a projection: each position drawn around the token at radius ‖P(pos)‖ (how far it moves the
    token) and at the angle between P(pos) and P(0) (in which direction, relative to position 0)."""
    first = points[points["token"] == points["token"].iloc[0]]
    first = first[first["position"] >= 0]
    fig = go.Figure(go.Scatterpolar(
        r=first["distance"], theta=first["angle"], mode="lines+markers", line=dict(color="lightgrey", width=1),
        marker=dict(color=first["position"], colorscale=SEQUENTIAL, size=8, colorbar=dict(title="position")),
        customdata=first["position"],
        hovertemplate="position %{customdata}<br>distance %{r:.2f}<br>angle %{theta:.0f}°<extra></extra>"))
    fig.add_trace(go.Scatterpolar(r=[0], theta=[0], mode="markers+text", text=["token"], textposition="top center",
                                  marker=dict(symbol="star", size=16, color=COLORWAY[0]), hoverinfo="skip"))
    top = float(first["distance"].max()) * 1.15 or 1.0
    fig.update_layout(showlegend=False, polar=dict(sector=[0, 180], radialaxis=dict(range=[0, top], title="‖P(pos)‖"),
                                                   angularaxis=dict(direction="counterclockwise", rotation=0)))
    return left_title(fig, "Moved the same distance, at a different angle (radius ‖P(pos)‖, angle to P(0))")


def projection_figure(coords: torch.Tensor, explained: torch.Tensor, title: str) -> go.Figure:
    """Positions as points (2D or 3D PCA) joined in order and coloured by position: a smooth table is a curve."""
    xyz = to_numpy(coords)
    positions = np.arange(len(xyz))
    many = len(xyz) > 100
    marker = dict(color=positions, colorscale=SEQUENTIAL, size=5 if many else 8, colorbar=dict(title="position"))
    path = dict(color="rgba(160,160,160,0.35)" if many else "lightgrey", width=1)
    hover = "position %{customdata}<extra></extra>"
    share = ", ".join(f"PC{i + 1} {float(e):.0%}" for i, e in enumerate(explained))
    if xyz.shape[1] >= 3:
        fig = go.Figure(go.Scatter3d(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], mode="lines+markers", marker=marker,
                                     line=path, customdata=positions, hovertemplate=hover))
        fig.update_layout(scene=dict(xaxis_title="PC1", yaxis_title="PC2", zaxis_title="PC3"))
    else:
        fig = go.Figure(go.Scatter(x=xyz[:, 0], y=xyz[:, 1], mode="lines+markers", marker=marker,
                                   line=path, customdata=positions, hovertemplate=hover))
        fig.update_layout(xaxis_title="PC1", yaxis_title="PC2", yaxis_scaleanchor="x")
    return left_title(fig, f"{title} (variance shown: {share})")


def formation_figure(formation: pd.DataFrame, title: str) -> go.Figure:
    """Similarity of neighbouring and of distant positions at each kept snapshot."""
    fig = go.Figure()
    for i, column in enumerate(c for c in formation.columns if c != "step"):
        fig.add_trace(go.Scatter(x=formation["step"], y=formation[column], mode="lines+markers", name=column,
                                 line=dict(color=COLORWAY[i])))
    fig.update_layout(xaxis_title="training step", yaxis_title="mean cosine similarity", yaxis_range=[-1, 1],
                      legend=LEGEND_BELOW)
    return left_title(fig, title)
