"""One attention head's arithmetic, recomputed from the model's weights and one recorded layer.

In the lecture's notation, for the T tokens of one input (Vaswani et al. 2017, eq. 1; Elhage et al. 2021):
    X             [T × d_model]    what the layer reads (LN1 of the residual stream in pre-LN blocks)
    Q = X W_Q + b_Q, K = X W_K + b_K, V = X W_V + b_V        [T × d_head] each
    S = Q Kᵀ      [T × T],   S / √d_k,   masked (a decoder's query i sees keys 0..i),   A = softmax row by row
    H = A V       [T × d_head]     the head's output (TransformerLens's ``hook_z``)
    Z = Concat(H_0, …, H_{h−1})   [T × n_heads·d_head]     ``hook_z`` reshaped
    Z W_O + b_O   [T × d_model]    the layer's output (``hook_attn_out``), added to the residual stream:
    resid_mid = resid_pre + Z W_O + b_O                      (``hook_resid_mid``)
With grouped-query attention (SmolLM2) K and V come from the key/value head the query head shares; with rotary
positions Q and K are rotated by position before the product (the rotated ones are read from the hooks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from explorer.analysis.forward.anatomy import attention_scale, kv_head_of, stack_blocks
from explorer.analysis.forward.record import LayerRecord


@dataclass
class HeadSteps:
    """Every intermediate of one head on one input; matrices are float32, rows are positions."""

    layer: int
    head: int
    kv_head: int
    x: torch.Tensor  # [T, d_model]
    q: torch.Tensor  # [T, d_head]
    k: torch.Tensor  # [T, d_head] (the shared key/value head's)
    v: torch.Tensor  # [T, d_head]
    q_rot: torch.Tensor | None  # [T, d_head] after the rotary rotation (rotary models only)
    k_rot: torch.Tensor | None
    scores: torch.Tensor  # [T, T] Q Kᵀ (rotated when rotary)
    scale: float  # 1/√d_k (or the model's own factor)
    scaled: torch.Tensor  # [T, T] scores · scale
    allowed: torch.Tensor  # [T, T] bool, where a query may look
    masked: torch.Tensor  # [T, T] scaled, −∞ where not allowed
    pattern: torch.Tensor  # [T, T] A, rows sum to 1
    z: torch.Tensor  # [T, d_head] H = A V
    concat: torch.Tensor  # [T, n_heads · d_head] every head's H side by side
    w_o: torch.Tensor  # [n_heads · d_head, d_model]
    b_o: torch.Tensor  # [d_model]
    head_write: torch.Tensor  # [T, d_model] this head's share: H W_O[h]
    attn_out: torch.Tensor  # [T, d_model] Z W_O + b_O
    resid_pre: torch.Tensor  # [T, d_model]
    resid_mid: torch.Tensor  # [T, d_model] resid_pre + attn_out
    recorded_resid_mid: torch.Tensor  # [T, d_model] the model's own hook_resid_mid

    @property
    def n_tokens(self) -> int:
        return self.x.shape[0]

    def max_error(self) -> float:
        """Largest |recomputed − recorded| entry of resid_mid: the arithmetic shown is the model's."""
        return float((self.resid_mid - self.recorded_resid_mid).abs().max())


def _weights(attn: Any, head: int) -> dict[str, torch.Tensor]:
    def get(name: str) -> torch.Tensor:
        return getattr(attn, name).detach().float().cpu()

    return {"W_Q": get("W_Q")[head], "W_K": get("W_K")[head], "W_V": get("W_V")[head],  # [d_model, d_head]
            "b_Q": get("b_Q")[head], "b_K": get("b_K")[head], "b_V": get("b_V")[head],  # [d_head]
            "W_O": get("W_O"), "b_O": get("b_O")}  # [n_heads, d_head, d_model], [d_model]


def attention_input(record: LayerRecord) -> torch.Tensor:
    """X [T, d_model]: LN1(resid_pre) in a pre-LN block with a norm, else resid_pre itself."""
    if record.anatomy.post_ln:
        return record["hook_resid_pre"]
    normalized = record.get("ln1.hook_normalized")
    return record["hook_resid_pre"] if normalized is None else normalized


def allowed_keys(n_q: int, n_k: int, causal: bool) -> torch.Tensor:
    """[n_q, n_k] bool: True where a query may attend (lower triangle for a decoder)."""
    full = torch.ones(n_q, n_k, dtype=torch.bool)
    return full.tril() if causal else full


def head_steps(model: Any, record: LayerRecord, head: int) -> HeadSteps:
    """Recompute head ``head`` of the recorded layer, and the whole layer's output, from the weights."""
    shape = record.anatomy
    if not 0 <= head < shape.n_heads:
        raise ValueError(f"Layer {record.layer} has heads 0..{shape.n_heads - 1}; there is no head {head}.")
    attn = stack_blocks(model, record.stack)[record.layer].attn
    w = _weights(attn, head)
    kv = kv_head_of(attn, head)
    x = attention_input(record)
    q = x @ w["W_Q"] + w["b_Q"]  # [T, d_head]
    k = x @ w["W_K"] + w["b_K"]
    v = x @ w["W_V"] + w["b_V"]
    q_rot = k_rot = None
    if shape.rotary and record.get("attn.hook_rot_q") is not None:
        q_rot, k_rot = record["attn.hook_rot_q"][:, head], record["attn.hook_rot_k"][:, kv]
    q_used, k_used = (q, k) if q_rot is None else (q_rot, k_rot)
    scores = q_used @ k_used.T  # [T, T]
    scale = attention_scale(attn)
    scaled = scores * scale
    n = x.shape[0]
    allowed = allowed_keys(n, n, shape.causal and record.stack == "blocks")
    masked = scaled.masked_fill(~allowed, float("-inf"))
    pattern = torch.softmax(masked, dim=-1)
    z = pattern @ v  # [T, d_head]
    concat = record["attn.hook_z"].reshape(n, shape.d_concat).clone()  # [T, n_heads · d_head]
    concat[:, head * shape.d_head:(head + 1) * shape.d_head] = z
    w_o = w["W_O"].reshape(shape.d_concat, shape.d_model)  # [n_heads · d_head, d_model]
    attn_out = concat @ w_o + w["b_O"]
    resid_pre = record["hook_resid_pre"]
    return HeadSteps(
        layer=record.layer, head=head, kv_head=kv, x=x, q=q, k=k, v=v, q_rot=q_rot, k_rot=k_rot, scores=scores,
        scale=scale, scaled=scaled, allowed=allowed, masked=masked, pattern=pattern, z=z, concat=concat, w_o=w_o,
        b_o=w["b_O"], head_write=z @ w["W_O"][head], attn_out=attn_out, resid_pre=resid_pre,
        resid_mid=resid_pre + attn_out, recorded_resid_mid=record["hook_resid_mid"])


@dataclass
class NoProjection:
    """Attention with Q = K = V = X (no learned W_Q, W_K, W_V): what a head could do without parameters."""

    pattern: torch.Tensor  # [T, T] softmax(X Xᵀ / √d_model), masked as the model's
    output: torch.Tensor  # [T, d_model] A X
    self_share: float  # mean weight a query gives itself
    learned_self_share: float  # the same for the learned head
    symmetric_gap: float  # max |S − Sᵀ| of the unmasked scores: 0 without projections


def no_projection(steps: HeadSteps) -> NoProjection:
    """The deck's question: what is lost without W_Q, W_K, W_V? Scores x_i · x_j are symmetric, and each token's
    largest score is usually with itself (‖x_i‖² ≥ x_i · x_j when the norms are alike): without parameters a head
    can only look at tokens like the query, and training cannot change where it looks."""
    x = steps.x
    scores = x @ x.T / math.sqrt(x.shape[1])  # [T, T]
    pattern = torch.softmax(scores.masked_fill(~steps.allowed, float("-inf")), dim=-1)
    diagonal = torch.arange(x.shape[0])
    return NoProjection(pattern=pattern, output=pattern @ x, self_share=float(pattern[diagonal, diagonal].mean()),
                        learned_self_share=float(steps.pattern[diagonal, diagonal].mean()),
                        symmetric_gap=float((scores - scores.T).abs().max()))
