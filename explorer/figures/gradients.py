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


def gradients_over_training_figure(frame: pd.DataFrame, title: str = "‖∂L/∂hₜ‖ at each training snapshot"
                                   ) -> go.Figure:
    """Heatmap: training step (y) × input step t (x), coloured by log₁₀ ‖∂L/∂hₜ‖."""
    values = frame.to_numpy(dtype=float)  # [n_snapshots, pos]
    with np.errstate(divide="ignore"):
        logs = np.log10(np.where(values > 0, values, np.nan))
    fig = go.Figure(go.Heatmap(z=logs, x=np.arange(values.shape[1]), y=[str(s) for s in frame.index],
                               colorscale=SEQUENTIAL, colorbar=dict(title=dict(text="log₁₀ ‖∂L/∂hₜ‖")),
                               hovertemplate="training step %{y}<br>t = %{x}<br>log₁₀ norm %{z:.2f}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0), xaxis_title="step t of the input",
                      yaxis_title="training step", yaxis_type="category")
    return fig
