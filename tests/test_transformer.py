"""Transformer: explicit attention is a proper softmax, masks hold, heads add up, names and shapes match."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.models import TransformerConfig, build_model

V, N_CTX, D, HEADS = 17, 24, 32, 4


def _model(**overrides):
    cfg = dict(d_vocab=V, n_ctx=N_CTX, d_model=D, n_heads=HEADS, n_layers=2, d_mlp=64)
    cfg.update(overrides)
    return build_model(TransformerConfig(**cfg)).eval()


@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "rotary", "none"])
def test_patterns_are_causal_distributions(positional: str) -> None:
    model = _model(positional=positional)
    tokens = torch.randint(0, V, (3, 10))
    _, cache = model.run_with_cache(tokens)
    for layer in range(2):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"]
        assert pattern.shape == (3, HEADS, 10, 10)
        torch.testing.assert_close(pattern.sum(-1), torch.ones(3, HEADS, 10))
        above_diagonal = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)
        assert torch.all(pattern[..., above_diagonal] == 0)


def test_pattern_is_softmax_of_scaled_dot_products() -> None:
    model = _model(positional="learned")
    _, cache = model.run_with_cache(torch.randint(0, V, (2, 9)))
    q, k = cache["blocks.1.attn.hook_q"], cache["blocks.1.attn.hook_k"]  # [batch, pos, head, d_head]
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(D // HEADS)
    scores = scores.masked_fill(~torch.ones(9, 9, dtype=torch.bool).tril(), float("-inf"))
    torch.testing.assert_close(cache["blocks.1.attn.hook_pattern"], scores.softmax(-1))


def test_head_outputs_sum_to_attention_output() -> None:
    model = _model()
    _, cache = model.run_with_cache(torch.randint(0, V, (2, 8)))
    attn = model.blocks[0].attn
    z = cache["blocks.0.attn.hook_z"]  # [batch, pos, head, d_head]
    per_head = torch.einsum("bphd,hdm->bphm", z, attn.W_O)  # [batch, pos, head, d_model]
    torch.testing.assert_close(per_head.sum(2) + attn.b_O, cache["blocks.0.hook_attn_out"], atol=1e-5, rtol=1e-5)


def test_residual_stream_is_a_sum_of_components() -> None:
    model = _model(positional="learned")
    _, c = model.run_with_cache(torch.randint(0, V, (1, 6)))
    resid = c["hook_embed"] + c["hook_pos_embed"]
    for layer in range(2):
        torch.testing.assert_close(c[f"blocks.{layer}.hook_resid_pre"], resid)
        resid = resid + c[f"blocks.{layer}.hook_attn_out"] + c[f"blocks.{layer}.hook_mlp_out"]
        torch.testing.assert_close(c[f"blocks.{layer}.hook_resid_post"], resid, atol=1e-5, rtol=1e-5)


def test_transformerlens_weight_shapes() -> None:
    model = _model(positional="learned")
    d_head = D // HEADS
    assert model.W_E.shape == (V, D)
    assert model.W_pos.shape == (N_CTX, D)
    assert model.W_U.shape == (D, V)
    attn = model.blocks[0].attn
    for w in (attn.W_Q, attn.W_K, attn.W_V):
        assert w.shape == (HEADS, D, d_head)
    assert attn.W_O.shape == (HEADS, d_head, D)


def test_cache_names_and_shapes() -> None:
    model = _model(positional="rotary")
    _, cache = model.run_with_cache(torch.randint(0, V, (2, 7)))
    for name in ("blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v", "blocks.0.attn.hook_z",
                 "blocks.0.attn.hook_rot_q", "blocks.0.attn.hook_rot_k"):
        assert cache[name].shape == (2, 7, HEADS, D // HEADS), name
    for name in ("hook_embed", "blocks.1.hook_resid_pre", "blocks.1.ln1.hook_normalized", "blocks.1.hook_attn_out",
                 "blocks.1.hook_resid_mid", "blocks.1.hook_mlp_out", "blocks.1.hook_resid_post"):
        assert cache[name].shape == (2, 7, D), name
    assert cache["blocks.0.attn.hook_attn_scores"].shape == (2, HEADS, 7, 7)
    assert "hook_pos_embed" not in cache


def test_attention_only_and_no_layernorm() -> None:
    model = _model(attn_only=True, layer_norm=False)
    logits, cache = model.run_with_cache(torch.randint(0, V, (1, 5)))
    assert logits.shape == (1, 5, V)
    assert not any("mlp" in k or "ln" in k for k in cache)


def test_encoder_classifier_ignores_padding() -> None:
    model = _model(causal=False, head="classifier", n_classes=3, pad_id=0)
    tokens = torch.randint(1, V, (1, 6))
    padded = torch.cat([tokens, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    logits_padded, cache = model.run_with_cache(padded)
    torch.testing.assert_close(logits_padded, model(tokens), atol=1e-5, rtol=1e-5)
    pattern = cache["blocks.0.attn.hook_pattern"]
    assert torch.all(pattern[..., 6:] == 0)  # nobody attends to padding
    assert pattern[0, 0, 0, 5] > 0  # bidirectional: the first token sees the last


def test_encoder_decoder_cross_attention() -> None:
    model = _model(encoder_decoder=True, positional="sinusoidal", pad_id=0)
    src, tgt = torch.randint(1, V, (2, 9)), torch.randint(1, V, (2, 5))
    logits, cache = model.run_with_cache(src, tgt)
    assert logits.shape == (2, 5, V)
    cross = cache["blocks.0.cross_attn.hook_pattern"]
    assert cross.shape == (2, HEADS, 5, 9)
    torch.testing.assert_close(cross.sum(-1), torch.ones(2, HEADS, 5))
    enc = cache["encoder.0.attn.hook_pattern"]
    assert enc.shape == (2, HEADS, 9, 9) and enc[0, 0, 0, -1] > 0  # the encoder is bidirectional
    # The decoder's next-token logits at position t never depend on decoder tokens after t.
    changed = tgt.clone()
    changed[:, 3:] = (changed[:, 3:] % (V - 1)) + 1
    torch.testing.assert_close(model(src, changed)[:, :3], logits[:, :3])


def test_learned_positions_stop_at_n_ctx_but_sinusoidal_extends() -> None:
    with pytest.raises(ValueError, match="learned positions"):
        _model(positional="learned")(torch.randint(0, V, (1, N_CTX + 1)))
    assert _model(positional="sinusoidal")(torch.randint(0, V, (1, N_CTX + 8))).shape == (1, N_CTX + 8, V)
    assert _model(positional="rotary")(torch.randint(0, V, (1, N_CTX + 8))).shape == (1, N_CTX + 8, V)
