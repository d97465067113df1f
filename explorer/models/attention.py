"""Multi-head attention with an explicit softmax, so that the pattern can be recorded.

Scaled dot-product attention (Vaswani et al. 2017, eq. 1), per head h:
    q = x W_Q[h] + b_Q[h],  k = x' W_K[h] + b_K[h],  v = x' W_V[h] + b_V[h]
    A = softmax(q kᵀ / √d_head)            (masked positions get exactly 0)
    z = A v,   out = Σ_h z[h] W_O[h] + b_O

Weights use TransformerLens's shapes: ``W_Q, W_K, W_V`` [n_heads, d_model, d_head],
``W_O`` [n_heads, d_head, d_model]. Hook points: ``hook_q, hook_k, hook_v, hook_z``
[batch, pos, head, d_head], ``hook_rot_q, hook_rot_k`` (rotary only),
``hook_attn_scores, hook_pattern`` [batch, head, q_pos, k_pos] (scores after masking, -inf where masked).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from explorer.models.hooks import HookPoint
from explorer.models.positional import apply_rotary


class Attention(nn.Module):
    """One multi-head attention layer (self- or cross-attention)."""

    def __init__(self, d_model: int, n_heads: int, d_head: int, rotary: bool = False):
        super().__init__()
        self.n_heads, self.d_head, self.rotary = n_heads, d_head, rotary
        self.W_Q = nn.Parameter(torch.randn(n_heads, d_model, d_head) / math.sqrt(d_model))
        self.W_K = nn.Parameter(torch.randn(n_heads, d_model, d_head) / math.sqrt(d_model))
        self.W_V = nn.Parameter(torch.randn(n_heads, d_model, d_head) / math.sqrt(d_model))
        self.W_O = nn.Parameter(torch.randn(n_heads, d_head, d_model) / math.sqrt(n_heads * d_head))
        self.b_Q = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_K = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_V = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_O = nn.Parameter(torch.zeros(d_model))
        self.hook_q, self.hook_k, self.hook_v = HookPoint(), HookPoint(), HookPoint()
        if rotary:
            self.hook_rot_q, self.hook_rot_k = HookPoint(), HookPoint()
        self.hook_attn_scores, self.hook_pattern, self.hook_z = HookPoint(), HookPoint(), HookPoint()

    def forward(
        self,
        x: torch.Tensor,
        x_kv: torch.Tensor | None = None,
        allowed: torch.Tensor | None = None,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """x [batch, q_pos, d_model]; x_kv [batch, k_pos, d_model] (None: self-attention).

        ``allowed``: bool, broadcastable to [batch, head, q_pos, k_pos], True where attention may go.
        ``rotary``: (cos, sin) [pos, d_head/2] for queries and keys (self-attention only).
        Returns [batch, q_pos, d_model].
        """
        x_kv = x if x_kv is None else x_kv
        q = self.hook_q(torch.einsum("bpm,hmd->bphd", x, self.W_Q) + self.b_Q)  # [batch, q_pos, head, d_head]
        k = self.hook_k(torch.einsum("bpm,hmd->bphd", x_kv, self.W_K) + self.b_K)  # [batch, k_pos, head, d_head]
        v = self.hook_v(torch.einsum("bpm,hmd->bphd", x_kv, self.W_V) + self.b_V)  # [batch, k_pos, head, d_head]
        if self.rotary and rotary is not None:
            q = self.hook_rot_q(apply_rotary(q, *rotary))
            k = self.hook_rot_k(apply_rotary(k, *rotary))
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.d_head)  # [batch, head, q_pos, k_pos]
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        scores = self.hook_attn_scores(scores)
        pattern = torch.softmax(scores, dim=-1)
        if allowed is not None:
            # A query with no allowed key (a fully padded row) attends nowhere instead of NaN.
            pattern = torch.nan_to_num(pattern, nan=0.0)
        pattern = self.hook_pattern(pattern)
        z = self.hook_z(torch.einsum("bhqk,bkhd->bqhd", pattern, v))  # [batch, q_pos, head, d_head]
        return torch.einsum("bqhd,hdm->bqm", z, self.W_O) + self.b_O  # [batch, q_pos, d_model]


def causal_allowed(n_pos: int, device: torch.device | None = None) -> torch.Tensor:
    """Lower-triangular ``[q_pos, k_pos]`` mask: query i may attend to keys 0..i."""
    return torch.ones(n_pos, n_pos, dtype=torch.bool, device=device).tril()
