"""Figures of QK/OV circuits, head scores, composition, logit attribution and the induction-head lab.

Heatmaps put tokens or positions on index axes with text tick labels, so repeated tokens (a repeated sequence
shows every token twice) keep their own row and column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.figures.theme import COLORWAY, DIVERGING, SEQUENTIAL

MAX_TICKS = 64  # beyond this many rows/columns, tick labels are thinned


def _np(values) -> np.ndarray:
    if not isinstance(values, torch.Tensor):
        return np.asarray(values)
    values = values.detach().cpu()
    return values.numpy() if values.is_complex() else values.float().numpy()


def _ticks(labels: list[str]) -> dict:
    step = max(1, int(np.ceil(len(labels) / MAX_TICKS)))
    idx = list(range(0, len(labels), step))
    return dict(tickmode="array", tickvals=idx, ticktext=[labels[i] for i in idx])


def _symmetric(z: np.ndarray) -> float:
    finite = np.abs(z[np.isfinite(z)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def _title(text: str) -> dict:
    return dict(text=text, x=0, xanchor="left")


# --------------------------------------------------------------------------- one head
def singular_values_figure(qk: torch.Tensor, ov: torch.Tensor, title: str) -> go.Figure:
    """Singular values of W_QK and W_OV (each has at most d_head non-zero ones)."""
    fig = go.Figure()
    for name, values, color in (("W_QK", qk, COLORWAY[0]), ("W_OV", ov, COLORWAY[1])):
        s = _np(values)
        fig.add_trace(go.Scatter(x=np.arange(1, len(s) + 1), y=s, mode="lines+markers", name=name,
                                 line=dict(color=color), hovertemplate="σ%{x} = %{y:.4g}<extra>" + name + "</extra>"))
    fig.update_layout(title=_title(title), xaxis_title="index (largest first)", yaxis_title="singular value")
    return fig


def eigenvalue_figure(eigenvalues: torch.Tensor, title: str) -> go.Figure:
    """Eigenvalues in the complex plane: right of the axis (positive real part) means copying."""
    z = _np(eigenvalues).astype(complex)
    magnitude = np.abs(z)
    fig = go.Figure(go.Scatter(
        x=z.real, y=z.imag, mode="markers", marker=dict(size=9, color=z.real, colorscale=DIVERGING,
                                                        cmid=0, line=dict(width=0.5, color="#333")),
        customdata=magnitude, hovertemplate="λ = %{x:.3g} %{y:+.3g}i<br>|λ| = %{customdata:.3g}<extra></extra>",
        showlegend=False))
    reach = float(magnitude.max()) * 1.1 if magnitude.size and magnitude.max() > 0 else 1.0
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.add_vline(x=0, line=dict(color="#888", width=1))
    fig.update_xaxes(range=[-reach, reach], title="real part", zeroline=False)
    fig.update_yaxes(range=[-reach, reach], title="imaginary part", zeroline=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(title=_title(title))
    return fig


def circuit_heatmap(matrix: torch.Tensor, row_labels: list[str], col_labels: list[str], title: str,
                    x_title: str, y_title: str, value_name: str) -> go.Figure:
    """A signed matrix (rows × columns) on a diverging scale centred on 0."""
    z = _np(matrix)
    reach = _symmetric(z)
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(z.shape[1])), y=list(range(z.shape[0])), colorscale=DIVERGING, zmid=0, zmin=-reach,
        zmax=reach, colorbar=dict(title=value_name),
        customdata=np.array([[f"{r}", f"{c}"] for r in row_labels for c in col_labels], dtype=object)
        .reshape(len(row_labels), len(col_labels), 2),
        hovertemplate=f"{y_title}: %{{customdata[0]}}<br>{x_title}: %{{customdata[1]}}<br>"
                      f"{value_name}: %{{z:.3g}}<extra></extra>"))
    fig.update_layout(title=_title(title), xaxis=dict(title=x_title, **_ticks(col_labels)),
                      yaxis=dict(title=y_title, autorange="reversed", **_ticks(row_labels)))
    return fig


# --------------------------------------------------------------------------- whole model
def head_labels(n_layers: int, n_heads: int) -> list[str]:
    return [f"L{layer}H{head}" for layer in range(n_layers) for head in range(n_heads)]


def head_scores_heatmap(scores: torch.Tensor, title: str, value_name: str, signed: bool = False,
                        zmax: float | None = None) -> go.Figure:
    """A score per head [n_layers, n_heads], annotated with its value."""
    z = _np(scores)
    n_layers, n_heads = z.shape
    scale = dict(colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1) if signed else \
        dict(colorscale=SEQUENTIAL, zmin=0, zmax=zmax if zmax is not None else max(float(np.nanmax(z)), 1e-9))
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"H{h}" for h in range(n_heads)], y=[f"L{layer}" for layer in range(n_layers)],
        text=np.vectorize(lambda v: f"{v:.2f}")(z) if z.size <= 400 else None, texttemplate="%{text}",
        colorbar=dict(title=value_name), hovertemplate="%{y} %{x}<br>" + value_name + ": %{z:.3f}<extra></extra>",
        **scale))
    fig.update_layout(title=_title(title), xaxis_title="head", yaxis_title="layer", yaxis_autorange="reversed")
    return fig


def paired_head_scores(left: torch.Tensor, right: torch.Tensor, titles: tuple[str, str], title: str) -> go.Figure:
    """Two [n_layers, n_heads] scores in [0, 1] side by side (e.g. previous-token and induction scores)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.12)
    for col, scores in ((1, left), (2, right)):
        z = _np(scores)
        n_layers, n_heads = z.shape
        fig.add_trace(go.Heatmap(
            z=z, x=[f"H{h}" for h in range(n_heads)], y=[f"L{layer}" for layer in range(n_layers)],
            colorscale=SEQUENTIAL, zmin=0, zmax=1, showscale=col == 2, colorbar=dict(title="score"),
            text=np.vectorize(lambda v: f"{v:.2f}")(z) if z.size <= 200 else None, texttemplate="%{text}",
            hovertemplate="%{y} %{x}: %{z:.3f}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=_title(title))
    return fig


def composition_heatmap(scores: torch.Tensor, kind: str, baseline: float | None = None,
                        title: str | None = None) -> go.Figure:
    """Composition scores [L, H, L, H] as earlier heads (rows) × later heads (columns); blank where undefined."""
    z = _np(scores)
    n_layers, n_heads = z.shape[:2]
    labels = head_labels(n_layers, n_heads)
    grid = z.reshape(n_layers * n_heads, n_layers * n_heads)  # [layer_a*head_a, layer_b*head_b]
    rows, cols = slice(0, (n_layers - 1) * n_heads), slice(n_heads, n_layers * n_heads)
    grid, row_labels, col_labels = grid[rows, cols], labels[rows], labels[cols]
    finite = grid[np.isfinite(grid)]
    top = float(finite.max()) if finite.size else 1.0
    text = np.where(np.isfinite(grid), np.vectorize(lambda v: f"{v:.2f}")(grid), "") if grid.size <= 144 else None
    fig = go.Figure(go.Heatmap(
        z=grid, x=list(range(len(col_labels))), y=list(range(len(row_labels))), colorscale=SEQUENTIAL, zmin=0,
        zmax=max(top, 1e-9), colorbar=dict(title=f"{kind}-comp."), hoverongaps=False, text=text,
        texttemplate="%{text}",
        customdata=np.array([[r, c] for r in row_labels for c in col_labels], dtype=object)
        .reshape(len(row_labels), len(col_labels), 2),
        hovertemplate="writer %{customdata[0]} → reader %{customdata[1]}<br>score %{z:.3f}<extra></extra>"))
    name = {"Q": "queries", "K": "keys", "V": "values"}[kind]
    text = title or f"{kind}-composition: earlier heads' outputs read by later heads' {name}"
    if baseline is not None:
        text += f" (random heads ≈ {baseline:.2f})"
    fig.update_layout(title=_title(text), xaxis=dict(title="later head (reads)", **_ticks(col_labels)),
                      yaxis=dict(title="earlier head (writes)", autorange="reversed", **_ticks(row_labels)))
    return fig


def logit_attribution_bars(labels: list[str], kinds: list[str], values: torch.Tensor, constant: float,
                           title: str) -> go.Figure:
    """Each component's direct contribution to one logit (bars sum, with the constant, to the logit)."""
    colors = {"embed": COLORWAY[2], "pos": COLORWAY[5], "head": COLORWAY[0], "bias": "#999999",
              "mlp": COLORWAY[1]}
    v = _np(values)
    fig = go.Figure(go.Bar(x=[*labels, "biases (LN, unembed)"], y=[*v.tolist(), constant],
                           marker_color=[colors.get(k, COLORWAY[4]) for k in kinds] + ["#cccccc"],
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(title=_title(title), xaxis_title="component", yaxis_title="direct logit contribution",
                      showlegend=False)
    return fig


def attribution_heatmap(per_component: torch.Tensor, labels: list[str], position_labels: list[str],
                        title: str) -> go.Figure:
    """Direct logit attribution [component, position] (each position's target: its next token)."""
    return circuit_heatmap(per_component, labels, position_labels, title, "position (token → next)", "component",
                           "logit contribution")


# --------------------------------------------------------------------------- the induction-head lab
def copy_loss_curves(frame: pd.DataFrame, marker_step: int | None = None) -> go.Figure:
    """Loss on the first copy (random: nothing to learn) and on the second copy (learnable in context)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["step"], y=frame["loss_first"], mode="lines+markers", name="first copy",
                             line=dict(color=COLORWAY[1]), marker=dict(size=4)))
    fig.add_trace(go.Scatter(x=frame["step"], y=frame["loss_second"], mode="lines+markers", name="repeat",
                             line=dict(color=COLORWAY[0]), marker=dict(size=4)))
    if marker_step is not None:
        fig.add_vline(x=marker_step, line=dict(color="#555", dash="dot"))
    fig.update_layout(title=_title("Loss on each copy of the sequence"), xaxis_title="step",
                      yaxis_title="cross-entropy loss", uirevision="copy_loss")
    fig.update_yaxes(rangemode="tozero")
    return fig


def score_curves(frame: pd.DataFrame, marker_step: int | None = None) -> go.Figure:
    """Best previous-token score in layer 0, best induction score in later layers, strongest K-composition."""
    fig = go.Figure()
    series = (("prev_token", "previous-token<br>(best in L0)", COLORWAY[2], "solid"),
              ("induction", "induction<br>(best in L1+)", COLORWAY[3], "solid"),
              ("k_composition", "K-composition<br>(max L0 → L1)", COLORWAY[4], "dash"))
    for column, name, color, dash in series:
        if column in frame:
            fig.add_trace(go.Scatter(x=frame["step"], y=frame[column], mode="lines+markers", name=name,
                                     line=dict(color=color, dash=dash), marker=dict(size=4)))
    if marker_step is not None:
        fig.add_vline(x=marker_step, line=dict(color="#555", dash="dot"))
    fig.update_layout(title=_title("Head scores during training"), xaxis_title="step", yaxis_title="score",
                      uirevision="score_curves")
    fig.update_yaxes(range=[0, 1.02])
    return fig


def pattern_heatmap(pattern: torch.Tensor, tokens: list[str], title: str,
                    stripe: tuple[int, int] | None = None) -> go.Figure:
    """Attention pattern [q, k] of one head with token tick labels; ``stripe`` = (first query, offset) outlines
    where a perfect induction head would attend (query q → key q - offset)."""
    labels = [f"{i}:{t}" for i, t in enumerate(tokens)]
    z = _np(pattern)
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(z.shape[1])), y=list(range(z.shape[0])), colorscale=SEQUENTIAL, zmin=0, zmax=1,
        colorbar=dict(title="attention"),
        customdata=np.array([[q, k] for q in labels for k in labels], dtype=object)
        .reshape(len(labels), len(labels), 2),
        hovertemplate="query %{customdata[0]}<br>key %{customdata[1]}<br>%{z:.3f}<extra></extra>"))
    if stripe is not None:
        first, offset = stripe
        queries = np.arange(first, z.shape[0])
        fig.add_trace(go.Scatter(x=queries - offset, y=queries, mode="markers", name="induction target",
                                 marker=dict(symbol="square-open", size=9, color=COLORWAY[3], line=dict(width=2)),
                                 hoverinfo="skip", showlegend=False))
    fig.update_layout(title=_title(title), xaxis=dict(title="key (attended to)", **_ticks(labels)),
                      yaxis=dict(title="query", autorange="reversed", **_ticks(labels)))
    return fig
