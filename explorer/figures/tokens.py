"""The input text itself, coloured: by one unit's activation (LSTMVis-style) or by a model's reading.

:func:`token_grid` lays the tokens out in rows like a page of text, each cell coloured by a value, as a
plotly figure (so it exports like every other figure). :func:`token_strip_html` is the small strip of
neighbours around the current step.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.figures.gates import MAX_TICK_LABELS, token_label
from explorer.figures.theme import COLORWAY, DIVERGING

UNKNOWN_MARK = "*"


def _per_row(pieces: Sequence[str]) -> int:
    """Tokens per row: more for single characters than for words."""
    longest = max((len(p) for p in pieces), default=1)
    return 32 if longest <= 1 else 12 if longest <= 8 else 8


def token_grid(pieces: Sequence[str], values: np.ndarray, title: str, *, unknown: Sequence[bool] = (),
               colorscale: str = DIVERGING, zmin: float | None = None, zmax: float | None = None,
               value_name: str = "value", per_row: int | None = None) -> go.Figure:
    """The tokens in reading order, ``per_row`` a line, each cell coloured by ``values`` [pos].

    Unknown tokens (read as <unk>) carry a trailing ``*``. Colour range: ``zmin..zmax`` (default symmetric
    around 0 for signed values).
    """
    n = len(pieces)
    per_row = max(1, min(per_row or _per_row(pieces), n))
    n_rows = max(1, -(-n // per_row))
    z = np.full((n_rows, per_row), np.nan)  # [rows, per_row]
    text = np.full((n_rows, per_row), "", dtype=object)
    index = np.full((n_rows, per_row), -1)
    flags = list(unknown) + [False] * (n - len(unknown))
    for k, (piece, flag) in enumerate(zip(pieces, flags)):
        r, c = divmod(k, per_row)
        z[r, c] = values[k]
        text[r, c] = token_label(piece) + (UNKNOWN_MARK if flag else "")
        index[r, c] = k
    if zmin is None or zmax is None:
        top = float(np.nanmax(np.abs(values))) if n else 1.0
        zmin, zmax = -(top or 1.0), top or 1.0
    fig = go.Figure(go.Heatmap(z=z, text=text, texttemplate="%{text}", customdata=index, zmin=zmin, zmax=zmax,
                               colorscale=colorscale, xgap=2, ygap=2, colorbar=dict(title=dict(text=value_name)),
                               hovertemplate="t = %{customdata}: %{text}<br>" + value_name
                                             + " = %{z:.3f}<extra></extra>"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(title=dict(text=title, x=0), height=max(200, 110 + 34 * n_rows))
    return fig


def token_strip_html(pieces: Sequence[str], unknown: Sequence[bool], t: int, radius: int = 6) -> str:
    """HTML of tokens t − radius .. t + radius, the current one highlighted, unknown ones underlined."""
    start, stop = max(0, t - radius), min(len(pieces), t + radius + 1)
    spans = []
    for k in range(start, stop):
        label = html.escape(token_label(pieces[k]))
        style = ("padding:2px 6px;margin:1px;border-radius:4px;font-family:monospace;display:inline-block;"
                 + ("background:#0072B2;color:white;font-weight:bold;" if k == t else "background:#eef1f5;")
                 + ("text-decoration:underline wavy #D55E00;" if k < len(unknown) and unknown[k] else ""))
        hint = "not in the vocabulary: read as &lt;unk&gt;" if k < len(unknown) and unknown[k] else f"t = {k}"
        spans.append(f'<span style="{style}" title="{hint}">{label}</span>')
    before = "… " if start > 0 else ""
    after = " …" if stop < len(pieces) else ""
    return f'<div style="line-height:2.2">{before}{"".join(spans)}{after}</div>'


def signal_and_units(signal: np.ndarray, values: np.ndarray, units: Sequence[int], correlations: Sequence[float],
                     pieces: Sequence[str], signal_name: str, symbol: str) -> go.Figure:
    """The task signal (right axis, grey steps) and the top units' activations (left axis) over the input."""
    steps = np.arange(len(signal))
    fig = go.Figure()
    for k, (unit, r) in enumerate(zip(units, correlations)):
        fig.add_trace(go.Scatter(x=steps, y=values[:, unit], mode="lines", name=f"unit {unit} (r = {r:+.2f})",
                                 line=dict(color=COLORWAY[k % len(COLORWAY)])))
    fig.add_trace(go.Scatter(x=steps, y=signal, mode="lines", name=signal_name, yaxis="y2",
                             line=dict(color="#777777", width=3, shape="hv", dash="dot")))
    if len(pieces) <= MAX_TICK_LABELS:
        fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=[token_label(p) for p in pieces], tickangle=0)
    fig.update_layout(title=dict(text=f"Top units ({symbol}) against the signal", x=0),
                      xaxis_title="step t (token)", yaxis_title=symbol,
                      yaxis2=dict(title=dict(text=signal_name), overlaying="y", side="right", showgrid=False,
                                  tickmode="auto", zeroline=False),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, xanchor="left"))
    return fig
