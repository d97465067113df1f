"""Figures of what positions do: heads' attention by offset, and the none/sinusoidal/learned/rotary
experiment (curves, bars, length generalisation).

Builders take tensors or frames from explorer.analysis.positions and return plotly figures; they never set
fonts or sizes (the theme does). No LaTeX (MathJax would load from a CDN): formulas are written in Unicode.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from explorer.figures.positions.common import LEGEND_BELOW, VARIANT_COLOURS, left_title
from explorer.figures.theme import COLORWAY, SEQUENTIAL


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
    return left_title(fig, f"Attention by offset · {layer}")


def offset_heatmap(profiles: pd.DataFrame) -> go.Figure:
    """Every head (rows) against the offset (columns): a bright cell in one column is a positional head."""
    table = profiles.assign(row=profiles["layer"] + " · head " + profiles["head"].astype(str)) \
        .pivot_table(index="row", columns="offset", values="attention", sort=False)
    fig = go.Figure(go.Heatmap(z=table.to_numpy(), x=table.columns.tolist(), y=table.index.tolist(),
                               colorscale=SEQUENTIAL, zmin=0, zmax=1, colorbar=dict(title="mean attention"),
                               hovertemplate="%{y}<br>offset %{x}<br>attention %{z:.2f}<extra></extra>"))
    fig.update_layout(xaxis_title="offset = key position − query position", yaxis_autorange="reversed")
    return left_title(fig, "Which heads look a fixed distance away")


def experiment_curves(curves: pd.DataFrame, metric: str = "val_sequence_accuracy") -> go.Figure:
    """Validation accuracy over training, one line per position encoding."""
    fig = go.Figure()
    for positional, rows in curves.groupby("positions", sort=False):
        fig.add_trace(go.Scatter(x=rows["step"], y=rows[metric], mode="lines+markers", name=positional,
                                 line=dict(color=VARIANT_COLOURS.get(positional))))
    nice = "whole-sequence accuracy" if metric == "val_sequence_accuracy" else "token accuracy"
    fig.update_layout(xaxis_title="training step", yaxis_title=f"validation {nice}", yaxis_range=[0, 1.02],
                      legend=LEGEND_BELOW)
    return left_title(fig, f"Validation {nice} while training")


def experiment_bars(results: pd.DataFrame, title: str) -> go.Figure:
    """Token and whole-sequence accuracy of each variant, side by side."""
    fig = go.Figure()
    for column, colour in (("token accuracy", COLORWAY[5]), ("sequence accuracy", COLORWAY[0])):
        values = results[column].astype(float)
        fig.add_trace(go.Bar(x=results["positions"], y=values, name=column, marker_color=colour,
                             text=[f"{v:.0%}" if pd.notna(v) else "—" for v in values], textposition="outside"))
    fig.update_layout(barmode="group", yaxis_range=[0, 1.1], yaxis_title="validation accuracy",
                      yaxis_tickformat=".0%", legend=LEGEND_BELOW)
    return left_title(fig, title)


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
    return left_title(fig, f"Length generalisation ({metric})")
