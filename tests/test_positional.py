"""Sinusoidal table = Vaswani's formula; rotary preserves norms and makes q·k depend on the offset only."""

from __future__ import annotations

import math

import torch

from explorer.models import TransformerConfig, build_model
from explorer.models.positional import apply_rotary, rotary_angles, sinusoidal_table


def test_sinusoidal_table_equals_the_paper_formula() -> None:
    n_pos, d = 50, 16
    table = sinusoidal_table(n_pos, d)
    for pos in range(n_pos):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert math.isclose(table[pos, 2 * i].item(), math.sin(angle), abs_tol=1e-6)
            assert math.isclose(table[pos, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-6)


def test_sinusoidal_norm_is_the_same_at_every_position() -> None:
    norms = sinusoidal_table(300, 64).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, math.sqrt(32)))


def test_rotary_preserves_norms() -> None:
    x = torch.randn(2, 40, 3, 8)  # [batch, pos, head, d_head]
    cos, sin = rotary_angles(40, 8)
    torch.testing.assert_close(apply_rotary(x, cos, sin).norm(dim=-1), x.norm(dim=-1))


def test_rotary_scores_depend_only_on_the_offset() -> None:
    q, k = torch.randn(8), torch.randn(8)
    n = 30
    cos, sin = rotary_angles(n, 8)
    q_rot = apply_rotary(q.expand(1, n, 1, 8), cos, sin)[0, :, 0]  # the same q at every position m
    k_rot = apply_rotary(k.expand(1, n, 1, 8), cos, sin)[0, :, 0]
    scores = q_rot @ k_rot.T  # [m, n]
    for offset in range(-5, 6):
        diagonal = torch.diagonal(scores, offset=offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-5, rtol=1e-5)


def test_rotary_model_scores_are_shift_invariant() -> None:
    """Inside a model: the same tokens shifted in position give the same first-layer scores."""
    model = build_model(TransformerConfig(d_vocab=11, n_ctx=32, d_model=16, n_heads=2, n_layers=1, d_mlp=32,
                                          positional="rotary", layer_norm=False)).eval()
    tokens = torch.randint(1, 11, (1, 6))
    padded = torch.cat([torch.full((1, 4), 3), tokens], dim=1)  # the same tokens 4 positions later
    _, a = model.run_with_cache(tokens)
    _, b = model.run_with_cache(padded)
    scores_a = a["blocks.0.attn.hook_attn_scores"][0]
    scores_b = b["blocks.0.attn.hook_attn_scores"][0, :, 4:, 4:]
    torch.testing.assert_close(scores_a, scores_b, atol=1e-5, rtol=1e-5)
