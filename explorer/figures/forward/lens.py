"""The logit lens: the top next token of every layer at every position, and how sure each layer is of the
model's eventual prediction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.analysis.forward.logit_lens import LogitLens
from explorer.figures.attention import display_tokens
from explorer.figures.theme import COLORWAY, SEQUENTIAL


def _short(text: str, limit: int = 9) -> str:
    shown = text.replace("\n", "↵").replace("\t", "⇥")
    shown = shown if shown.strip() else "␣" * max(1, len(shown))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def lens_grid(lens: LogitLens, tokens: Sequence[str], decode: Callable[[int], str], title: str) -> go.Figure:
    """Rows: the stream after each layer (embeddings at the top); columns: input positions. Each cell shows the top
    token read there, coloured by its probability; hover lists the top 5."""
    probs = lens.top_probs[:, :, 0].numpy().astype(np.float32)  # [rows, n_pos]
    text = np.empty(probs.shape, dtype=object)
    hover = np.empty(probs.shape, dtype=object)
    for r in range(probs.shape[0]):
        for c in range(probs.shape[1]):
            ids, ps = lens.top_ids[r, c].tolist(), lens.top_probs[r, c].tolist()
            text[r, c] = _short(decode(ids[0]))
            hover[r, c] = "<br>".join(f"{_short(decode(i), 16)}  {p:.3f}" for i, p in zip(ids, ps))
    columns = display_tokens([tokens[p] for p in lens.positions])
    fig = go.Figure(go.Heatmap(
        z=probs, x=columns, y=lens.labels, text=text, texttemplate="%{text}", customdata=hover, colorscale=SEQUENTIAL,
        zmin=0, zmax=1, colorbar=dict(title="p(top)"), textfont=dict(size=10), xgap=1, ygap=1,
        hovertemplate="after position %{x}<br>%{y}<br>%{customdata}<extra></extra>"))
    fig.update_xaxes(title="input position (what the model has read so far)", type="category", tickangle=-60)
    fig.update_yaxes(title="residual stream read through LN_final and W_U", type="category", autorange="reversed")
    fig.update_layout(title=dict(text=title, x=0), height=int(min(1100, max(360, 24 * len(lens.labels) + 200))))
    return fig


def lens_probability_figure(lens: LogitLens, column: int, token: str, predicted: str, title: str) -> go.Figure:
    """p(the model's final prediction) and its rank after each layer, at one position."""
    p = lens.final_probs[:, column].numpy()
    ranks = lens.final_ranks[:, column].numpy()
    fig = go.Figure(go.Scatter(x=lens.labels, y=p, mode="lines+markers", line=dict(color=COLORWAY[0]),
                               customdata=ranks + 1, name=f"p({predicted!r})",
                               hovertemplate="%{x}<br>p = %{y:.4f}<br>rank %{customdata}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0), height=380,
                      yaxis=dict(title=f"p({_short(predicted, 16)!r}) after {_short(token, 16)!r}", range=[0, 1.02]),
                      xaxis=dict(title="layer", type="category", tickangle=-45))
    return fig
