"""The walk as one diagram: every step from X to the next token, in the decks' notation, with the real shapes.

Two columns of boxes (attention on the left; add, norm, feed-forward and the output on the right), each arrow
labelled with the operation. The numbers are the chosen model's: T tokens, d_model, d_head, n_heads…
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import plotly.graph_objects as go

from explorer.analysis.forward.anatomy import Anatomy
from explorer.figures.theme import COLORWAY

BOX_W, BOX_H = 4.2, 0.78


@dataclass(frozen=True)
class Box:
    x: float  # centre
    y: float
    text: str
    shape: str
    color: str


def _boxes(shape: Anatomy, T: int, layer: int, head: int, kv_head: int, scale: float) -> list[Box]:
    d, dh, h = shape.d_model, shape.d_head, shape.n_heads
    blue, green, orange, purple, grey = COLORWAY[5], COLORWAY[2], COLORWAY[1], COLORWAY[4], "#9e9e9e"
    x_in = "LN1(resid_pre)" if not shape.post_ln and shape.norm != "none" else "resid_pre"
    kv = f" · K, V: shared head {kv_head} of {shape.n_kv_heads}" if shape.group_size > 1 else ""
    rope = " · Q, K rotated by position (RoPE)" if shape.rotary else ""
    mask = "mask: −∞ above the diagonal (a decoder sees keys ≤ i)" if shape.causal else "no mask (an encoder sees all)"
    left, right = 2.5, 7.5
    boxes = [
        Box(left, 9.2, f"X = {x_in}   (layer {layer})", f"[T × d_model] = [{T} × {d}]", grey),
        Box(left, 8.0, f"Q = X W_Q,  K = X W_K,  V = X W_V   (head {head})", f"[T × d_head] = [{T} × {dh}] each"
            + kv + rope, blue),
        Box(left, 6.8, "S = Q Kᵀ", f"[T × T] = [{T} × {T}]", blue),
        Box(left, 5.6, f"S / √d_k  = S / {1 / scale:.4g}" if abs(scale * dh ** 0.5 - 1) < 1e-6 else
            f"S × {scale:.4g}  (this model's own scale)", f"[{T} × {T}]", blue),
        Box(left, 4.4, mask, f"[{T} × {T}]", blue),
        Box(left, 3.2, "A = softmax(QKᵀ / √d_k), row by row", f"[{T} × {T}], each row sums to 1", green),
        Box(left, 2.0, "H = A V", f"[T × d_head] = [{T} × {dh}]", green),
        Box(right, 9.2, f"Z = Concat(H_0 … H_{h - 1})", f"[T × n_heads·d_head] = [{T} × {h * dh}]", green),
        Box(right, 8.0, "Z W_O + b_O", f"[{T} × {h * dh}] · [{h * dh} × {d}] → [{T} × {d}]", orange),
        Box(right, 6.8, "Add: resid_mid = resid_pre + Z W_O", f"[{T} × {d}]", orange),
    ]
    norm = "RMSNorm" if shape.norm == "rmsnorm" else "LayerNorm"
    if shape.norm == "none":
        boxes.append(Box(right, 5.6, "(no LayerNorm in this model)", f"[{T} × {d}]", grey))
    elif shape.post_ln:
        boxes.append(Box(right, 5.6, f"Norm: x = LN1(resid_mid)  ({norm} per token, post-LN)", f"[{T} × {d}]", purple))
    else:
        boxes.append(Box(right, 5.6, f"Norm: LN2(resid_mid) → FFN  ({norm} per token, pre-LN)", f"[{T} × {d}]",
                         purple))
    if shape.d_mlp is None:
        boxes.append(Box(right, 4.4, "(attention only: no feed-forward layer)", "", grey))
    else:
        act = "max(0, ·)" if shape.act_fn == "relu" else "SiLU" if shape.act_fn in ("silu", "swish") else "GELU"
        ffn = f"W₂ ({act}(x W_gate) ⊙ x W₁)" if shape.gated_mlp else f"{act}(x W₁ + b₁) W₂ + b₂"
        add = "Add & Norm: LN2(x + FFN(x))" if shape.post_ln else "x + FFN(LN2(x))"
        boxes.append(Box(right, 4.4, f"FFN = {ffn};  {add}", f"[{T} × {d}] → [{T} × {shape.d_mlp}] → [{T} × {d}]",
                         orange))
    boxes.append(Box(right, 3.2, f"… × {shape.n_layers} layers", f"[{T} × {d}]", grey))
    if shape.decoder_lm:
        final = "logits = LN_final(x) W_U" if not shape.post_ln and shape.norm != "none" else "logits = x W_U"
        boxes.append(Box(right, 2.0, f"{final} → softmax → next token", f"[T × d_vocab] = [{T} × {shape.d_vocab}]",
                         COLORWAY[3]))
    else:
        boxes.append(Box(right, 2.0, "contextual vectors (an encoder: pooled or read per token)", f"[{T} × {d}]",
                         COLORWAY[3]))
    return boxes


def walk_figure(shape: Anatomy, T: int, layer: int, head: int, kv_head: int, scale: float,
                title: str = "One forward pass, with shapes") -> go.Figure:
    """The diagram for ``shape`` on an input of ``T`` tokens, showing layer ``layer``, head ``head``."""
    boxes = _boxes(shape, T, layer, head, kv_head, scale)
    fig = go.Figure()
    shapes, annotations = [], []
    for box in boxes:
        shapes.append(dict(type="rect", x0=box.x - BOX_W / 2, x1=box.x + BOX_W / 2, y0=box.y - BOX_H / 2,
                           y1=box.y + BOX_H / 2, line=dict(color=box.color, width=2), fillcolor=box.color,
                           opacity=0.18, layer="below"))
        annotations.append(dict(x=box.x, y=box.y + 0.13, text=f"<b>{box.text}</b>", showarrow=False,
                                font=dict(size=12)))
        annotations.append(dict(x=box.x, y=box.y - 0.2, text=box.shape, showarrow=False,
                                font=dict(size=11, color="#444444")))
    for a, b in itertools.pairwise(boxes):
        if a.x == b.x:
            annotations.append(dict(x=b.x, y=b.y + BOX_H / 2, ax=a.x, ay=a.y - BOX_H / 2, xref="x", yref="y",
                                    axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=1.5, text=""))
        else:  # from the bottom of the left column to the top of the right one
            annotations.append(dict(x=b.x - BOX_W / 2, y=b.y, ax=a.x + BOX_W / 2, ay=a.y, xref="x", yref="y",
                                    axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=1.5, text=""))
    # Every step is a real tensor of the model: the legend of the colours
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False))
    fig.update_layout(title=dict(text=title, x=0), shapes=shapes, annotations=annotations, height=620,
                      xaxis=dict(visible=False, range=[0, 10]), yaxis=dict(visible=False, range=[1.3, 9.8]),
                      plot_bgcolor="#ffffff", margin=dict(l=10, r=10, t=50, b=10))
    return fig
