"""Figures of position encodings: tables, requirements, similarities, projections, rotary, offsets, experiment.

Builders take tensors or frames from explorer.analysis.position* and return plotly figures; they never set
fonts or sizes (the theme does). No LaTeX (MathJax would load from a CDN): formulas are written in Unicode.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.figures.theme import COLORWAY, DIVERGING, SEQUENTIAL

LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.22, x=0)  # clear of the left-aligned title
VARIANT_COLOURS = {"none": COLORWAY[7], "sinusoidal": COLORWAY[0], "learned": COLORWAY[1], "rotary": COLORWAY[2]}


def _title(fig: go.Figure, text: str) -> go.Figure:
    fig.update_layout(title=dict(text=text, x=0, xanchor="left"))
    return fig


def _np(x: torch.Tensor) -> np.ndarray:
    """float32 on purpose: half the bytes sent to the browser (a 512 × 384 table), more digits than any hover shows."""
    return x.detach().float().cpu().numpy()


# ----------------------------------------------------------------- tables and sinusoids
def table_heatmap(table: torch.Tensor, title: str, n_trained: int | None = None) -> go.Figure:
    """A position table ``[n_pos, d]`` as a heatmap: rows are positions (top = 0), columns dimensions; colours
    saturate at the 99.5th percentile of |value| (hover shows the true value). ``n_trained``: rows from here on
    never appeared in training (a dashed line marks the boundary)."""
    z = _np(table)
    bound = float(np.percentile(np.abs(z), 99.5)) or 1.0  # a few outlying entries (MiniLM's) would wash out the rest
    fig = go.Figure(go.Heatmap(z=z, colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound,
                               colorbar=dict(title="value"),
                               hovertemplate="position %{y}<br>dimension %{x}<br>value %{z:.3f}<extra></extra>"))
    if n_trained is not None and n_trained < z.shape[0]:
        fig.add_hline(y=n_trained - 0.5, line=dict(color="black", dash="dash"),
                      annotation_text=f"rows ≥ {n_trained}: never used in training", annotation_position="bottom right")
    fig.update_layout(xaxis_title="dimension", yaxis_title="position", yaxis_autorange="reversed")
    return _title(fig, title)


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
    return _title(fig, "Each pair of dimensions is a sinusoid with its own wavelength")


def wavelengths_figure(waves: torch.Tensor, base: float) -> go.Figure:
    """Wavelength of each (sin, cos) pair on a log axis, from 2π up to base·2π (a geometric progression)."""
    pairs = list(range(len(waves)))
    fig = go.Figure(go.Scatter(x=pairs, y=_np(waves), mode="lines+markers", name="wavelength",
                               hovertemplate="pair %{x}<br>wavelength %{y:,.1f} positions<extra></extra>"))
    ends = [pairs[0], pairs[-1]]
    for value, label, colour in ((2 * math.pi, "2π", COLORWAY[2]),
                                 (base * 2 * math.pi, f"base·2π = {base * 2 * math.pi:,.0f}", COLORWAY[3])):
        fig.add_trace(go.Scatter(x=ends, y=[value, value], mode="lines", name=label, hoverinfo="skip",
                                 line=dict(dash="dot", color=colour)))
    fig.update_layout(xaxis_title="pair i (dimensions 2i, 2i+1)", yaxis_title="wavelength (positions)",
                      yaxis_type="log", legend=LEGEND_BELOW)
    return _title(fig, "Wavelengths 2π·base^(2i/d): from 2π to almost base·2π")


def requirements_figure(norms: torch.Tensor, nearest: torch.Tensor) -> go.Figure:
    """Left: ‖PE(t)‖ per position (bounded, constant). Right: distance from each position to its nearest other
    position (unique: never 0)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Bounded: the norm at every position",
                                                        "Unique: distance to the nearest other position"))
    positions = list(range(len(norms)))
    fig.add_trace(go.Scatter(x=positions, y=_np(norms), mode="lines", name="‖PE(t)‖", line=dict(color=COLORWAY[0])),
                  1, 1)
    fig.add_trace(go.Scatter(x=positions, y=_np(nearest), mode="lines", name="min over s≠t ‖PE(t) − PE(s)‖",
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
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55],
                        subplot_titles=(f"M({k}) (first {shown} of {matrix.shape[0]} dims)",
                                        f"Residual of PE(t+{k}) = M({k})·PE(t)"))
    fig.add_trace(go.Heatmap(z=_np(matrix[:shown, :shown]), colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1,
                             showscale=False, hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"), 1, 1)
    floor = np.maximum(_np(residual), 1e-12)  # log axis: exact zeros drawn at 1e-12
    fig.add_trace(go.Scatter(x=list(range(len(floor))), y=floor, mode="lines", line=dict(color=COLORWAY[3]),
                             name="residual"), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_yaxes(type="log", title_text="max |difference|", exponentformat="e", row=1, col=2)
    fig.update_xaxes(title_text="position t", row=1, col=2)
    fig.update_layout(showlegend=False)
    return fig


def similarity_heatmap(similarity: torch.Tensor, title: str, label: str = "position") -> go.Figure:
    """cos(P(t), P(s)) for every pair of positions."""
    fig = go.Figure(go.Heatmap(z=_np(similarity), colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1,
                               colorbar=dict(title="cosine"),
                               hovertemplate=f"{label} %{{y}} vs %{{x}}<br>cosine %{{z:.3f}}<extra></extra>"))
    fig.update_layout(xaxis_title=label, yaxis_title=label, yaxis_autorange="reversed")
    return _title(fig, title)


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
    return _title(fig, title)


# ----------------------------------------------------------------- adding to tokens
def sizes_figure(sizes: pd.DataFrame, title: str) -> go.Figure:
    """Mean norm of token embeddings and position vectors, with their min-max range."""
    fig = go.Figure(go.Bar(
        x=sizes["vectors"], y=sizes["mean norm"], marker_color=COLORWAY[: len(sizes)],
        error_y=dict(type="data", symmetric=False, array=sizes["max norm"] - sizes["mean norm"],
                     arrayminus=sizes["mean norm"] - sizes["min norm"]),
        hovertemplate="%{x}<br>mean norm %{y:.2f}<extra></extra>"))
    fig.update_layout(yaxis_title="‖vector‖ (mean; bars: min-max)", xaxis_title="")
    return _title(fig, title)


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
    return _title(fig, f"One token at every position (PCA; variance shown: {share})")


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
    return _title(fig, "Moved the same distance, at a different angle (radius ‖P(pos)‖, angle to P(0))")


# ----------------------------------------------------------------- learned tables
def projection_figure(coords: torch.Tensor, explained: torch.Tensor, title: str) -> go.Figure:
    """Positions as points (2D or 3D PCA) joined in order and coloured by position: a smooth table is a curve."""
    xyz = _np(coords)
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
    return _title(fig, f"{title} (variance shown: {share})")


def formation_figure(formation: pd.DataFrame, title: str) -> go.Figure:
    """Similarity of neighbouring and of distant positions at each kept snapshot."""
    fig = go.Figure()
    for i, column in enumerate(c for c in formation.columns if c != "step"):
        fig.add_trace(go.Scatter(x=formation["step"], y=formation[column], mode="lines+markers", name=column,
                                 line=dict(color=COLORWAY[i])))
    fig.update_layout(xaxis_title="training step", yaxis_title="mean cosine similarity", yaxis_range=[-1, 1],
                      legend=LEGEND_BELOW)
    return _title(fig, title)


# ----------------------------------------------------------------- rotary
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
    return _title(fig, f"θ = {theta:.4g} rad per position · angle between them (m−n)θ + const · score {score:.3f}")


def scores_heatmap(scores: torch.Tensor, title: str, x_label: str = "key position n",
                   y_label: str = "query position m", symmetric: bool = True) -> go.Figure:
    """Scores over (query, key); masked entries (−inf) are left blank."""
    z = _np(scores)
    z = np.where(np.isfinite(z), z, np.nan)
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    colours = dict(colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound) if symmetric else \
        dict(colorscale=SEQUENTIAL, zmin=0, zmax=1)
    fig = go.Figure(go.Heatmap(z=z, colorbar=dict(title="score" if symmetric else "attention"),
                               hovertemplate="query %{y}, key %{x}<br>%{z:.3f}<extra></extra>", **colours))
    fig.update_layout(xaxis_title=x_label, yaxis_title=y_label, yaxis_autorange="reversed")
    return _title(fig, title)


def scores_offset_figure(by_offset: pd.DataFrame) -> go.Figure:
    """The rotary score as a function of n − m: every pair with the same offset has the same score."""
    fig = go.Figure(go.Scatter(x=by_offset["offset"], y=by_offset["score"], mode="lines+markers",
                               customdata=by_offset["spread"], line=dict(color=COLORWAY[2]),
                               hovertemplate="n − m = %{x}<br>score %{y:.4f}<br>spread %{customdata:.1e}"
                                             "<extra></extra>"))
    fig.update_layout(xaxis_title="offset n − m (key − query)", yaxis_title="q_m · k_n")
    return _title(fig, "The score depends on the offset only")


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
    return _title(fig, "Rotary frequencies θ_i = base^(−2i/d)")


def with_without_figure(with_: torch.Tensor, without: torch.Tensor, labels: list[str], what: str) -> go.Figure:
    """Two heatmaps side by side: one head's scores or pattern with rotary and with it switched off."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"{what} with rotary", f"{what} with rotary switched off"),
                        horizontal_spacing=0.12)
    both = [np.where(np.isfinite(_np(t)), _np(t), np.nan) for t in (with_, without)]
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


# ----------------------------------------------------------------- offsets
def offset_profile_figure(profiles: pd.DataFrame, layer: str) -> go.Figure:
    """Mean attention against the offset (key − query) for each head of one layer."""
    rows = profiles[profiles["layer"] == layer]
    fig = go.Figure()
    for head, head_rows in rows.groupby("head"):
        fig.add_trace(go.Scatter(x=head_rows["offset"], y=head_rows["attention"], mode="lines+markers",
                                 name=f"head {head}", line=dict(color=COLORWAY[int(head) % len(COLORWAY)])))
    fig.add_vline(x=-1, line=dict(dash="dot", color="grey"), annotation_text="previous token",
                  annotation_position="top left")
    fig.update_layout(xaxis_title="offset = key position − query position", yaxis_title="mean attention",
                      yaxis_range=[0, 1.02], legend=LEGEND_BELOW)
    return _title(fig, f"Attention by offset · {layer}")


def offset_heatmap(profiles: pd.DataFrame) -> go.Figure:
    """Every head (rows) against the offset (columns): a bright cell in one column is a positional head."""
    table = profiles.assign(row=profiles["layer"] + " · head " + profiles["head"].astype(str)) \
        .pivot_table(index="row", columns="offset", values="attention", sort=False)
    fig = go.Figure(go.Heatmap(z=table.to_numpy(), x=table.columns.tolist(), y=table.index.tolist(),
                               colorscale=SEQUENTIAL, zmin=0, zmax=1, colorbar=dict(title="mean attention"),
                               hovertemplate="%{y}<br>offset %{x}<br>attention %{z:.2f}<extra></extra>"))
    fig.update_layout(xaxis_title="offset = key position − query position", yaxis_autorange="reversed")
    return _title(fig, "Which heads look a fixed distance away")


# ----------------------------------------------------------------- the experiment
def experiment_curves(curves: pd.DataFrame, metric: str = "val_sequence_accuracy") -> go.Figure:
    """Validation accuracy over training, one line per position encoding."""
    fig = go.Figure()
    for positional, rows in curves.groupby("positions", sort=False):
        fig.add_trace(go.Scatter(x=rows["step"], y=rows[metric], mode="lines+markers", name=positional,
                                 line=dict(color=VARIANT_COLOURS.get(positional))))
    nice = "whole-sequence accuracy" if metric == "val_sequence_accuracy" else "token accuracy"
    fig.update_layout(xaxis_title="training step", yaxis_title=f"validation {nice}", yaxis_range=[0, 1.02],
                      legend=LEGEND_BELOW)
    return _title(fig, f"Validation {nice} while training")


def experiment_bars(results: pd.DataFrame, title: str) -> go.Figure:
    """Token and whole-sequence accuracy of each variant, side by side."""
    fig = go.Figure()
    for column, colour in (("token accuracy", COLORWAY[5]), ("sequence accuracy", COLORWAY[0])):
        values = results[column].astype(float)
        fig.add_trace(go.Bar(x=results["positions"], y=values, name=column, marker_color=colour,
                             text=[f"{v:.0%}" if pd.notna(v) else "—" for v in values], textposition="outside"))
    fig.update_layout(barmode="group", yaxis_range=[0, 1.1], yaxis_title="validation accuracy",
                      yaxis_tickformat=".0%", legend=LEGEND_BELOW)
    return _title(fig, title)


def length_figure(frame: pd.DataFrame, trained_length: int, metric: str = "token accuracy") -> go.Figure:
    """Accuracy against the sequence length; lengths a learned table cannot reach are marked ✕ at 0."""
    fig = go.Figure()
    for positional, rows in frame.groupby("positions", sort=False):
        colour = VARIANT_COLOURS.get(positional)
        done = rows[rows[metric].notna()]
        fig.add_trace(go.Scatter(x=done["length"], y=done[metric].astype(float), mode="lines+markers",
                                 name=positional, line=dict(color=colour)))
        missing = rows[rows[metric].isna()]
        if not missing.empty:
            fig.add_trace(go.Scatter(x=missing["length"], y=[0] * len(missing), mode="markers",
                                     marker=dict(symbol="x", size=12, color=colour), name=f"{positional}: no row",
                                     customdata=missing["note"], hovertemplate="%{customdata}<extra></extra>"))
    fig.add_vline(x=trained_length, line=dict(dash="dot", color="grey"), annotation_text="trained length",
                  annotation_position="top right")
    fig.update_layout(xaxis_title="sequence length", yaxis_title=metric, yaxis_range=[0, 1.05],
                      yaxis_tickformat=".0%", legend=LEGEND_BELOW)
    return _title(fig, f"Length generalisation ({metric})")
