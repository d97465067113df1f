"""Figures of training: loss and accuracy curves (one run or several overlaid), confusion matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.figures.theme import COLORWAY, SEQUENTIAL

MAX_POINTS = 1500  # per curve: enough for the eye, small enough to redraw every tick


def smooth(values: pd.Series, window: int) -> pd.Series:
    """Centred-free running mean (the last ``window`` steps), as loss curves are noisy."""
    return values.rolling(window, min_periods=1).mean()


def _thinned_rows(n_rows: int, max_points: int) -> np.ndarray:
    """Row positions to draw: every k-th so that at most ``max_points`` are left (and one more, the last row)."""
    stride = max(1, int(np.ceil(n_rows / max_points)))
    rows = np.arange(0, n_rows, stride)
    return rows if rows[-1] == n_rows - 1 else np.append(rows, n_rows - 1)


def _curve_data(frame: pd.DataFrame, metric: str, smoothing: int,
                max_points: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One run's points: the train rows (thinned, with a ``smoothed`` column) and the validation rows."""
    rows = _thinned_rows(len(frame), max_points)
    train = pd.DataFrame({"step": frame["step"].to_numpy()[rows], metric: frame[metric].to_numpy()[rows],
                          "smoothed": smooth(frame[metric], smoothing).to_numpy()[rows]})
    val_col = f"val_{metric}"
    val = frame.loc[frame[val_col].notna(), ["step", val_col]] if val_col in frame else frame.iloc[0:0]
    return train, val


def training_curves(runs: dict[str, pd.DataFrame], metric: str = "loss", smoothing: int = 20,
                    title: str | None = None, max_points: int = MAX_POINTS) -> go.Figure:
    """Train (faint + smoothed) and validation curves of ``metric`` ("loss" or "accuracy") per run.

    ``runs`` maps a run's name to its :meth:`Trainer.metrics_frame`; each train curve has at most ``max_points``.
    """
    fig = go.Figure()
    val_col = f"val_{metric}"
    for i, (name, frame) in enumerate(runs.items()):
        color = COLORWAY[i % len(COLORWAY)]
        if frame.empty:
            continue
        train, val = _curve_data(frame, metric, smoothing, max_points)
        label = name if len(runs) > 1 else "train"
        fig.add_trace(go.Scatter(x=train["step"], y=train[metric], mode="lines", line=dict(color=color, width=1),
                                 opacity=0.25, name=f"{label} (raw)", showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=train["step"], y=train["smoothed"], mode="lines", line=dict(color=color),
                                 name=label, legendgroup=name))
        if not val.empty:
            fig.add_trace(go.Scatter(x=val["step"], y=val[val_col], mode="lines+markers",
                                     line=dict(color=color, dash="dash"), marker=dict(size=6),
                                     name=f"{name} validation" if len(runs) > 1 else "validation",
                                     legendgroup=name))
    nice = {"loss": "Cross-entropy loss", "accuracy": "Accuracy"}.get(metric, metric)
    if len(runs) <= 2:
        # Inside the plot, in the corner the curves leave free (a loss falls, an accuracy rises): above the plot, a
        # half-width figure's legend wraps onto its title.
        corner = dict(y=0.98, yanchor="top") if metric != "accuracy" else dict(y=0.02, yanchor="bottom")
        legend = dict(orientation="v", x=0.99, xanchor="right", **corner)
    else:  # several runs: a row above the plot, which the figure's width gives room to
        legend = dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right")
    fig.update_layout(title=dict(text=title or nice, x=0, xanchor="left"), xaxis_title="step", yaxis_title=nice,
                      legend=legend, uirevision=metric)
    if metric == "accuracy":
        fig.update_yaxes(range=[0, 1.02])
    return fig


def refresh_training_curves(fig: go.Figure, runs: dict[str, pd.DataFrame], metric: str = "loss",
                            smoothing: int = 20, max_points: int = MAX_POINTS) -> go.Figure:
    """Put the runs' points now into ``fig``, made by :func:`training_curves` from the same runs when each had the
    same curves (a validation curve or not): in place, as building it again costs several times more (a live
    figure redrawn every tick). Traces added after those (a marker) are left alone."""
    traces = iter(fig.data)
    val_col = f"val_{metric}"
    for frame in runs.values():
        if frame.empty:
            continue
        train, val = _curve_data(frame, metric, smoothing, max_points)
        raw, smoothed = next(traces), next(traces)
        raw.update(x=train["step"], y=train[metric])
        smoothed.update(x=train["step"], y=train["smoothed"])
        if not val.empty:
            next(traces).update(x=val["step"], y=val[val_col])
    return fig


def confusion_matrix_figure(matrix: np.ndarray, class_names: list[str], title: str = "Confusion matrix") -> go.Figure:
    """Rows: true class; columns: predicted class; cells: counts, coloured by row share."""
    totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
    share = matrix / totals
    text = [[f"{int(c)}<br>{s:.0%}" for c, s in zip(row_c, row_s)] for row_c, row_s in zip(matrix, share)]
    fig = go.Figure(go.Heatmap(z=share, x=class_names, y=class_names, text=text, texttemplate="%{text}",
                               colorscale=SEQUENTIAL, zmin=0, zmax=1, colorbar=dict(title="row share"),
                               hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed")
    return fig
