"""Figures of attention: one head (pattern and raw scores), the layer × head grid, per-head summaries, √d_k.

Axes read like the lecture's matrices: query positions down the rows (the token that attends), key positions
along the columns (the tokens attended to). Masked cells (a decoder cannot look ahead) are left empty on a grey
background. Arrays go to plotly as float32 numpy arrays, which plotly sends in binary: long inputs stay light.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.analysis.attention import METRICS
from explorer.figures.theme import (
    COLORWAY,
    DIVERGING,
    SEQUENTIAL,
    fit_dense_ticks,
    fixed_margins,
    label_every_category,
)

MASKED_BG = "#d9d9d9"
FRACTION_METRICS = [m for m in METRICS if m != "distance"]


def display_tokens(tokens: Sequence[str]) -> list[str]:
    """Axis labels: newlines and tabs made visible, and repeated tokens kept apart.

    Plotly merges equal category labels, so the n-th repeat of a token gets n zero-width spaces appended: it
    looks the same but stays its own row or column.
    """
    seen: dict[str, int] = {}
    labels = []
    for tok in tokens:
        shown = tok.replace("\n", "↵").replace("\t", "⇥") or "∅"
        if shown.strip() == "":
            shown = "␣" * len(shown)
        count = seen.get(shown, 0)
        seen[shown] = count + 1
        labels.append(shown + "\u200b" * count)
    return labels


def _masked(values: torch.Tensor, allowed: torch.Tensor | None) -> np.ndarray:
    z = values.float().clone()
    z[~torch.isfinite(z)] = float("nan")
    if allowed is not None:
        z[~allowed] = float("nan")
    return z.numpy().astype(np.float32)


def pattern_heatmap(pattern: torch.Tensor, q_tokens: Sequence[str], k_tokens: Sequence[str],
                    allowed: torch.Tensor | None = None, title: str = "Attention pattern",
                    zmax: float | None = None) -> go.Figure:
    """The pattern A [q, k] of one head: each row is where that query's attention goes (rows sum to 1)."""
    fig = go.Figure(go.Heatmap(
        z=_masked(pattern, allowed), x=display_tokens(k_tokens), y=display_tokens(q_tokens), colorscale=SEQUENTIAL,
        zmin=0, zmax=zmax if zmax is not None else max(float(pattern.float().max()), 1e-6),
        colorbar=dict(title="weight"), hoverongaps=False,
        hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.3f}<extra></extra>"))
    _matrix_layout(fig, title)
    return fig


def scores_heatmap(scores: torch.Tensor, q_tokens: Sequence[str], k_tokens: Sequence[str],
                   title: str = "Raw scores QKᵀ/√d_k (before the softmax)") -> go.Figure:
    """Scaled dot products before the softmax, blue negative, red positive; masked cells (−∞) left empty."""
    z = _masked(scores, None)
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=display_tokens(k_tokens), y=display_tokens(q_tokens), colorscale=DIVERGING, zmid=0,
        zmin=-bound, zmax=bound, colorbar=dict(title="score"), hoverongaps=False,
        hovertemplate="query %{y}<br>key %{x}<br>score %{z:.2f}<extra></extra>"))
    _matrix_layout(fig, title)
    return fig


def _matrix_layout(fig: go.Figure, title: str) -> None:
    """Query rows down, key columns across; every token labelled up to MAX_LABELLED per axis (hover beyond), the
    figure tall enough that each row's label has room."""
    n_k, n_q = len(fig.data[0].x), len(fig.data[0].y)
    fig.update_layout(title=title, plot_bgcolor=MASKED_BG, height=int(min(1000, max(560, 13 * n_q + 200))))
    fig.update_xaxes(title="key (attended to)", tickangle=-60, showgrid=False, type="category")
    fig.update_yaxes(title="query (attending)", autorange="reversed", showgrid=False, type="category")
    label_every_category(fig, "xaxis", n_k)
    label_every_category(fig, "yaxis", n_q)
    fit_dense_ticks(fig, slide=False)


def head_grid(thumbs: torch.Tensor, layers: Sequence[int], heads: Sequence[int],
              selected: tuple[int, int] | None = None, title: str = "Every head") -> go.Figure:
    """Small patterns [len(layers), len(heads), cells, cells] tiled as one image; click a head to open it.

    The tiles are one heatmap (fast to draw even with hundreds of heads); transparent markers at the tile
    centres carry (layer, head) so a click selects a head.
    """
    n_l, n_h, cells_q, cells_k = thumbs.shape
    gap = 1
    image = np.full((n_l * (cells_q + gap), n_h * (cells_k + gap)), np.nan, dtype=np.float32)
    for i in range(n_l):
        for j in range(n_h):
            top, left = i * (cells_q + gap), j * (cells_k + gap)
            image[top: top + cells_q, left: left + cells_k] = thumbs[i, j].float().numpy()
    fig = go.Figure(go.Heatmap(z=image, colorscale=SEQUENTIAL, zmin=0, hoverinfo="skip",
                               colorbar=dict(title="weight", thickness=12)))
    centres_x = [j * (cells_k + gap) + (cells_k - 1) / 2 for j in range(n_h)]
    centres_y = [i * (cells_q + gap) + (cells_q - 1) / 2 for i in range(n_l)]
    xs, ys, custom = [], [], []
    for i, layer in enumerate(layers):
        for j, head in enumerate(heads):
            xs.append(centres_x[j])
            ys.append(centres_y[i])
            custom.append([layer, head])
    fig.add_trace(_click_targets(xs, ys, custom, size=max(8, min(40, 300 // max(n_h, n_l))),
                                 hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<extra>click to open"
                                               "</extra>"))
    if selected in {(c[0], c[1]) for c in custom}:
        i, j = list(layers).index(selected[0]), list(heads).index(selected[1])
        fig.add_shape(type="rect", x0=j * (cells_k + gap) - 0.9, x1=j * (cells_k + gap) + cells_k - 0.1,
                      y0=i * (cells_q + gap) - 0.9, y1=i * (cells_q + gap) + cells_q - 0.1,
                      line=dict(color=COLORWAY[3], width=3))
    fig.update_layout(title=title, plot_bgcolor="#ffffff", height=max(320, 70 * n_l + 120), showlegend=False)
    fig.update_xaxes(tickvals=centres_x, ticktext=[f"H{h}" for h in heads], showgrid=False, zeroline=False,
                     side="top")
    fig.update_yaxes(tickvals=centres_y, ticktext=[f"L{layer}" for layer in layers], autorange="reversed",
                     showgrid=False, zeroline=False, scaleanchor="x")
    return fig


def _click_targets(xs, ys, custom, size: int, hovertemplate: str, xaxis: str = "x", yaxis: str = "y") -> dict:
    """Invisible square markers that make heatmap cells clickable (plotly selects points, not heatmap cells)."""
    return dict(type="scatter", x=xs, y=ys, customdata=custom, mode="markers", xaxis=xaxis, yaxis=yaxis,
                showlegend=False, marker=dict(symbol="square-open", size=size, color="#ffffff", opacity=0.0,
                                              line=dict(width=3)),
                selected=dict(marker=dict(opacity=1.0)), unselected=dict(marker=dict(opacity=0.0)),
                hovertemplate=hovertemplate)


@lru_cache(maxsize=16)
def _subplot_layout(rows: int, cols: int, titles: tuple[str, ...]) -> str:
    """The layout of a subplot grid as JSON: make_subplots costs ~0.1 s, so it is built once per shape."""
    layout = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), horizontal_spacing=0.06,
                           vertical_spacing=0.12 if rows > 1 else 0.1).layout
    for annotation in layout.annotations:
        annotation.font = None  # make_subplots fixes the titles' size; let the app or slide theme decide
    return layout.to_json()


def summary_figure(summaries: pd.DataFrame, metrics: Sequence[str] | None = None,
                   title: str = "What each head does (mean over queries)") -> go.Figure:
    """One small layer × head heatmap per metric; shares are on one 0–1 colour scale, distance on its own.

    Transparent markers over the cells carry (layer, head, every metric) for the hover and for clicking.
    """
    metrics = [m for m in (metrics or METRICS) if m in summaries and summaries[m].notna().any()]
    layers = sorted(int(v) for v in summaries["layer"].unique())
    heads = sorted(int(v) for v in summaries["head"].unique())
    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    ordered = summaries.set_index(["layer", "head"]).reindex(
        pd.MultiIndex.from_product([layers, heads], names=["layer", "head"]))  # rows: layer-major, like the cells
    hover_lines = "<br>".join(f"{METRICS[m][0]}: %{{customdata[{i + 2}]:.2f}}" for i, m in enumerate(METRICS))
    custom = np.column_stack([ordered.index.get_level_values(0), ordered.index.get_level_values(1),
                              ordered[list(METRICS)].to_numpy(dtype=np.float64)])  # [cells, 2 + metrics]
    cell_x = np.tile(heads, len(layers))
    cell_y = np.repeat(layers, len(heads))
    layout = json.loads(_subplot_layout(rows, cols, tuple(METRICS[m][0] for m in metrics)))
    traces = []
    for index, metric in enumerate(metrics):
        axis = "" if index == 0 else str(index + 1)
        z = ordered[metric].to_numpy(dtype=np.float32).reshape(len(layers), len(heads))
        traces.append(dict(type="heatmap", z=z, x=heads, y=layers, hoverinfo="skip", xaxis=f"x{axis}",
                           yaxis=f"y{axis}", coloraxis="coloraxis2" if metric == "distance" else "coloraxis"))
        click = _click_targets(cell_x, cell_y, custom, size=max(8, min(24, 240 // max(len(heads), 1))),
                               hovertemplate=f"layer %{{customdata[0]}}, head %{{customdata[1]}}<br>{hover_lines}"
                                             "<extra>click to open</extra>", xaxis=f"x{axis}", yaxis=f"y{axis}")
        traces.append(click)
        layout[f"xaxis{axis}"].update(
            showgrid=False, zeroline=False, tickvals=heads, ticktext=[str(v) for v in heads],
            range=[min(heads) - 0.5, max(heads) + 0.5], tickangle=0 if len(heads) <= 16 else -90,
            title=dict(text="head") if index // cols == rows - 1 else None)
        layout[f"yaxis{axis}"].update(
            showgrid=False, zeroline=False, tickvals=layers, ticktext=[f"L{v}" for v in layers],
            range=[max(layers) + 0.5, min(layers) - 0.5],  # layer 0 on top
            title=dict(text="layer") if index % cols == 0 else None)
    layout.update(
        title=dict(text=title, y=0.995, yanchor="top"), margin=dict(t=90), showlegend=False,
        height=max(380, rows * (110 + 24 * len(layers)) + 110),
        coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=1, colorbar=dict(title=dict(text="share"), x=1.0, len=0.5,
                                                                            y=0.75)),
        coloraxis2=dict(colorscale="Cividis", cmin=0, colorbar=dict(title=dict(text="tokens"), x=1.0, len=0.4, y=0.2)))
    # Built from plain dicts without plotly's per-property validation (~10x faster for 18 traces); the
    # properties are the same as above and the figure behaves as any other. Its labels are short and known (L0,
    # head numbers): the margins plotly's automatic ones settle on, fixed, so the browser draws it once, not twice.
    fig = go.Figure(data=traces, layout=layout, _validate=False)
    return fixed_margins(fig, left=80, right=90, top=90, bottom=80)


def sqrt_dk_figure(frame: pd.DataFrame) -> go.Figure:
    """Largest softmax weight and gradient norm against d_k, without and with the 1/√d_k scaling."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["largest attention weight", "softmax gradient ‖∂A/∂s‖"])
    for scaled, color, name in ((False, COLORWAY[3], "q·k (unscaled)"), (True, COLORWAY[0], "q·k / √d_k")):
        part = frame[frame["scaled"] == scaled]
        for col, column in ((1, "max_weight"), (2, "gradient")):
            fig.add_trace(go.Scatter(x=part["d_k"], y=part[column], mode="lines+markers", name=name,
                                     line=dict(color=color), legendgroup=name, showlegend=col == 1,
                                     hovertemplate=f"d_k %{{x}}<br>{column.replace('_', ' ')} %{{y:.3f}}"
                                                   f"<extra>{name}</extra>"), row=1, col=col)
    fig.update_xaxes(type="log", title="d_k (dimension of queries and keys)")
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_layout(title="Why divide by √d_k: random q, k ~ N(0, I)", height=420,
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=1, xanchor="right"))
    return fig


def sqrt_dk_example_figure(unscaled: torch.Tensor, scaled: torch.Tensor, d_k: int) -> go.Figure:
    """The weights of one random query over its keys, without and with scaling."""
    keys = [f"k{i}" for i in range(len(unscaled))]
    fig = go.Figure([go.Bar(x=keys, y=unscaled.numpy(), name="softmax(q·k)", marker_color=COLORWAY[3]),
                     go.Bar(x=keys, y=scaled.numpy(), name="softmax(q·k / √d_k)", marker_color=COLORWAY[0])])
    fig.update_layout(title=f"One query, d_k = {d_k}", barmode="group", yaxis=dict(title="weight", range=[0, 1.02]),
                      xaxis_title="key", height=360,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig
