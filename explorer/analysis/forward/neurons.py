"""The feed-forward layer's neurons: which fire for which tokens.

Per position, FFN(x) = act(x W₁ + b₁) W₂ + b₂ (the decks: max(0, XW₁ + B₁)W₂ + B₂ with ReLU; the app's models use
GELU or ReLU; SmolLM2's SwiGLU is W₂ (SiLU(x W_gate) ⊙ x W₁)). Neuron j's activation at a position is column j of
the hidden layer [T × d_mlp] (``mlp.hook_post``, what W₂ reads); its row of W₂ is what it writes into the residual
stream when it fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from explorer.analysis.forward.anatomy import stack_blocks
from explorer.analysis.forward.record import LayerRecord


@dataclass
class Neurons:
    """The hidden layer of one block's feed-forward layer on one input."""

    pre: torch.Tensor  # [T, d_mlp] the activation function's input (x W₁ + b₁; gated: x W_gate)
    post: torch.Tensor  # [T, d_mlp] what W₂ reads
    out: torch.Tensor  # [T, d_model] the layer's output, recomputed: post W₂ + b₂
    recorded_out: torch.Tensor  # [T, d_model] the model's hook_mlp_out
    formula: str


def neurons(model: Any, record: LayerRecord) -> Neurons:
    """The recorded block's feed-forward activations (raises ValueError for an attention-only model)."""
    shape = record.anatomy
    if shape.d_mlp is None:
        raise ValueError("This model is attention-only: its blocks have no feed-forward layer.")
    mlp = stack_blocks(model, record.stack)[record.layer].mlp
    w_out = mlp.W_out.detach().float().cpu()  # [d_mlp, d_model]
    b_out = getattr(mlp, "b_out", None)
    if b_out is None:
        bias = getattr(mlp, "out_bias", None)
        b_out = torch.zeros(w_out.shape[1]) if bias is None else bias
    post = record["mlp.hook_post"]
    act = {"gelu": "GELU", "gelu_new": "GELU", "gelu_pytorch_tanh": "GELU", "relu": "max(0, ·)",
           "silu": "SiLU", "swish": "SiLU"}.get(shape.act_fn, shape.act_fn)
    formula = (f"FFN(x) = W₂ ({act}(x W_gate) ⊙ x W₁)" if shape.gated_mlp else f"FFN(x) = {act}(x W₁ + b₁) W₂ + b₂")
    return Neurons(pre=record["mlp.hook_pre"], post=post, out=post @ w_out + b_out.detach().float().cpu(),
                   recorded_out=record["hook_mlp_out"], formula=formula)


def strongest_neurons(post: torch.Tensor, n: int = 12) -> list[int]:
    """The ``n`` neurons with the largest activation anywhere in the input, strongest first."""
    peak = post.max(0).values  # [d_mlp]
    return peak.topk(min(n, peak.numel())).indices.tolist()


def top_tokens_per_neuron(post: torch.Tensor, str_tokens: list[str], neuron_ids: list[int],
                          k: int = 5) -> pd.DataFrame:
    """For each neuron, the ``k`` positions where it fires most: columns neuron, rank, position, token, activation."""
    rows = []
    k = min(k, post.shape[0])
    for neuron in neuron_ids:
        values, positions = post[:, neuron].topk(k)
        for rank, (value, pos) in enumerate(zip(values.tolist(), positions.tolist()), start=1):
            rows.append({"neuron": neuron, "rank": rank, "position": pos, "token": str_tokens[pos],
                         "activation": value})
    return pd.DataFrame(rows, columns=["neuron", "rank", "position", "token", "activation"])


def top_neurons_per_token(post: torch.Tensor, position: int, k: int = 10) -> pd.DataFrame:
    """The ``k`` neurons firing most at one position: columns neuron, activation."""
    values, ids = post[position].topk(min(k, post.shape[1]))
    return pd.DataFrame({"neuron": ids.tolist(), "activation": values.tolist()})
