"""Induction heads: a hand-built circuit scores as one; the lab's task and probe are what they claim."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.analysis.circuits import composition_scores, copying_scores
from explorer.analysis.induction import (
    copy_losses,
    induction_scores,
    measure_induction,
    prev_token_scores,
    repeated_random_tokens,
)
from explorer.data.tokenizers import BOS
from explorer.models import Transformer, TransformerConfig
from explorer.training.induction_lab import LabSpec, create_lab_run, is_lab_run, lab_probe, lab_task

SCALE = 200.0  # attention logits of the hand-set heads (÷√d_head): large enough for a near-hard softmax


def hand_built_induction_model(n_symbols: int = 20, n_ctx: int = 24) -> Transformer:
    """A 2-layer attention-only model whose weights are set by hand (Elhage et al. 2021's induction circuit).

    Residual stream subspaces (one-hot bases): TOK (the token), POS (the position), PREV (the previous token,
    written by layer 0) and OUT (read by the unembedding).
    - L0H0, previous-token head: positional QK (query at p matches key at p-1), OV copies TOK into PREV;
    - L1H0, induction head: QK matches the query's TOK with the key's PREV (K-composition with L0H0), OV copies
      TOK into OUT, which the unembedding reads as the same token (a copying head);
    - H1 of each layer is all zeros.
    """
    vocab = 4 + n_symbols
    d_model = 3 * vocab + n_ctx
    tok, pos, prev, out = 0, vocab, vocab + n_ctx, 2 * vocab + n_ctx
    cfg = TransformerConfig(d_vocab=vocab, n_ctx=n_ctx, d_model=d_model, n_heads=2, n_layers=2, attn_only=True,
                            layer_norm=False, positional="learned", causal=True, head="lm")
    model = Transformer(cfg)
    d_head = cfg.d_head
    assert d_head >= max(vocab, n_ctx)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.embed.weight[torch.arange(vocab), tok + torch.arange(vocab)] = 1.0
        model.pos_embed[torch.arange(n_ctx), pos + torch.arange(n_ctx)] = 1.0
        a0, a1 = model.blocks[0].attn, model.blocks[1].attn
        a0.W_Q[0, pos + torch.arange(n_ctx), torch.arange(n_ctx)] = SCALE
        a0.W_K[0, pos + torch.arange(n_ctx - 1), torch.arange(1, n_ctx)] = 1.0  # key at j looks like query j+1
        a0.W_V[0, tok + torch.arange(vocab), torch.arange(vocab)] = 1.0
        a0.W_O[0, torch.arange(vocab), prev + torch.arange(vocab)] = 1.0
        a1.W_Q[0, tok + torch.arange(vocab), torch.arange(vocab)] = SCALE
        a1.W_K[0, prev + torch.arange(vocab), torch.arange(vocab)] = 1.0
        a1.W_V[0, tok + torch.arange(vocab), torch.arange(vocab)] = 1.0
        a1.W_O[0, torch.arange(vocab), out + torch.arange(vocab)] = 1.0
        model.W_U[out + torch.arange(vocab), torch.arange(vocab)] = 20.0  # confident logits
    return model.eval()


def _probe(n_symbols: int = 20, half_len: int = 10):
    return repeated_random_tokens(4, 4 + n_symbols, half_len, batch=8, bos=BOS, seed=0)


def test_hand_built_circuit_has_an_induction_head_in_layer_1() -> None:
    model = hand_built_induction_model()
    rep = _probe()
    scores = induction_scores(model, rep)
    assert scores.shape == (2, 2)
    assert scores[1, 0] > 0.95
    assert scores[1, 1] < 0.2 and scores[0].max() < 0.2
    prev = prev_token_scores(model, rep.tokens)
    assert prev[0, 0] > 0.95 and prev[0, 1] < 0.3


def test_hand_built_circuit_predicts_the_repeat_and_copies() -> None:
    model = hand_built_induction_model()
    rep = _probe()
    m = measure_induction(model, rep)
    assert m.best_induction_head == (1, 0) and m.best_prev_token_head == (0, 0)
    assert m.loss_second < 0.5 * m.loss_first
    copying = copying_scores(model)
    assert copying[1, 0] > 0.99  # the induction head's OV circuit is the identity on tokens
    assert abs(float(copying[0, 0])) < 1e-6  # the previous-token head writes where the unembedding never reads


def test_hand_built_circuit_k_composes() -> None:
    model = hand_built_induction_model()
    k = composition_scores(model, "K")
    q = composition_scores(model, "Q")
    v = composition_scores(model, "V")
    # L0H0 writes PREV, L1H0 reads its keys from PREV: rank-24 aligned isometries score 1/sqrt(24)
    assert k[0, 0, 1, 0] == pytest.approx(1 / math.sqrt(24), rel=1e-4)
    assert q[0, 0, 1, 0] < 1e-6 and v[0, 0, 1, 0] < 1e-6
    assert torch.isnan(k[1, 0, 0, 0]) and torch.isnan(k[0, 0, 0, 1])  # only earlier -> later layers


def test_uniform_attention_gets_the_chance_induction_score() -> None:
    cfg = TransformerConfig(d_vocab=24, n_ctx=32, d_model=16, n_heads=2, n_layers=1, attn_only=True,
                            layer_norm=False)
    model = Transformer(cfg).eval()
    with torch.no_grad():
        model.blocks[0].attn.W_Q.zero_()  # every score 0: each query spreads evenly over its keys
    rep = _probe(half_len=8)
    expected = torch.tensor([1 / (q + 1) for q in rep.second_copy.tolist()]).mean()
    torch.testing.assert_close(induction_scores(model, rep)[0], expected.expand(2), atol=1e-6, rtol=0)


def test_copy_losses_read_the_right_positions() -> None:
    rep = _probe(half_len=6)
    vocab = 24
    logits = torch.zeros(rep.tokens.shape[0], rep.tokens.shape[1], vocab)
    # a perfect predictor on the second copy only
    second = rep.second_copy[:-1]
    logits[torch.arange(8)[:, None], second[None, :], rep.tokens[:, second + 1]] = 50.0
    first_loss, second_loss = copy_losses(logits, rep)
    assert first_loss == pytest.approx(math.log(vocab), rel=1e-5)
    assert second_loss < 1e-6


def test_lab_task_varies_period_and_place() -> None:
    spec = LabSpec(n_train=400, n_val=16)
    data = lab_task(spec)
    assert data.kind == "lm" and data.name == "induction"
    periods, starts = set(), set()
    for seq in data.train.sources:
        assert len(seq) == spec.seq_len and seq[0] == BOS
        body = seq[1:]
        for t in range(spec.max_period, spec.min_period - 1, -1):
            found = [a for a in range(len(body) - 2 * t + 1) if body[a:a + t] == body[a + t:a + 2 * t]]
            if found:
                periods.add(t)
                starts.add(found[0])
                break
        else:
            raise AssertionError(f"no repeat in {seq}")
    assert len(periods) >= 8 and len(starts) >= 8
    assert lab_task(spec).train.sources == data.train.sources  # seeded


def test_lab_run_and_probe_fit_together() -> None:
    spec = LabSpec(n_train=64, n_val=16)
    run = create_lab_run(data=lab_task(spec), spec=spec)
    assert is_lab_run(run) and run.config.attn_only and run.config.n_layers == 2
    probe = lab_probe(spec)
    assert probe.tokens.shape == (32, spec.seq_len) and probe.tokens.max() < run.config.d_vocab
    m = measure_induction(run.model, probe)
    assert m.induction.shape == (2, 4) and m.loss_first > 0
    run.trainer.step(n_steps=3)
    assert run.step == 3
