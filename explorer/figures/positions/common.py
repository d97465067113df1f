"""Shared by the position figures: the legend placement, one colour per encoding variant, small helpers."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from explorer.figures.theme import COLORWAY

LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.22, x=0)  # clear of the left-aligned title


VARIANT_COLOURS = {"none": COLORWAY[7], "sinusoidal": COLORWAY[0], "learned": COLORWAY[1], "rotary": COLORWAY[2]}


def left_title(fig: go.Figure, text: str) -> go.Figure:
    fig.update_layout(title=dict(text=text, x=0, xanchor="left"))
    return fig


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """float32 on purpose: half the bytes sent to the browser (a 512 × 384 table), more digits than any hover shows."""
    return x.detach().float().cpu().numpy()
