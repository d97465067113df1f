"""The next-token distribution as bars (the rest summed), beam-search results, and zero- vs few-shot answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.analysis.decoding import Distribution
from explorer.figures.theme import COLORWAY

REMOVED = "#c7c7c7"


def _label(text: str) -> str:
    shown = text.replace("\n", "↵").replace("\t", "⇥")
    return repr(shown) if shown.strip() else "␣" * max(1, len(shown))


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        count = seen.get(label, 0)
        seen[label] = count + 1
        out.append(label + "\u200b" * count)
    return out


def next_token_figure(dist: Distribution, decode: Callable[[int], str], title: str, n_shown: int = 20) -> go.Figure:
    """The ``n_shown`` most likely tokens under the model (fixed order, so the bars reshape in place as the sliders
    move), the rest summed in one bar. Bars: the distribution sampling draws from; open markers: the model's own
    softmax(logits); grey: tokens top-k / top-p leave out."""
    order = dist.probs.topk(min(n_shown, dist.probs.numel())).indices
    ids = order.tolist()
    labels = [*_unique([_label(decode(i)) for i in ids]), "(all the rest)"]
    shown = dist.reshaped[order].numpy()
    model = dist.probs[order].numpy()
    kept = dist.kept[order].numpy()
    rest_shown = max(0.0, 1.0 - float(shown.sum()))
    rest_model = max(0.0, 1.0 - float(model.sum()))
    n_rest = dist.probs.numel() - len(ids)
    colors = [COLORWAY[0] if k else REMOVED for k in kept] + [COLORWAY[7] if rest_shown > 0 else REMOVED]
    setting = f"T = {dist.temperature:g}" + (f", top-k {dist.top_k}" if dist.top_k else "") + \
        (f", top-p {dist.top_p:g}" if dist.top_p < 1 else "")
    fig = go.Figure([
        go.Bar(x=labels, y=np.append(shown, rest_shown), marker_color=colors, name=f"sampled from ({setting})",
               customdata=[*ids, n_rest], hovertemplate="%{x} (id %{customdata})<br>p = %{y:.4f}<extra></extra>"),
        go.Scatter(x=labels, y=np.append(model, rest_model), mode="markers", name="the model: softmax(logits)",
                   marker=dict(symbol="line-ew-open", size=22, color=COLORWAY[3], line=dict(width=3)),
                   hovertemplate="%{x}<br>model p = %{y:.4f}<extra></extra>"),
    ])
    top = max(float(np.max(np.append(shown, rest_shown))), float(np.max(np.append(model, rest_model))))
    fig.update_layout(title=dict(text=title, x=0), height=440, yaxis=dict(title="probability", range=[0, top * 1.1]),
                      xaxis=dict(type="category", tickangle=-45, title=f"next token (the last bar: {n_rest:,} others)"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"), bargap=0.2)
    return fig


def beams_figure(texts: Sequence[str], scores: Sequence[float], finished: Sequence[bool], title: str) -> go.Figure:
    """The n best hypotheses of beam search, best at the top, by summed log-probability."""
    labels = _unique([t if len(t) <= 60 else t[:59] + "…" for t in texts])
    colors = [COLORWAY[2] if f else COLORWAY[0] for f in finished]
    fig = go.Figure(go.Bar(y=labels, x=list(scores), orientation="h", marker_color=colors,
                           customdata=["ended with the stop token" if f else "reached the length limit"
                                       for f in finished],
                           hovertemplate="%{y}<br>log p = %{x:.3f}<br>%{customdata}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0), height=max(260, 60 + 38 * len(labels)),
                      xaxis=dict(title="score: Σ log p(token) (closer to 0 is more likely)"),
                      yaxis=dict(type="category", autorange="reversed"))
    return fig


def prompts_figure(candidates: Sequence[str], columns: dict[str, Sequence[float]], title: str) -> go.Figure:
    """Grouped bars: the probability of each candidate answer under each prompt (zero-shot, few-shot…)."""
    labels = [_label(c) for c in candidates]
    fig = go.Figure([go.Bar(x=labels, y=list(values), name=name, marker_color=COLORWAY[i % len(COLORWAY)],
                            hovertemplate=f"{name}<br>%{{x}}: %{{y:.4f}}<extra></extra>")
                     for i, (name, values) in enumerate(columns.items())])
    fig.update_layout(title=dict(text=title, x=0), barmode="group", height=380,
                      yaxis=dict(title="p(answer | prompt)", range=[0, 1.02]), xaxis=dict(title="answer"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig
