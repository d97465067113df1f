"""Figures of fine-tuning: which heads moved (layer × head, clickable), one head before and after, the relative
change of every matrix, LoRA's singular values, sentence embeddings before and after, a [MASK]'s top tokens."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.analysis.finetune_diff import COLUMNS
from explorer.figures.attention import display_tokens
from explorer.figures.theme import COLORWAY, SEQUENTIAL


def head_change_grid(change: torch.Tensor, title: str = "How far each head's attention moved",
                     selected: tuple[int, int] | None = None) -> go.Figure:
    """change [layer, head] (mean total-variation distance, 0–1) as a heatmap whose cells can be clicked."""
    n_layers, n_heads = change.shape
    z = change.float().numpy()
    fig = go.Figure(go.Heatmap(z=z, x=list(range(n_heads)), y=list(range(n_layers)), colorscale=SEQUENTIAL, zmin=0,
                               zmax=max(float(z.max()), 1e-6), colorbar=dict(title="moved"), hoverinfo="skip",
                               text=np.vectorize(lambda v: f"{v:.2f}")(z), texttemplate="%{text}"))
    xs, ys = np.meshgrid(range(n_heads), range(n_layers))
    custom = np.column_stack([ys.ravel(), xs.ravel(), z.ravel()])
    fig.add_trace(go.Scatter(
        x=xs.ravel(), y=ys.ravel(), customdata=custom, mode="markers", showlegend=False,
        marker=dict(symbol="square-open", size=max(10, min(40, 420 // max(n_heads, 1))), color="#ffffff", opacity=0.0,
                    line=dict(width=3)),
        selected=dict(marker=dict(opacity=1.0)), unselected=dict(marker=dict(opacity=0.0)),
        hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<br>moved %{customdata[2]:.3f}"
                      "<extra>click for both patterns</extra>"))
    if selected is not None:
        fig.add_shape(type="rect", x0=selected[1] - 0.5, x1=selected[1] + 0.5, y0=selected[0] - 0.5,
                      y1=selected[0] + 0.5, line=dict(color=COLORWAY[3], width=3))
    fig.update_layout(title=title, height=max(300, 48 * n_layers + 150), showlegend=False)
    fig.update_xaxes(title="head", tickvals=list(range(n_heads)), showgrid=False, zeroline=False)
    fig.update_yaxes(title="layer", tickvals=list(range(n_layers)), ticktext=[f"L{i}" for i in range(n_layers)],
                     autorange="reversed", showgrid=False, zeroline=False)
    return fig


def pattern_pair(before: torch.Tensor, after: torch.Tensor, tokens: Sequence[str], layer: int, head: int,
                 moved: float) -> go.Figure:
    """One head's pattern [q, k] on one sentence before and after fine-tuning, side by side, on one colour scale."""
    labels = display_tokens(tokens)
    top = max(float(before.max()), float(after.max()), 1e-6)
    fig = make_subplots(rows=1, cols=2, subplot_titles=["before (pretrained)", "after (fine-tuned)"],
                        horizontal_spacing=0.12)
    for col, pattern in ((1, before), (2, after)):
        fig.add_trace(go.Heatmap(z=pattern.float().numpy(), x=labels, y=labels, colorscale=SEQUENTIAL, zmin=0,
                                 zmax=top, coloraxis="coloraxis",
                                 hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.3f}<extra></extra>"),
                      row=1, col=col)
    fig.update_layout(title=f"Layer {layer}, head {head}: attention before and after (moved {moved:.2f} on this "
                            "sentence)", coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=top,
                                                        colorbar=dict(title="weight")), height=600,
                      margin=dict(t=110))
    fig.update_xaxes(tickangle=-60, type="category", showgrid=False, title="key (attended to)")
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False)
    fig.update_yaxes(title="query (attending)", col=1)
    return fig


def weight_change_heatmap(frame: pd.DataFrame, title: str = "Relative change ‖ΔW‖ / ‖W‖ of every weight") -> go.Figure:
    """Rows: layers (embeddings first); columns: W_Q … W_out, the biases, the LayerNorms; cells: relative change."""
    layers = ["embeddings", *sorted({v for v in frame["layer"] if v != "embeddings"}, key=lambda v: int(v[1:]))]
    columns = [c for c in ["W_E", "W_pos", *COLUMNS] if c in set(frame["matrix"])]
    table = frame.pivot_table(index="layer", columns="matrix", values="relative change", aggfunc="first")
    table = table.reindex(index=layers, columns=columns)
    z = table.to_numpy(dtype=np.float32)
    shown = np.vectorize(lambda v: f"{v:.1e}" if 0 < v < 0.01 else f"{v:.2f}")(np.nan_to_num(z))
    text = np.where(np.isnan(z), "", shown)
    fig = go.Figure(go.Heatmap(z=z, x=columns, y=layers, colorscale=SEQUENTIAL, zmin=0, text=text,
                               texttemplate="%{text}", hoverongaps=False, colorbar=dict(title="‖ΔW‖/‖W‖"),
                               hovertemplate="%{y} %{x}<br>‖ΔW‖/‖W‖ = %{z:.3g}<extra></extra>"))
    fig.update_layout(title=title, height=max(320, 46 * len(layers) + 160), plot_bgcolor="#ffffff")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", tickangle=-45)
    return fig


def lora_spectra_figure(frame: pd.DataFrame, rank: int, title: str | None = None) -> go.Figure:
    """The singular values of each ΔW = (α/r)·B·A against their index, log scale: they drop to ~0 after index r."""
    fig = go.Figure()
    for i, (name, rows) in enumerate(frame.groupby("matrix", sort=False)):
        fig.add_trace(go.Scatter(x=rows["index"], y=rows["singular value"].clip(lower=1e-12), mode="lines+markers",
                                 name=name, line=dict(color=COLORWAY[i % len(COLORWAY)], width=1.5),
                                 marker=dict(size=5)))
    fig.add_vline(x=rank + 0.5, line=dict(color="#888888", dash="dash"), annotation_text=f"r = {rank}")
    fig.update_layout(title=title or f"Singular values of each LoRA update ΔW = (α/r)·B·A (r = {rank})",
                      xaxis_title="index", yaxis_title="singular value", height=460)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def embedding_pair(before: np.ndarray, after: np.ndarray, labels: Sequence[int], class_names: Sequence[str],
                   axis_titles: tuple[Sequence[str], Sequence[str]], scores: tuple[float, float],
                   texts: Sequence[str]) -> go.Figure:
    """Sentence embeddings [n, 2] before and after, one colour per class; each panel's title gives the separation."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=[f"before · separation {scores[0]:.2f}", f"after · separation {scores[1]:.2f}"])
    labels = np.asarray(labels)
    hover = [t[:80] for t in texts]
    for col, (coords, titles) in enumerate(zip((before, after), axis_titles), start=1):
        for k, name in enumerate(class_names):
            rows = labels == k
            fig.add_trace(go.Scatter(x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=name,
                                     legendgroup=name, showlegend=col == 1,
                                     marker=dict(color=COLORWAY[k % len(COLORWAY)], size=6, opacity=0.75),
                                     text=[h for h, r in zip(hover, rows) if r],
                                     hovertemplate="%{text}<extra>" + name + "</extra>"), row=1, col=col)
        fig.update_xaxes(title=titles[0], row=1, col=col, zeroline=False)
        fig.update_yaxes(title=titles[1], row=1, col=col, zeroline=False)
    fig.update_layout(title=dict(text="Sentence embeddings (what the head reads), coloured by label", y=0.98,
                                 yanchor="top"), height=560, margin=dict(t=110))
    return fig


def fill_mask_figure(table: pd.DataFrame, title: str = "Top tokens for each [MASK]") -> go.Figure:
    """Horizontal bars of p(token) per blank, most likely on top."""
    blanks = sorted(table["blank"].unique())
    fig = make_subplots(rows=1, cols=len(blanks), subplot_titles=[f"[MASK] {b}" for b in blanks],
                        horizontal_spacing=0.12)
    for col, blank in enumerate(blanks, start=1):
        rows = table[table["blank"] == blank].sort_values("rank", ascending=False)
        fig.add_trace(go.Bar(x=rows["probability"], y=[f"{t} " for t in rows["token"]], orientation="h",
                             marker_color=COLORWAY[0], showlegend=False,
                             hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title="probability", range=[0, max(float(rows["probability"].max()) * 1.1, 0.05)], row=1,
                         col=col)
        fig.update_yaxes(type="category", row=1, col=col)
    fig.update_layout(title=dict(text=title, y=0.98, yanchor="top"), margin=dict(t=110),
                      height=max(340, 28 * int(table["rank"].max() or 1) + 180))
    return fig
