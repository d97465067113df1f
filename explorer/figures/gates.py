"""Figures of a recurrent cell's gates: one step (bars per unit, with its equation), the whole sequence
(heatmaps time × units), unit-wise lines and gate saturation histograms.

Built to be redrawn while a student steps through time: :func:`sequence_heatmaps` is built once per recorded
input and layer, :func:`step_figure` once per shape of record (so also across the weights of a run that trains);
:func:`show_step` and :func:`mark_step` then change only the values and the marker in place (assigning arrays is
far cheaper than building a plotly figure: 45 ms for the lecture LSTM's step figure).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.gates import NEAR, GateRecord, Quantity
from explorer.figures.theme import COLORWAY, DIVERGING, SEQUENTIAL, fixed_margins

PREVIOUS_COLOR = "#555555"
MARK_COLOR = "#D55E00"
MAX_TICK_LABELS = 64  # beyond this many tokens the time axis shows indices only
HISTOGRAM_BINS = 40


def token_label(piece: str) -> str:
    """A token as a readable label: visible space and newline marks."""
    return piece.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def value_range(record: GateRecord, layer: int, q: Quantity) -> tuple[float, float]:
    """A fixed axis/colour range for a quantity over the whole input (so stepping does not rescale)."""
    if q.kind == "gate":
        return 0.0, 1.0
    if q.kind == "signed":
        return -1.0, 1.0
    top = float(np.abs(record.series(layer, q.key)).max()) or 1.0
    return -top, top


# ----------------------------------------------------------------------------------------- one step
def step_figure(record: GateRecord, layer: int, columns: int = 1) -> go.Figure:
    """One panel per quantity, bars per unit at step t and dots at t − 1; the panel title is the equation.

    ``columns`` = 2 lays the panels out two by two (the slide theme: a 16:9 slide has room across, not down).
    The figure depends only on the record's shape (cell, units): :func:`show_step` fills in a step of any record of
    that shape, with its value ranges, so a page can keep one figure while the weights under it keep training.
    """
    quantities = record.quantities()
    titles = [f"<b>{q.name}</b>   {q.equation}" for q in quantities]
    n_rows = -(-len(quantities) // columns)
    fig = make_subplots(rows=n_rows, cols=columns, shared_xaxes=True, subplot_titles=titles,
                        vertical_spacing=min(0.08 if columns == 1 else 0.16, 0.3 / max(n_rows, 1) * columns),
                        horizontal_spacing=0.08)
    units = np.arange(record.d_hidden)
    zeros = np.zeros(record.d_hidden, dtype=np.float32)
    dash = 36 if record.d_hidden <= 8 else 16 if record.d_hidden <= 32 else 7  # about a bar's width
    for k, q in enumerate(quantities):
        row, col = k // columns + 1, k % columns + 1
        fig.add_trace(go.Bar(x=units, y=zeros, name="step t", marker_color=COLORWAY[0], legendgroup="t",
                             showlegend=k == 0,
                             hovertemplate=f"unit %{{x}}<br>{q.symbol} = %{{y:.4f}}<extra></extra>"),
                      row=row, col=col)
        fig.add_trace(go.Scatter(x=units, y=zeros, mode="markers", name="step t − 1", legendgroup="prev",
                                 marker=dict(color=PREVIOUS_COLOR, symbol="line-ew-open", size=dash,
                                             line=dict(width=3, color=PREVIOUS_COLOR)),
                                 showlegend=k == 0,
                                 hovertemplate=f"unit %{{x}}<br>{q.symbol} at t−1 = %{{y:.4f}}<extra></extra>"),
                      row=row, col=col)
        fig.update_yaxes(row=row, col=col, title_text=q.symbol, nticks=4 if columns > 1 else None)
    for col in range(1, columns + 1):
        fig.update_xaxes(title_text="unit", row=n_rows, col=col)
    fig.update_xaxes(range=[-0.5, record.d_hidden - 0.5], **({"dtick": 1} if record.d_hidden <= 32 else {}))
    fig.update_layout(height=150 + 140 * n_rows, bargap=0.15,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"))
    fig.update_annotations(x=0, xanchor="left")
    # What plotly's automatic margins settle on for these labels (numbers, a symbol per axis): redrawn each step.
    return fixed_margins(fig, left=70, right=20, top=60, bottom=55)


def show_step(fig: go.Figure, record: GateRecord, layer: int, t: int, token: str) -> go.Figure:
    """Put step ``t``'s values (bars) and step t − 1's (dots; at t = 0 the zero initial state) in place, on axes
    fixed for the whole input (so stepping does not rescale)."""
    with fig.batch_update():
        for k, q in enumerate(record.quantities()):
            fig.data[2 * k].y = record.at(layer, q.key, t)
            prev = record.previous(layer, q.key, t)
            fig.data[2 * k + 1].y = prev if prev is not None else np.full(record.d_hidden, np.nan, np.float32)
            low, high = value_range(record, layer, q)
            fig.layout[fig.data[2 * k].yaxis.replace("y", "yaxis")].range = [low - 0.05 * (high - low),
                                                                             high + 0.05 * (high - low)]
        fig.layout.title = dict(text=f"Step t = {t}: token {token_label(token)!r}  (layer {layer})", x=0,
                                xanchor="left")
    return fig


# ----------------------------------------------------------------------------------------- whole sequence
def _colour_axis(record: GateRecord, layer: int, q: Quantity, quantities: Sequence[Quantity]) -> dict:
    """The colour range of a quantity's heatmap: gates 0..1, tanh range −1..1, the cell state symmetric around 0
    (shared by every state row, so that they compare)."""
    if q.kind == "gate":
        return dict(cmin=0.0, cmax=1.0, colorscale=SEQUENTIAL)
    if q.kind == "signed":
        return dict(cmin=-1.0, cmax=1.0, colorscale=DIVERGING)
    top = max(float(np.abs(record.series(layer, other.key)).max()) for other in quantities if other.kind == "state")
    return dict(cmin=-(top or 1.0), cmax=top or 1.0, colorscale=DIVERGING)


def sequence_heatmaps(record: GateRecord, layer: int, pieces: Sequence[str]) -> go.Figure:
    """Heatmaps time × units, one row per quantity (LSTM fₜ iₜ C̃ₜ Cₜ oₜ hₜ; GRU rₜ zₜ h̃ₜ hₜ; Elman hₜ).

    Units are rows (y), steps are columns (x); each row has its colour bar beside it; :func:`mark_step` draws the
    current step.
    """
    quantities = record.quantities(overview_only=True)
    fig = make_subplots(rows=len(quantities), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[f"<b>{q.symbol}</b> {q.name}" for q in quantities])
    steps = np.arange(record.n_pos)
    labels = [token_label(p) for p in pieces]
    for row, q in enumerate(quantities, start=1):
        z = record.series(layer, q.key).T  # [d_hidden, pos]
        name = "coloraxis" if row == 1 else f"coloraxis{row}"
        fig.add_trace(go.Heatmap(z=z, x=steps, y=np.arange(record.d_hidden), coloraxis=name,
                                 hovertemplate=f"t = %{{x}}<br>unit %{{y}}<br>{q.symbol} = %{{z:.3f}}<extra></extra>"),
                      row=row, col=1)
        fig.update_yaxes(title_text="unit", row=row, col=1)
        low, high = fig.layout[f"yaxis{row if row > 1 else ''}"].domain  # the colour bar spans its own panel
        fig.update_layout({name: dict(**_colour_axis(record, layer, q, quantities), colorbar=dict(
            title=dict(text=q.symbol), y=(low + high) / 2, len=high - low, yanchor="middle", thickness=14))})
    if record.n_pos <= MAX_TICK_LABELS:
        fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=labels, tickangle=0, row=len(quantities), col=1)
    fig.update_xaxes(title_text="step t (token)", row=len(quantities), col=1)
    fig.update_layout(height=120 + 170 * len(quantities), title=dict(text=f"The whole input, layer {layer}", x=0))
    fig.update_annotations(x=0, xanchor="left")
    return fig


def mark_step(fig: go.Figure, t: int) -> go.Figure:
    """Outline step ``t`` across every row of a time-on-x figure (in place)."""
    fig.layout.shapes = [dict(type="rect", xref="x", yref="paper", x0=t - 0.5, x1=t + 0.5, y0=0, y1=1,
                              line=dict(color=MARK_COLOR, width=2), fillcolor="rgba(0,0,0,0)")]
    return fig


def unit_lines(record: GateRecord, layer: int, key: str, units: Sequence[int], pieces: Sequence[str],
               t: int | None = None, symbol: str = "") -> go.Figure:
    """One line per chosen unit: its value of quantity ``key`` over time; step ``t`` marked (see :func:`mark_step`).
    """
    values = record.series(layer, key)  # [pos, d_hidden]
    steps = np.arange(record.n_pos)
    labels = [token_label(p) for p in pieces]
    fig = go.Figure()
    for k, unit in enumerate(units):
        fig.add_trace(go.Scatter(x=steps, y=values[:, unit], mode="lines+markers", name=f"unit {unit}",
                                 line=dict(color=COLORWAY[k % len(COLORWAY)]), marker=dict(size=4),
                                 customdata=labels, hovertemplate=f"t = %{{x}} (%{{customdata}})<br>unit {unit}: "
                                                                  "%{y:.3f}<extra></extra>"))
    if t is not None:
        mark_step(fig, t)
    if record.n_pos <= MAX_TICK_LABELS:
        fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=labels, tickangle=0)
    fig.update_layout(title=dict(text=f"{symbol or key} of chosen units, layer {layer}", x=0),
                      xaxis_title="step t (token)", yaxis_title=symbol or key)
    return fig


def saturation_figure(record: GateRecord, layer: int, near: float = NEAR) -> go.Figure:
    """Histograms of every sigmoid gate's values (all steps and units); bands mark "near 0" and "near 1".

    Counted here (40 bins of width 0.025), so the figure carries 40 numbers per gate, not every value.
    """
    fig = go.Figure()
    gates = [q for q in record.quantities() if q.kind == "gate" and q.overview]
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    for k, q in enumerate(gates):
        values = record.series(layer, q.key).ravel()
        counts, _ = np.histogram(values, bins=edges)
        share = counts / max(values.size, 1)
        fig.add_trace(go.Bar(x=centres, y=share, width=edges[1] - edges[0], name=f"{q.symbol} {q.name}", opacity=0.6,
                             marker_color=COLORWAY[k % len(COLORWAY)],
                             hovertemplate="%{x:.3f}: %{y:.1%}<extra>" + q.symbol + "</extra>"))
    fig.add_vrect(x0=0, x1=near, fillcolor="#999999", opacity=0.15, line_width=0, annotation_text="near 0",
                  annotation_position="top left")
    fig.add_vrect(x0=1 - near, x1=1, fillcolor="#999999", opacity=0.15, line_width=0, annotation_text="near 1",
                  annotation_position="top right")
    fig.update_layout(barmode="overlay", title=dict(text=f"Gate saturation, layer {layer}", x=0),
                      xaxis_title="gate value", yaxis_title="share of (step, unit) values",
                      # inside, over the middle of the range, where a saturated gate has few values (above the
                      # plot, in the page's 3/5 column, the row of gates wrapped onto the title)
                      legend=dict(orientation="v", yanchor="top", y=0.98, x=0.5, xanchor="center"))
    fig.update_xaxes(range=[0, 1])
    return fig
