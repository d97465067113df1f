"""Position encodings: Vaswani's sinusoids and RoFormer's rotary embedding.

Sinusoidal (Vaswani et al. 2017, section 3.5):
    PE(pos, 2i)   = sin(pos / base^(2i / d_model))
    PE(pos, 2i+1) = cos(pos / base^(2i / d_model))        base = 10000

Rotary (Su et al. 2021, RoFormer, eq. 13-15): each pair of dimensions (2i, 2i+1) of a query or key
at position m is rotated by the angle m·θ_i with θ_i = base^(-2i / d). Then
q_m · k_n = Re[Σ_i q̃_i conj(k̃_i) e^{i (m - n) θ_i}] depends on the offset m - n only.
Pairs are adjacent dimensions, as in the paper (Hugging Face's Llama pairs i with i + d/2 instead).
"""

from __future__ import annotations

import torch


def sinusoidal_table(n_pos: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The sinusoidal table ``[n_pos, d_model]``. An odd ``d_model`` drops the last cosine column."""
    if d_model < 1 or n_pos < 0:
        raise ValueError("sinusoidal_table needs d_model >= 1 and n_pos >= 0.")
    if base <= 1:
        raise ValueError(f"The base must be greater than 1, got {base}.")
    pos = torch.arange(n_pos, dtype=torch.float64).unsqueeze(1)  # [pos, 1]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # [ceil(d/2)]
    angle = pos / base ** (two_i / d_model)  # [pos, ceil(d/2)]
    table = torch.zeros(n_pos, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return table.float()


def rotary_frequencies(d_rot: int, base: float = 10000.0) -> torch.Tensor:
    """θ_i = base^(-2i/d) for i = 0 .. d/2 - 1, shape ``[d_rot / 2]``."""
    if d_rot % 2:
        raise ValueError(f"Rotary dimensions come in pairs: {d_rot} is odd.")
    return base ** (-torch.arange(0, d_rot, 2, dtype=torch.float64) / d_rot)


def rotary_angles(n_pos: int, d_rot: int, base: float = 10000.0, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` of m·θ_i, each ``[n_pos, d_rot / 2]``, for positions offset .. offset+n_pos-1."""
    pos = torch.arange(offset, offset + n_pos, dtype=torch.float64).unsqueeze(1)  # [pos, 1]
    angle = pos * rotary_frequencies(d_rot, base)  # [pos, d/2]
    return torch.cos(angle).float(), torch.sin(angle).float()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent pairs of the last dimension of ``x`` [batch, pos, head, d_head] by the angles.

    ``cos, sin``: [pos, d_head / 2]. Pair (x1, x2) -> (x1 cos - x2 sin, x1 sin + x2 cos).
    """
    x_pairs = x.unflatten(-1, (-1, 2))  # [batch, pos, head, d_head/2, 2]
    x1, x2 = x_pairs[..., 0], x_pairs[..., 1]
    cos = cos[:, None, :].to(x.dtype)  # [pos, 1, d_head/2], broadcast over heads
    sin = sin[:, None, :].to(x.dtype)
    rotated = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return rotated.flatten(-2)  # [batch, pos, head, d_head]
