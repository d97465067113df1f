"""One head's matrices with their shapes: X, Q, K, V, H = AV, the concatenation, W_O's output; a query row's scores
and probabilities; the no-projection comparison; attention as a soft database lookup.

Rows are token positions (the lecture's T), columns the features of each vector. Hover shows every value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.figures.attention import display_tokens
from explorer.figures.theme import COLORWAY, DIVERGING, SEQUENTIAL, fit_dense_ticks, label_every_category

MASKED_BAR = "#bdbdbd"


def _array(values: torch.Tensor) -> np.ndarray:
    z = values.detach().float().cpu().numpy().astype(np.float32)
    z[~np.isfinite(z)] = np.nan
    return z


def matrix_heatmap(values: torch.Tensor, row_labels: Sequence[str], title: str, *, col_title: str = "dimension",
                   col_labels: Sequence[str] | None = None, value_name: str = "value", first_row: int = 0,
                   colorscale: str = DIVERGING) -> go.Figure:
    """A [rows, cols] matrix with a token per row (rows ``first_row``… of the input), signed values around 0."""
    z = _array(values)
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    rows = display_tokens(row_labels)
    cols = list(col_labels) if col_labels is not None else list(range(z.shape[1]))
    positions = np.arange(first_row, first_row + z.shape[0])[:, None].repeat(z.shape[1], 1)
    signed = colorscale == DIVERGING
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale=colorscale, zmid=0 if signed else None, zmin=-bound if signed else None,
        zmax=bound if signed else None, customdata=positions, colorbar=dict(title=value_name), hoverongaps=False,
        hovertemplate=f"position %{{customdata}}: %{{y}}<br>{col_title} %{{x}}<br>{value_name} %{{z:.4f}}"
                      "<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0), height=int(min(900, max(300, 14 * len(rows) + 170))))
    fig.update_xaxes(title=col_title, showgrid=False, type="category" if col_labels is not None else "-")
    fig.update_yaxes(title="token (row = position)", autorange="reversed", showgrid=False, type="category")
    label_every_category(fig, "yaxis", len(rows))
    if col_labels is not None:
        label_every_category(fig, "xaxis", len(cols))
    fit_dense_ticks(fig, slide=False)
    return fig


def query_row_figure(scaled: torch.Tensor, pattern: torch.Tensor, allowed: torch.Tensor, k_tokens: Sequence[str],
                     query: int, query_token: str, title: str) -> go.Figure:
    """One query's row: its scaled scores q·kⱼ/√d_k (masked keys greyed, no bar), then softmax's probabilities."""
    keys = display_tokens(k_tokens)
    scores = _array(scaled)
    probs = _array(pattern)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=[f"scores of query {query} ({query_token.strip() or '␣'}): qᵢ·kⱼ / √d_k",
                                        "softmax → attention weights Aᵢⱼ (they sum to 1)"])
    ok = allowed.numpy()
    colors = [COLORWAY[0] if a else MASKED_BAR for a in ok]
    fig.add_trace(go.Bar(x=keys, y=np.where(ok, scores, 0.0), marker_color=colors, name="score",
                         customdata=np.arange(len(keys)),
                         hovertemplate="key %{customdata}: %{x}<br>score %{y:.4f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=keys, y=probs, marker_color=COLORWAY[2], name="weight", customdata=np.arange(len(keys)),
                         hovertemplate="key %{customdata}: %{x}<br>weight %{y:.4f}<extra></extra>"), row=2, col=1)
    fig.update_yaxes(title_text="score", row=1, col=1)
    fig.update_yaxes(title_text="weight", range=[0, max(1e-6, float(np.nanmax(probs))) * 1.1], row=2, col=1)
    fig.update_xaxes(type="category", tickangle=-60, row=2, col=1)
    fig.update_layout(title=dict(text=title, x=0), showlegend=False, height=520, bargap=0.15)
    if not ok.all():
        fig.add_annotation(text="grey: masked keys (the future), −∞ before the softmax, weight 0", showarrow=False,
                           xref="paper", yref="paper", x=1, y=1.02, xanchor="right", font=dict(color="#666666"))
    label_every_category(fig, "xaxis2", len(keys))
    fit_dense_ticks(fig, slide=False)
    return fig


def comparison_patterns(learned: torch.Tensor, plain: torch.Tensor, tokens: Sequence[str], allowed: torch.Tensor,
                        title: str) -> go.Figure:
    """The learned head's pattern beside softmax(X Xᵀ/√d_model) (no projections), on one colour scale."""
    labels = display_tokens(tokens)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=["learned: softmax(Q Kᵀ / √d_k)", "no projections: softmax(X Xᵀ / √d_model)"])
    mask = ~allowed.numpy()
    for col, pattern in ((1, learned), (2, plain)):
        z = _array(pattern)
        z[mask] = np.nan
        fig.add_trace(go.Heatmap(z=z, x=labels, y=labels, coloraxis="coloraxis", hoverongaps=False,
                                 hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.3f}<extra></extra>"),
                      row=1, col=col)
    fig.update_xaxes(type="category", tickangle=-60, showgrid=False)
    fig.update_yaxes(type="category", autorange="reversed", showgrid=False)
    fig.update_layout(title=dict(text=title, x=0), coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=1,
                                                                  colorbar=dict(title="weight")),
                      plot_bgcolor="#d9d9d9", height=int(min(900, max(420, 12 * len(labels) + 220))))
    return fig


def lookup_figure(keys: Sequence[str], values: Sequence[float], scores: Sequence[float], weights: Sequence[float],
                  result: float, title: str) -> go.Figure:
    """Attention as a soft database lookup: how well the query matches each key, the weights, and the answer —
    the weighted mix of the values (a hard lookup would return exactly one of them)."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.09,
                        subplot_titles=["match q·kⱼ / √d_k", "weights = softmax", "values vⱼ and the answer Σⱼ wⱼvⱼ"])
    fig.add_trace(go.Bar(x=list(keys), y=list(scores), marker_color=COLORWAY[0], name="score",
                         hovertemplate="%{x}: %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=list(keys), y=list(weights), marker_color=COLORWAY[2], name="weight",
                         hovertemplate="%{x}: %{y:.3f}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Bar(x=list(keys), y=list(values), marker_color=COLORWAY[5], name="value",
                         hovertemplate="%{x}: %{y:.2f}<extra></extra>"), row=1, col=3)
    fig.add_hline(y=result, line=dict(color=COLORWAY[3], width=3, dash="dash"), row=1, col=3,
                  annotation_text=f"answer {result:.2f}", annotation_position="top left")
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    fig.update_layout(title=dict(text=title, x=0), showlegend=False, height=380)
    return fig
