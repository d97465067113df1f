"""Figures of the second deck's seq2seq slides: accuracy against input length (the bottleneck), the decoder's
alignment over the source, and sequential against parallel work."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.figures.attention import display_tokens
from explorer.figures.theme import COLORWAY, SEQUENTIAL

TRAINED_FILL = "rgba(0, 114, 178, 0.08)"


def length_figure(frames: dict[str, pd.DataFrame], trained: tuple[int, int], metric: str = "exact match",
                  title: str = "Exact match by input length") -> go.Figure:
    """One line per model: ``metric`` against the source length, the trained lengths shaded.

    ``frames`` maps a model's name to :func:`explorer.training.bottleneck.accuracy_by_length`'s frame.
    """
    fig = go.Figure()
    fig.add_vrect(x0=trained[0] - 0.5, x1=trained[1] + 0.5, fillcolor=TRAINED_FILL, line_width=0, layer="below",
                  annotation_text="trained on these lengths", annotation_position="top left")
    for k, (name, frame) in enumerate(frames.items()):
        fig.add_trace(go.Scatter(x=frame["length"], y=frame[metric], mode="lines+markers", name=name,
                                 line=dict(color=COLORWAY[k % len(COLORWAY)]),
                                 hovertemplate="length %{x}<br>%{y:.0%}<extra>" + name + "</extra>"))
    fig.update_yaxes(range=[-0.02, 1.14], tickformat=".0%", title_text=metric)  # room above 100 % for the label
    fig.update_xaxes(title_text="source length (symbols)", dtick=2)
    fig.update_layout(title=dict(text=title, x=0), uirevision="bottleneck",
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"))
    return fig


def alignment_figure(weights: np.ndarray, source: Sequence[str], output: Sequence[str],
                     title: str = "Alignment: where each output step looks",
                     wrong: Sequence[bool] | None = None) -> go.Figure:
    """Heatmap ``[out_pos, src_pos]``: rows the output tokens the decoder wrote (top to bottom), columns the
    source tokens; each row sums to 1. Rows whose output is wrong are marked ✗ (when the target is known)."""
    rows = [f"{'✗ ' if wrong is not None and wrong[t] else ''}{t}: {tok}" for t, tok in enumerate(output)]
    fig = go.Figure(go.Heatmap(
        z=np.asarray(weights, dtype=np.float32), x=display_tokens(source), y=display_tokens(rows),
        colorscale=SEQUENTIAL, zmin=0, zmax=1, colorbar=dict(title="weight"),
        hovertemplate="output %{y}<br>source %{x}<br>weight %{z:.3f}<extra></extra>"))
    n = max(len(source), len(output))
    fig.update_layout(title=dict(text=title, x=0), height=max(380, min(760, 120 + 26 * n)),
                      margin=dict(t=80 if "<br>" in title else 50))  # a two-line title needs its second line
    fig.update_xaxes(title="source token (encoder state hⱼ)", type="category", tickangle=0 if n <= 24 else -60,
                     showgrid=False, tickmode="array", tickvals=display_tokens(source))
    fig.update_yaxes(title="output step t: token written", type="category", autorange="reversed", showgrid=False,
                     tickmode="array", tickvals=display_tokens(rows))
    return fig


def work_figure(frame: pd.DataFrame, title: str = "Sequential steps per sequence and measured throughput"
                ) -> go.Figure:
    """Two panels side by side: how many steps must run one after another for one sequence, and the measured
    training throughput (tokens/s) of each model. ``frame``: columns model, sequential steps, tokens/s."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("steps that must wait for the previous one",
                                                        "measured training throughput"))
    colors = [COLORWAY[k % len(COLORWAY)] for k in range(len(frame))]
    fig.add_trace(go.Bar(x=frame["model"], y=frame["sequential steps"], marker_color=colors, showlegend=False,
                         text=frame["sequential steps"], textposition="outside",
                         hovertemplate="%{x}<br>%{y} sequential steps<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=frame["model"], y=frame["tokens/s"], marker_color=colors, showlegend=False,
                         text=[f"{v:,.0f}" for v in frame["tokens/s"]], textposition="outside",
                         hovertemplate="%{x}<br>%{y:,.0f} tokens/s<extra></extra>"), row=1, col=2)
    fig.update_yaxes(title_text="steps per sequence", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="tokens per second", row=1, col=2, rangemode="tozero")
    fig.update_layout(title=dict(text=title, x=0), height=480, bargap=0.35)
    return fig
