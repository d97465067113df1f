"""Perplexity of n-gram models of every order beside the neural language models, on the same validation tokens."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from explorer.figures.theme import COLORWAY


def perplexity_figure(ngrams: pd.DataFrame, neural: dict[str, float], vocab_size: int,
                      title: str = "Perplexity on the same validation tokens") -> go.Figure:
    """``ngrams``: columns n, perplexity (one order per row); ``neural``: run name → its perplexity (lines)."""
    fig = go.Figure(go.Scatter(x=ngrams["n"], y=ngrams["perplexity"], mode="lines+markers", name="n-gram (add-k)",
                               line=dict(color=COLORWAY[1], width=3),
                               hovertemplate="n = %{x}<br>perplexity %{y:.2f}<extra></extra>"))
    for k, (name, value) in enumerate(neural.items()):
        fig.add_hline(y=value, line=dict(color=COLORWAY[(k + 2) % len(COLORWAY)], dash="dash", width=2),
                      annotation_text=f"{name}: {value:.2f}", annotation_position="top left")
    fig.add_hline(y=vocab_size, line=dict(color="#999999", dash="dot", width=1),
                  annotation_text=f"uniform guess: {vocab_size}", annotation_position="bottom right")
    fig.update_xaxes(title_text="n (the model conditions on the n − 1 tokens before)", dtick=1)
    fig.update_yaxes(type="log", title_text="perplexity = exp(mean −log p)")
    fig.update_layout(title=dict(text=title, x=0), height=460, showlegend=False)
    return fig
