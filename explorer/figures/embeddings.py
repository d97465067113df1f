"""Figures of embeddings: projected points (2-D/3-D, animated over training snapshots), one panel per layer,
separation per layer, nearest-neighbour bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from explorer.figures.theme import COLORWAY, SEQUENTIAL

PALETTE = COLORWAY + [c for c in qualitative.Dark24 + qualitative.Alphabet if c not in COLORWAY]
MAX_TEXT_LABELS = 120  # write labels next to the points up to this many; beyond, labels show on hover
HOVER_COLUMNS = 4  # extra frame columns shown on hover


def _categories(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if (values == c).any()]
    return sorted(values.dropna().unique().tolist(), key=str)


def _hover(frame: pd.DataFrame, color: str) -> tuple[np.ndarray, str]:
    extra = [c for c in frame.columns if c not in ("label", color)][:HOVER_COLUMNS]
    columns = ["label", color, *extra]
    data = frame[columns].astype(str).to_numpy()
    lines = ["<b>%{customdata[0]}</b>", f"{color}: %{{customdata[1]}}"]
    lines += [f"{name}: %{{customdata[{i + 2}]}}" for i, name in enumerate(extra)]
    return data, "<br>".join(lines) + "<extra></extra>"


LABEL_SPACING = 0.045  # written labels keep this share of the plot's extent apart (the rest show on hover)


def spaced_labels(coords: np.ndarray, min_distance: float = LABEL_SPACING) -> np.ndarray:
    """Which points get a written label so that no two written labels crowd each other: greedily, in order, a
    point is labelled when no labelled point lies within ``min_distance`` of the plot's extent (2-D)."""
    if len(coords) == 0:
        return np.zeros(0, dtype=bool)
    xy = coords[:, :2].astype(np.float64)
    extent = np.maximum(xy.max(axis=0) - xy.min(axis=0), 1e-12)
    scaled = (xy - xy.min(axis=0)) / extent  # [n, 2] in the unit square
    keep = np.zeros(len(xy), dtype=bool)
    kept: list[np.ndarray] = []
    for i, point in enumerate(scaled):
        if not kept or np.min(np.abs(np.stack(kept) - point).max(axis=1)) >= min_distance:
            keep[i] = True
            kept.append(point)
    return keep


def _traces(frame: pd.DataFrame, coords: np.ndarray, color: str, numeric: bool, text: bool) -> list:
    """Scatter traces: one per category (a legend), or one with a colour scale for a numeric column."""
    three_d = coords.shape[1] == 3
    custom, template = _hover(frame, color)
    mode = "markers+text" if text else "markers"
    written = np.where(spaced_labels(coords) | three_d, frame["label"].to_numpy(), "") if text else None

    def trace(mask: np.ndarray, name: str, marker: dict, showlegend: bool) -> go.BaseTraceType:
        xyz = {"x": coords[mask, 0], "y": coords[mask, 1]}
        labels = written[mask] if text else None
        common = dict(mode=mode, name=name, marker=marker, customdata=custom[mask], hovertemplate=template,
                      text=labels, showlegend=showlegend)
        if three_d:
            return go.Scatter3d(**xyz, z=coords[mask, 2], **common)
        return go.Scatter(**xyz, textposition="top center", **common)

    if numeric:
        values = frame[color].to_numpy(dtype=float)
        marker = dict(color=values, colorscale=SEQUENTIAL, showscale=True, colorbar=dict(title=dict(text=color)),
                      size=5 if three_d else 8, line=dict(width=0))
        return [trace(np.ones(len(frame), dtype=bool), color, marker, False)]
    traces = []
    values = frame[color]
    for i, category in enumerate(_categories(values)):
        mask = (values == category).to_numpy()
        marker = dict(color=PALETTE[i % len(PALETTE)], size=5 if three_d else 8, line=dict(width=0))
        traces.append(trace(mask, str(category), marker, True))
    return traces


def _axes(fig: go.Figure, axis_titles: list[str], ranges: list | None = None) -> None:
    if len(axis_titles) == 3:
        scene = {f"{a}axis": dict(title=dict(text=t)) for a, t in zip("xyz", axis_titles)}
        if ranges:
            for a, r in zip("xyz", ranges):
                scene[f"{a}axis"]["range"] = r
        fig.update_layout(scene=scene)
        return
    fig.update_xaxes(title_text=axis_titles[0], zeroline=False, range=ranges[0] if ranges else None)
    fig.update_yaxes(title_text=axis_titles[1], zeroline=False, range=ranges[1] if ranges else None)


def projection_figure(frame: pd.DataFrame, coords: np.ndarray, axis_titles: list[str], color: str, title: str,
                      numeric: bool = False, text: bool | None = None) -> go.Figure:
    """Projected points ``coords`` [n, 2|3], one row of ``frame`` each (``label`` and the ``color`` column)."""
    text = len(frame) <= MAX_TEXT_LABELS if text is None else text
    fig = go.Figure(_traces(frame, coords, color, numeric, text))
    _axes(fig, axis_titles)
    fig.update_layout(title=dict(text=title), legend=dict(title=dict(text=color), itemsizing="constant"))
    return fig


def _padded_range(values: np.ndarray) -> list[float]:
    low, high = float(np.min(values)), float(np.max(values))
    pad = 0.08 * (high - low or 1.0)
    return [low - pad, high + pad]


def snapshot_figure(frame: pd.DataFrame, layouts: list[tuple[int, np.ndarray]], active: int, axis_titles: list[str],
                    color: str, title: str, numeric: bool = False, text: bool | None = None) -> go.Figure:
    """The same points at several training steps: shows step ``layouts[active]``, with a ▶ button and a slider
    that animate through the steps on fixed axes (the layouts should already be aligned)."""
    text = len(frame) <= MAX_TEXT_LABELS if text is None else text
    step, coords = layouts[active]
    fig = projection_figure(frame, coords, axis_titles, color, f"{title} · step {step:,}", numeric, text)
    if len(layouts) < 2:
        return fig
    stacked = np.concatenate([c for _, c in layouts])  # [steps * n, k]
    ranges = [_padded_range(stacked[:, i]) for i in range(stacked.shape[1])]
    _axes(fig, axis_titles, ranges)
    fig.frames = [go.Frame(data=_traces(frame, c, color, numeric, text), name=str(s),
                           layout=dict(title=dict(text=f"{title} · step {s:,}"))) for s, c in layouts]
    duration = 400 if stacked.shape[1] == 2 else 0
    play = dict(frame=dict(duration=max(duration, 300), redraw=stacked.shape[1] == 3),
                transition=dict(duration=duration), fromcurrent=True, mode="immediate")
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.2, xanchor="left", yanchor="top",
                          showactive=False, buttons=[
                              dict(label="▶ Play", method="animate", args=[None, play]),
                              dict(label="Pause", method="animate",
                                   args=[[None], dict(mode="immediate", frame=dict(duration=0))])])],
        sliders=[dict(active=active, x=0.14, len=0.86, y=-0.2, yanchor="top",
                      currentvalue=dict(prefix="step ", visible=False), pad=dict(t=0),
                      steps=[dict(label=f"{s:,}", method="animate",
                                  args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                       transition=dict(duration=0))]) for s, _ in layouts])],
        margin=dict(b=170), height=640)
    return fig


def layer_panels(layers: list[str], layouts: list[np.ndarray], frame: pd.DataFrame, color: str, title: str,
                 scores: list[float] | None = None) -> go.Figure:
    """One 2-D panel per layer (each its own PCA), the same points coloured by ``color`` (e.g. sense)."""
    n = len(layers)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    names = [f"{name}" + (f" · silhouette {s:.2f}" if scores is not None and np.isfinite(s) else "")
             for name, s in zip(layers, scores or [np.nan] * n)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names, horizontal_spacing=0.04, vertical_spacing=0.12)
    categories = _categories(frame[color])
    custom = frame[["label", color]].astype(str).to_numpy()
    for i, coords in enumerate(layouts):
        r, c = i // cols + 1, i % cols + 1
        for j, category in enumerate(categories):
            mask = (frame[color] == category).to_numpy()
            fig.add_trace(go.Scatter(x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=str(category),
                                     legendgroup=str(category), showlegend=i == 0,
                                     marker=dict(color=PALETTE[j % len(PALETTE)], size=9),
                                     customdata=custom[mask],
                                     hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[0]}<extra></extra>"),
                          row=r, col=c)
    fig.update_xaxes(showticklabels=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, zeroline=False)
    fig.update_layout(title=dict(text=title), legend=dict(title=dict(text=color)), height=260 * rows + 120)
    return fig


def separation_figure(scores: pd.DataFrame, title: str) -> go.Figure:
    """Silhouette and within − between cosine per layer (``scores`` from ``separation_by_layer``)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=scores["layer"], y=scores["silhouette"], mode="lines+markers",
                             name="silhouette (cosine)", line=dict(color=COLORWAY[0])))
    fig.add_trace(go.Scatter(x=scores["layer"], y=scores["within − between"], mode="lines+markers",
                             name="within − between mean cosine", line=dict(color=COLORWAY[1], dash="dash")))
    fig.add_hline(y=0, line=dict(color="#999999", width=1))
    fig.update_layout(title=dict(text=title), xaxis_title="depth (the state after…)",
                      yaxis_title="separation of the senses (higher = more separate)")
    return fig


def neighbour_figure(table: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal bars of cosine similarity, best at the top (``table`` has ``word`` and ``cosine``)."""
    ordered = table.iloc[::-1]
    fig = go.Figure(go.Bar(x=ordered["cosine"], y=ordered["word"], orientation="h", marker_color=COLORWAY[0],
                           text=[f"{v:.3f}" for v in ordered["cosine"]], textposition="outside",
                           hovertemplate="%{y}: cosine %{x:.3f}<extra></extra>"))
    low = min(0.0, float(table["cosine"].min())) if len(table) else 0.0
    fig.update_layout(title=dict(text=title), xaxis=dict(title="cosine similarity", range=[low * 1.1, 1.12]),
                      yaxis=dict(title=None, type="category"), height=max(260, 28 * len(table) + 120))
    return fig
