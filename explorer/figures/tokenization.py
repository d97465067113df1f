"""Tokens as a reader sees them: each piece with its id, coloured by kind; lengths side by side; BPE's token count
as its vocabulary grows; the one-hot vector times W_E."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.tokenization import OneHot, Tokenized
from explorer.figures.theme import COLORWAY, DIVERGING

KIND_COLORS = {"token": "#dce9f7", "special": "#f6d39a", "unknown": "#f4a6a0"}
KIND_CODE = {"token": 0, "special": 1, "unknown": 2}
MAX_SHOWN = 240  # pieces drawn in one strip (the rest: "…")


def _visible(piece: str) -> str:
    shown = piece.replace("\n", "↵").replace("\t", "⇥").replace(" ", "␣")
    return shown if len(shown) <= 14 else shown[:13] + "…"


def token_strip(tokenized: Tokenized, title: str, per_row: int | None = None) -> go.Figure:
    """The pieces in reading order, a line at a time; each cell: the piece and its id. Specials orange, unknowns
    red. Long texts show their first MAX_SHOWN pieces."""
    pieces = tokenized.pieces[:MAX_SHOWN]
    n = len(pieces)
    longest = max((len(p) for p in pieces), default=1)
    per_row = per_row or (24 if longest <= 2 else 14 if longest <= 6 else 10)
    per_row = max(1, min(per_row, n or 1))
    n_rows = max(1, -(-n // per_row))
    z = np.full((n_rows, per_row), np.nan)
    text = np.full((n_rows, per_row), "", dtype=object)
    hover = np.full((n_rows, per_row), "", dtype=object)
    for k, (piece, token_id, kind) in enumerate(zip(pieces, tokenized.ids, tokenized.kinds)):
        r, c = divmod(k, per_row)
        z[r, c] = KIND_CODE[kind]
        text[r, c] = f"{_visible(piece)}<br><span style='font-size:9px'>{token_id}</span>"
        hover[r, c] = f"position {k}<br>{piece!r}<br>id {token_id} ({kind})"
    scale = [[0, KIND_COLORS["token"]], [0.5, KIND_COLORS["special"]], [1, KIND_COLORS["unknown"]]]
    fig = go.Figure(go.Heatmap(z=z, text=text, texttemplate="%{text}", customdata=hover, zmin=0, zmax=2,
                               colorscale=scale, showscale=False, xgap=3, ygap=3, textfont=dict(size=12),
                               hovertemplate="%{customdata}<extra></extra>"))
    more = f" (first {MAX_SHOWN} of {len(tokenized)})" if len(tokenized) > MAX_SHOWN else ""
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(title=dict(text=f"{title}{more}", x=0), height=max(150, 95 + 46 * n_rows),
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def lengths_figure(frame: pd.DataFrame, title: str = "The same text, token counts") -> go.Figure:
    """Horizontal bars: tokens per tokenizer, with how many are unknown or special."""
    fig = go.Figure([
        go.Bar(y=frame["tokenizer"], x=frame["tokens"] - frame["unknown"] - frame["special"], orientation="h",
               name="pieces", marker_color=COLORWAY[0]),
        go.Bar(y=frame["tokenizer"], x=frame["special"], orientation="h", name="special", marker_color=COLORWAY[1]),
        go.Bar(y=frame["tokenizer"], x=frame["unknown"], orientation="h", name="unknown", marker_color=COLORWAY[3]),
    ])
    fig.update_layout(title=dict(text=title, x=0), barmode="stack", height=max(240, 80 + 44 * len(frame)),
                      xaxis=dict(title="sequence length T (tokens)"), yaxis=dict(autorange="reversed"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig


def bpe_curve_figure(curve: pd.DataFrame, current: int, n_chars: int, title: str) -> go.Figure:
    """Tokens of the text against the vocabulary size: every merge can only shorten it."""
    fig = go.Figure(go.Scatter(x=curve["vocab_size"], y=curve["tokens"], mode="lines+markers",
                               line=dict(color=COLORWAY[0]), customdata=curve["merges"],
                               hovertemplate="vocabulary %{x}<br>%{customdata} merges<br>%{y} tokens<extra></extra>"))
    here = curve.iloc[(curve["vocab_size"] - current).abs().argsort()[:1]]
    fig.add_trace(go.Scatter(x=here["vocab_size"], y=here["tokens"], mode="markers", marker=dict(size=16,
                             color=COLORWAY[3]), name="the slider's vocabulary", hoverinfo="skip"))
    fig.add_hline(y=n_chars, line=dict(color="#999999", dash="dot"), annotation_text=f"{n_chars} characters")
    fig.update_layout(title=dict(text=title, x=0), height=360, showlegend=False,
                      xaxis=dict(title="vocabulary size (characters + merges)"),
                      yaxis=dict(title="tokens in the text", rangemode="tozero"))
    return fig


def one_hot_figure(one_hot: OneHot, table_rows: np.ndarray, first_row: int, row_tokens: Sequence[str],
                   title: str) -> go.Figure:
    """e_id [1 × d_vocab] · W_E [d_vocab × d_model] = W_E[id] [1 × d_model] on the model's real table.

    ``table_rows`` [n, d_shown] are rows ``first_row``… of W_E around the id, ``row_tokens`` their tokens (every
    other entry of e_id is 0, so only row id reaches the product); the product is drawn as a bar per feature."""
    rows = list(range(first_row, first_row + table_rows.shape[0]))
    labels = [f"{i}: {_visible(token)}" for i, token in zip(rows, row_tokens)]
    bound = float(np.abs(table_rows).max()) or 1.0
    d_vocab = one_hot.one_hot.shape[0]
    fig = make_subplots(rows=1, cols=3, column_widths=[0.1, 0.55, 0.35], horizontal_spacing=0.08,
                        subplot_titles=["e_id (one-hot)", f"W_E, rows {rows[0]}…{rows[-1]} of {d_vocab}",
                                        f"e_id · W_E = W_E[{one_hot.token_id}]"])
    fig.add_trace(go.Heatmap(z=one_hot.one_hot[rows].numpy()[:, None], y=labels, x=["e_id"], colorscale="Greys",
                             zmin=0, zmax=1, showscale=False, xgap=1, ygap=1,
                             hovertemplate="%{y}<br>e_id = %{z:.0f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=table_rows, y=labels, colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound,
                             colorbar=dict(title="W_E", x=0.6), ygap=1,
                             hovertemplate="%{y}<br>feature %{x}<br>%{z:.4f}<extra></extra>"), row=1, col=2)
    product = one_hot.product.numpy()
    fig.add_trace(go.Bar(x=np.arange(product.shape[0]), y=product, marker_color=np.where(product >= 0, COLORWAY[3],
                                                                                          COLORWAY[0]),
                         hovertemplate="feature %{x}: %{y:.4f}<extra></extra>", showlegend=False), row=1, col=3)
    highlight = rows.index(one_hot.token_id)
    for col in (1, 2):
        fig.add_shape(type="rect", xref=f"x{'' if col == 1 else col} domain", yref=f"y{'' if col == 1 else col}",
                      x0=0, x1=1, y0=highlight - 0.5, y1=highlight + 0.5, line=dict(color=COLORWAY[1], width=3))
    fig.update_yaxes(type="category", autorange="reversed", row=1, col=1)
    fig.update_yaxes(type="category", autorange="reversed", showticklabels=False, row=1, col=2)
    fig.update_xaxes(title_text="feature", row=1, col=2)
    fig.update_xaxes(title_text="feature (d_model)", row=1, col=3)
    fig.update_layout(title=dict(text=title, x=0), height=max(360, 120 + 26 * len(rows)), bargap=0)
    return fig


def token_chips_html(pieces: Sequence[str], ids: Sequence[int], limit: int = 160) -> str:
    """The tokens of an input as small escaped chips (piece above, id below), for a one-line overview."""
    import html

    chips = []
    for piece, token_id in list(zip(pieces, ids))[:limit]:
        chips.append("<span style='display:inline-block;margin:1px;padding:1px 5px;border-radius:4px;"
                     "background:#eef1f5;font-family:monospace;text-align:center;line-height:1.15'>"
                     f"{html.escape(_visible(piece))}<br><span style='font-size:0.7em;color:#666'>{token_id}"
                     "</span></span>")
    more = f" … (+{len(pieces) - limit})" if len(pieces) > limit else ""
    return f"<div style='line-height:2'>{''.join(chips)}{more}</div>"
