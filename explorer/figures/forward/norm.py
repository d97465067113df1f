"""Add & Norm: one token's vector through LayerNorm step by step, and which axis LayerNorm and BatchNorm average."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.forward.norm import NormAxes, NormSteps
from explorer.figures.attention import display_tokens
from explorer.figures.theme import COLORWAY, DIVERGING


def norm_steps_figure(steps: NormSteps, token: str, title: str) -> go.Figure:
    """Four panels over the d_model features: x, x − μ, x̂ = (x − μ)/√(σ² + ε), γ ⊙ x̂ + β (RMSNorm: no centring)."""
    rms = steps.kind == "rmsnorm"
    sd = (steps.variance + steps.eps) ** 0.5
    panels = [
        (steps.x, f"x — token {token!r}: μ = {steps.mean:.3f}, σ = {steps.variance ** 0.5:.3f}" if not rms else
         f"x — token {token!r}: rms = {steps.variance ** 0.5:.3f}"),
        (steps.centred, "x − μ  (mean 0)" if not rms else "x  (RMSNorm does not centre)"),
        (steps.normalized, f"x̂ = (x − μ) / √(σ² + ε) = (x − μ) / {sd:.3f}  (variance 1)" if not rms else
         f"x̂ = x / √(mean x² + ε) = x / {sd:.3f}"),
        (steps.output, "γ ⊙ x̂ + β  (learned scale and shift)" if steps.beta is not None else "γ ⊙ x̂  (learned scale)"),
    ]
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[t for _, t in panels])
    dims = np.arange(steps.x.shape[0])
    for row, (values, _title) in enumerate(panels, start=1):
        v = values.numpy()
        fig.add_trace(go.Bar(x=dims, y=v, marker_color=np.where(v >= 0, COLORWAY[3], COLORWAY[0]),
                             hovertemplate="feature %{x}: %{y:.4f}<extra></extra>", showlegend=False),
                      row=row, col=1)
    if steps.recorded is not None:
        fig.add_trace(go.Scatter(x=dims, y=steps.recorded.numpy(), mode="markers", name="the model's own output",
                                 marker=dict(color="#000000", size=3, symbol="circle-open")), row=4, col=1)
    fig.update_xaxes(title_text="feature (dimension of d_model)", row=4, col=1)
    fig.update_layout(title=dict(text=title, x=0), height=760, bargap=0.0,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"))
    return fig


def norm_axes_figure(axes: NormAxes, tokens: Sequence[str], title: str, first_row: int = 0) -> go.Figure:
    """The residual vectors [T × d_model] with the statistics each norm takes: per row (LayerNorm: one token's
    features) on the right, per column (BatchNorm: one feature across the batch's tokens) below."""
    m = axes.matrix.numpy()
    bound = float(np.abs(m).max()) or 1.0
    rows = display_tokens(tokens)
    fig = make_subplots(rows=2, cols=2, column_widths=[0.8, 0.2], row_heights=[0.78, 0.22], shared_yaxes=True,
                        shared_xaxes=True, horizontal_spacing=0.02, vertical_spacing=0.05,
                        subplot_titles=["resid_mid: one row per token", "LayerNorm: μ, σ per token (row)",
                                        "BatchNorm: μ, σ per feature (column, over the tokens)", ""])
    fig.add_trace(go.Heatmap(z=m, y=rows, colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound,
                             colorbar=dict(title="value", x=1.02, len=0.75, y=0.62),
                             customdata=np.arange(first_row, first_row + m.shape[0])[:, None].repeat(m.shape[1], 1),
                             hovertemplate="position %{customdata}: %{y}<br>feature %{x}<br>%{z:.4f}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Bar(y=rows, x=axes.token_mean.numpy(), orientation="h", name="μ (token)",
                         marker_color=COLORWAY[0]), row=1, col=2)
    fig.add_trace(go.Bar(y=rows, x=axes.token_std.numpy(), orientation="h", name="σ (token)",
                         marker_color=COLORWAY[1]), row=1, col=2)
    features = np.arange(m.shape[1])
    fig.add_trace(go.Bar(x=features, y=axes.feature_mean.numpy(), name="μ (feature)", marker_color=COLORWAY[2]),
                  row=2, col=1)
    fig.add_trace(go.Bar(x=features, y=axes.feature_std.numpy(), name="σ (feature)", marker_color=COLORWAY[4]),
                  row=2, col=1)
    fig.update_yaxes(type="category", autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="feature", row=2, col=1)
    fig.update_layout(title=dict(text=title, x=0), height=int(min(950, max(520, 12 * len(rows) + 320))),
                      barmode="group", bargap=0.1,
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=1, xanchor="right"))
    return fig
