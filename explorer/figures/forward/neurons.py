"""The feed-forward layer's neurons: activations of the strongest ones over the input, and one token's top neurons."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from explorer.figures.attention import display_tokens
from explorer.figures.theme import COLORWAY, DIVERGING, fit_dense_ticks, label_every_category


def neuron_heatmap(post: torch.Tensor, tokens: Sequence[str], neuron_ids: Sequence[int], title: str,
                   first_row: int = 0) -> go.Figure:
    """Activations [T × chosen neurons]: which tokens make each neuron fire (columns: neurons, strongest first)."""
    z = post[:, list(neuron_ids)].numpy().astype(np.float32)
    bound = float(np.abs(z).max()) or 1.0
    rows = display_tokens(tokens)
    cols = [f"n{n}" for n in neuron_ids]
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound, colorbar=dict(title="activation"),
        customdata=np.arange(first_row, first_row + z.shape[0])[:, None].repeat(z.shape[1], 1),
        hovertemplate="position %{customdata}: %{y}<br>neuron %{x}<br>activation %{z:.4f}<extra></extra>"))
    fig.update_xaxes(title="neuron (the strongest on this input)", type="category")
    fig.update_yaxes(title="token", type="category", autorange="reversed")
    fig.update_layout(title=dict(text=title, x=0), height=int(min(900, max(320, 14 * len(rows) + 170))))
    label_every_category(fig, "yaxis", len(rows))
    label_every_category(fig, "xaxis", len(cols))
    fit_dense_ticks(fig, slide=False)
    return fig


def token_neurons_figure(frame: pd.DataFrame, token: str, position: int, title: str) -> go.Figure:
    """Bars: the neurons firing most at one position (``frame``: neuron, activation)."""
    fig = go.Figure(go.Bar(x=[f"n{n}" for n in frame["neuron"]], y=frame["activation"], marker_color=COLORWAY[3],
                           hovertemplate="neuron %{x}<br>activation %{y:.4f}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0), height=360, xaxis=dict(type="category", title="neuron"),
                      yaxis=dict(title=f"activation at position {position} ({token.strip() or '␣'})"))
    return fig
