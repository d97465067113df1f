"""Figures of vanishing and exploding gradients: ‖∂L/∂hₜ‖ over t, W_hh's eigenvalues against the unit
circle, the spectral radius during training, and the gradient curve at every training snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.analysis.gradients import Spectrum
from explorer.figures.theme import COLORWAY, SEQUENTIAL

CELL_COLORS = {"rnn": COLORWAY[3], "gru": COLORWAY[2], "lstm": COLORWAY[0]}


def gradient_curves(curves: dict[str, np.ndarray], colors: dict[str, str] | None = None, relative: bool = True,
                    title: str = "How much gradient reaches each step") -> go.Figure:
    """One line per model: ‖∂L/∂hₜ‖ against t on a log scale (``relative``: divided by the last step's).

    Exact zeros (no path from hₜ to the loss, e.g. a ReLU head that is off) cannot sit on a log axis: they
    are left out of the line, and a curve that is zero everywhere is named in the legend as such.
    """
    fig = go.Figure()
    for k, (name, norms) in enumerate(curves.items()):
        y = norms / (norms[-1] if relative and len(norms) and norms[-1] > 0 else 1.0)
        y = np.where(y > 0, y, np.nan)
        label = name if np.isfinite(y).any() else f"{name} (zero everywhere)"
        color = (colors or {}).get(name, COLORWAY[k % len(COLORWAY)])
        fig.add_trace(go.Scatter(x=np.arange(len(y)), y=y, mode="lines+markers", name=label,
                                 line=dict(color=color), marker=dict(size=5),
                                 hovertemplate="t = %{x}<br>%{y:.3g}<extra>" + name + "</extra>"))
    fig.update_yaxes(type="log", exponentformat="power")
    label = "‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖" if relative else "‖∂L/∂hₜ‖"
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="step t (the loss is at the last step)",
                      yaxis_title=label, legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"))
    return fig


def eigenvalue_figure(spectra: list[Spectrum], title: str = "Eigenvalues of W_hh") -> go.Figure:
    """Eigenvalues in the complex plane, one colour per gate block, with the unit circle (|λ| = 1)."""
    angle = np.linspace(0, 2 * np.pi, 200)
    fig = go.Figure(go.Scatter(x=np.cos(angle), y=np.sin(angle), mode="lines", name="unit circle |λ| = 1",
                               line=dict(color="#000000", dash="dash", width=1), hoverinfo="skip"))
    for k, spec in enumerate(spectra):
        color = COLORWAY[k % len(COLORWAY)]
        eig = spec.eigenvalues
        fig.add_trace(go.Scatter(x=eig.real, y=eig.imag, mode="markers", name=f"{spec.label}: ρ = {spec.radius:.2f}",
                                 marker=dict(color=color, size=7, opacity=0.8),
                                 hovertemplate="λ = %{x:.3f} %{y:+.3f}i<extra>" + spec.block + "</extra>"))
    if len(spectra) == 1 and spectra[0].radius > 0:  # an Elman RNN: its spectral radius as a circle too
        rho = spectra[0].radius
        fig.add_trace(go.Scatter(x=rho * np.cos(angle), y=rho * np.sin(angle), mode="lines",
                                 name=f"spectral radius ρ = {rho:.2f}", hoverinfo="skip",
                                 line=dict(color=COLORWAY[0], dash="dot", width=1)))
    reach = max([1.05] + [spec.radius * 1.05 for spec in spectra])
    fig.update_xaxes(range=[-reach, reach], title_text="Re λ", zeroline=True, constrain="domain")
    fig.update_yaxes(range=[-reach, reach], title_text="Im λ", scaleanchor="x", scaleratio=1, zeroline=True,
                     constrain="domain")
    fig.update_layout(title=dict(text=title, x=0), height=620,
                      legend=dict(orientation="h", yanchor="top", y=-0.15, x=0, xanchor="left"))
    return fig


def radius_history_figure(frame: pd.DataFrame, marked_step: int | None = None,
                          title: str = "Spectral radius of W_hh during training") -> go.Figure:
    """Spectral radius of each block against the training step; the dashed line is ρ = 1."""
    fig = go.Figure()
    for k, (label, rows) in enumerate(frame.groupby("label", sort=False)):
        fig.add_trace(go.Scatter(x=rows["step"], y=rows["radius"], mode="lines+markers", name=label,
                                 line=dict(color=COLORWAY[k % len(COLORWAY)])))
    fig.add_hline(y=1.0, line=dict(color="#000000", dash="dash", width=1))
    if marked_step is not None:
        fig.add_vline(x=marked_step, line=dict(color="#D55E00", dash="dot", width=2))
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="training step", yaxis_title="spectral radius ρ",
                      height=620, legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"))
    return fig


def gradients_over_training_figure(frame: pd.DataFrame, title: str = "‖∂L/∂hₜ‖ at each training snapshot",
                                   value: str = "log₁₀ ‖∂L/∂hₜ‖") -> go.Figure:
    """Heatmap: training step (y) × input step t (x), coloured by the log₁₀ of the frame's values (``value``
    names them); cells that are exactly 0 or missing stay empty."""
    values = frame.to_numpy(dtype=float)  # [n_snapshots, pos]
    with np.errstate(divide="ignore"):
        logs = np.log10(np.where(values > 0, values, np.nan))
    fig = go.Figure(go.Heatmap(z=logs, x=np.arange(values.shape[1]), y=[str(s) for s in frame.index],
                               colorscale=SEQUENTIAL, colorbar=dict(title=dict(text=value)),
                               hovertemplate="training step %{y}<br>t = %{x}<br>" + value + " %{z:.2f}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="step t of the input",
                      yaxis_title="training step", yaxis_type="category")
    return fig


def share_history_figure(frames: dict[str, pd.DataFrame], colors: dict[str, str] | None = None,
                         marked_step: int | None = None,
                         title: str = "Share of the gradient reaching t = 0, over training") -> go.Figure:
    """One line per model: the averaged share at t = 0 (log scale) at each kept training step; ``frames`` come from
    :func:`explorer.analysis.gradient_flow.first_step_over_training`."""
    fig = go.Figure()
    for k, (name, frame) in enumerate(frames.items()):
        color = (colors or {}).get(name, COLORWAY[k % len(COLORWAY)])
        fig.add_trace(go.Scatter(x=frame["step"], y=frame["share at t = 0"], mode="lines+markers", name=name,
                                 line=dict(color=color), customdata=frame[["mean loss"]].to_numpy(),
                                 hovertemplate="step %{x}<br>share %{y:.2e}<br>mean loss %{customdata[0]:.3g}"
                                               "<extra>" + name + "</extra>"))
    if marked_step is not None:
        fig.add_vline(x=marked_step, line=dict(color="#000000", dash="dot", width=2))
    fig.update_yaxes(type="log", exponentformat="power", title_text="‖∂L/∂h₀‖ ÷ ‖∂L/∂h_last‖ (geometric mean)")
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="training step",
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"))
    return fig


def distance_figure(curves: dict[str, np.ndarray], colors: dict[str, str] | None = None,
                    title: str = "‖∂L/∂xₜ‖ by distance from the output") -> go.Figure:
    """One line per model: the (averaged) share of the gradient reaching the input embedding d steps back from
    the last input (d = 0: the last), log scale."""
    fig = go.Figure()
    for k, (name, shares) in enumerate(curves.items()):
        y = np.where(shares > 0, shares, np.nan)
        fig.add_trace(go.Scatter(x=np.arange(len(y)), y=y, mode="lines+markers", name=name, marker=dict(size=5),
                                 line=dict(color=(colors or {}).get(name, COLORWAY[k % len(COLORWAY)])),
                                 hovertemplate="d = %{x} steps back<br>%{y:.3g}<extra>" + name + "</extra>"))
    fig.update_yaxes(type="log", exponentformat="power", title_text="‖∂L/∂xₜ‖ ÷ ‖∂L/∂x_last‖ (geometric mean)")
    fig.update_layout(title=dict(text=title, x=0),
                      xaxis_title="distance d = T − 1 − t (steps back from the last input)",
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"))
    return fig


def clipping_figure(frames: dict[str, pd.DataFrame], clip: float | None = None,
                    title: str = "Gradient norm and validation accuracy, with and without clipping") -> go.Figure:
    """Two panels sharing the step axis: the gradient norm of every update (before clipping, log scale) and the
    validation accuracy. ``frames``: each run's :meth:`Trainer.metrics_frame`."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=("‖ĝ‖ of each update (before clipping)", "validation accuracy"))
    for k, (name, frame) in enumerate(frames.items()):
        color = COLORWAY[(3, 0, 2, 1)[k % 4]]
        fig.add_trace(go.Scatter(x=frame["step"], y=frame["grad_norm"], mode="lines", name=name, legendgroup=name,
                                 line=dict(color=color, width=1.5),
                                 hovertemplate="step %{x}<br>‖ĝ‖ %{y:.3g}<extra>" + name + "</extra>"), row=1, col=1)
        val = frame.dropna(subset=["val_accuracy"])
        fig.add_trace(go.Scatter(x=val["step"], y=val["val_accuracy"], mode="lines+markers", name=name,
                                 legendgroup=name, showlegend=False, line=dict(color=color),
                                 hovertemplate="step %{x}<br>%{y:.0%}<extra>" + name + "</extra>"), row=2, col=1)
    if clip is not None:
        fig.add_hline(y=clip, line=dict(color="#000000", dash="dot", width=1), row=1, col=1,
                      annotation_text=f"clip at {clip:g}", annotation_position="bottom right")
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=2, col=1)
    fig.update_xaxes(title_text="training step", row=2, col=1)
    fig.update_layout(title=dict(text=title, x=0), height=620,
                      legend=dict(orientation="h", yanchor="bottom", y=1.04, x=1, xanchor="right"))
    return fig
