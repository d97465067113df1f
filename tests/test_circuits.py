"""QK/OV circuits, copying and composition scores equal their dense definitions (Elhage et al. 2021)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from explorer.analysis.attribution import direct_logit_attribution, residual_decomposition
from explorer.analysis.circuits import (
    FactoredMatrix,
    composition_score,
    composition_scores,
    copying_scores,
    full_ov_circuit,
    full_qk_circuit,
    kv_head_of,
    ov_circuit,
    ov_self_copy,
    positional_qk_circuit,
    qk_circuit,
    random_composition_baseline,
    top_copied_tokens,
)
from explorer.models import Transformer, TransformerConfig, build_model

ATOL = 1e-4


@pytest.fixture(scope="module")
def model() -> Transformer:
    cfg = TransformerConfig(d_vocab=20, n_ctx=12, d_model=16, n_heads=4, n_layers=3, d_mlp=32)
    return build_model(cfg, seed=3).eval()


def _dense(model, layer: int, head: int):
    attn = model.blocks[layer].attn
    w_q, w_k, w_v, w_o = (w.detach()[head] for w in (attn.W_Q, attn.W_K, attn.W_V, attn.W_O))
    return w_q @ w_k.T, w_v @ w_o


def test_head_circuits_equal_dense_products(model) -> None:
    for layer in range(3):
        for head in range(4):
            qk, ov = _dense(model, layer, head)
            torch.testing.assert_close(qk_circuit(model, layer, head).AB, qk, atol=ATOL, rtol=0)
            torch.testing.assert_close(ov_circuit(model, layer, head).AB, ov, atol=ATOL, rtol=0)
            s = qk_circuit(model, layer, head).S
            torch.testing.assert_close(s, torch.linalg.svdvals(qk)[: s.shape[0]], atol=ATOL, rtol=1e-4)


def test_full_circuits_equal_dense_products(model) -> None:
    w_e, w_pos, w_u = model.W_E.detach(), model.W_pos.detach(), model.W_U.detach()
    qk, ov = _dense(model, 1, 2)
    tokens = [5, 3, 17, 9]
    torch.testing.assert_close(full_qk_circuit(model, 1, 2).AB, w_e @ qk @ w_e.T, atol=ATOL, rtol=0)
    torch.testing.assert_close(full_qk_circuit(model, 1, 2, tokens).AB, (w_e @ qk @ w_e.T)[tokens][:, tokens],
                               atol=ATOL, rtol=0)
    torch.testing.assert_close(positional_qk_circuit(model, 1, 2, n_pos=8).AB, (w_pos @ qk @ w_pos.T)[:8, :8],
                               atol=ATOL, rtol=0)
    full_ov = w_e @ ov @ w_u
    torch.testing.assert_close(full_ov_circuit(model, 1, 2, tokens).AB, full_ov[tokens][:, tokens], atol=ATOL, rtol=0)
    torch.testing.assert_close(ov_self_copy(model, 1, 2), full_ov.diagonal(), atol=ATOL, rtol=0)
    top = top_copied_tokens(model, 1, 2, k=3, exclude=(0, 1))
    expected = full_ov.diagonal().clone()
    expected[[0, 1]] = float("-inf")
    assert top.tolist() == expected.topk(3).indices.tolist()


def test_eigenvalues_of_the_factored_ov_circuit_match_dense(model) -> None:
    _, ov = _dense(model, 0, 1)
    factored = ov_circuit(model, 0, 1).eigenvalues  # d_head = 4 eigenvalues
    dense = torch.linalg.eigvals(ov.double())
    top = dense[dense.abs().argsort(descending=True)[:4]]
    assert sorted(abs(complex(z)) for z in factored) == pytest.approx(sorted(abs(complex(z)) for z in top), rel=1e-4)
    assert complex(factored.sum()).real == pytest.approx(float(torch.trace(ov)), abs=1e-4)


def test_copying_scores_equal_the_dense_eigenvalue_formula(model) -> None:
    scores = copying_scores(model)
    assert scores.shape == (3, 4)
    w_e, w_u = model.W_E.detach().double(), model.W_U.detach().double()
    for layer in range(3):
        for head in range(4):
            _, ov = _dense(model, layer, head)
            eig = torch.linalg.eigvals(w_e @ ov.double() @ w_u)  # the vocab × vocab matrix (fine at d_vocab 20)
            expected = eig.sum().real / eig.abs().sum()
            assert float(scores[layer, head]) == pytest.approx(float(expected), abs=1e-4)


@pytest.mark.parametrize("kind", ["Q", "K", "V"])
def test_composition_scores_equal_the_dense_definition(model, kind: str) -> None:
    scores = composition_scores(model, kind)
    assert scores.shape == (3, 4, 3, 4)
    fro = torch.linalg.matrix_norm
    for la in range(3):
        for lb in range(3):
            for ha in range(4):
                for hb in range(4):
                    if la >= lb:
                        assert torch.isnan(scores[la, ha, lb, hb])
                        continue
                    _, ov_a = _dense(model, la, ha)
                    qk_b, ov_b = _dense(model, lb, hb)
                    m_b = {"Q": qk_b, "K": qk_b.T, "V": ov_b}[kind]
                    expected = fro(ov_a @ m_b) / (fro(ov_a) * fro(m_b))
                    assert float(scores[la, ha, lb, hb]) == pytest.approx(float(expected), abs=1e-5)


def test_composition_score_is_one_for_one_shared_direction_and_zero_for_orthogonal_subspaces() -> None:
    gen = torch.Generator().manual_seed(0)
    u, v, w = (torch.randn(10, 1, generator=gen, dtype=torch.float64) for _ in range(3))
    writer = FactoredMatrix(u, v.T)  # writes along v
    reader = FactoredMatrix(v, w.T)  # reads along v
    assert float(composition_score(writer, reader)) == pytest.approx(1.0, abs=1e-12)
    basis = torch.linalg.qr(torch.randn(10, 10, generator=gen, dtype=torch.float64))[0]
    inside, outside = basis[:, :4], basis[:, 4:]
    writes_inside = FactoredMatrix(torch.randn(10, 3, generator=gen, dtype=torch.float64),
                                   torch.randn(3, 4, generator=gen, dtype=torch.float64) @ inside.T)
    reads_outside = FactoredMatrix(outside @ torch.randn(6, 3, generator=gen, dtype=torch.float64),
                                   torch.randn(3, 10, generator=gen, dtype=torch.float64))
    assert float(composition_score(writes_inside, reads_outside)) == pytest.approx(0.0, abs=1e-12)


def test_random_baseline_is_small_and_seeded() -> None:
    baseline = random_composition_baseline(64, 16, "K", n_samples=32)
    assert 0.05 < baseline < 0.5
    assert baseline == random_composition_baseline(64, 16, "K", n_samples=32)


def test_grouped_query_attention_uses_the_shared_key_value_head() -> None:
    gen = torch.Generator().manual_seed(0)
    n_heads, n_kv, d_model, d_head = 6, 2, 8, 4
    attn = SimpleNamespace(W_Q=torch.randn(n_heads, d_model, d_head, generator=gen),
                           W_K=torch.randn(n_kv, d_model, d_head, generator=gen),
                           W_V=torch.randn(n_kv, d_model, d_head, generator=gen),
                           W_O=torch.randn(n_heads, d_head, d_model, generator=gen))
    cfg = SimpleNamespace(n_layers=1, n_heads=n_heads, n_kv_heads=n_kv, d_model=d_model, d_head=d_head)
    gqa = SimpleNamespace(config=cfg, blocks=[SimpleNamespace(attn=attn)])
    assert [kv_head_of(gqa, h) for h in range(n_heads)] == [0, 0, 0, 1, 1, 1]
    torch.testing.assert_close(qk_circuit(gqa, 0, 4).AB, attn.W_Q[4] @ attn.W_K[1].T)
    torch.testing.assert_close(ov_circuit(gqa, 0, 2).AB, attn.W_V[0] @ attn.W_O[2])
    assert composition_scores(gqa, "K").shape == (1, n_heads, 1, n_heads)


def test_direct_logit_attribution_sums_to_the_logits(model) -> None:
    tokens = torch.tensor([2, 5, 7, 9, 4, 11])
    decomposition = residual_decomposition(model, tokens)
    # the components add up to the final residual stream
    torch.testing.assert_close(decomposition.contributions.sum(0), decomposition.resid_final, atol=1e-4, rtol=0)
    assert decomposition.labels[:2] == ["embed", "pos"] and "L2H3" in decomposition.labels
    targets = torch.tensor([5, 7, 9, 4, 11, 3])
    attribution = direct_logit_attribution(model, decomposition, targets)
    logits = model(tokens[None])[0].detach()
    torch.testing.assert_close(attribution.logits, logits[torch.arange(6), targets], atol=1e-4, rtol=0)


def test_layer_norm_scales_are_folded_into_the_reading_weights() -> None:
    """With γ ≠ 1 (and no biases), x̂_q W_QK x̂_kᵀ is the head's real q·k, x̂ the normalised residual before γ."""
    cfg = TransformerConfig(d_vocab=20, n_ctx=12, d_model=16, n_heads=4, n_layers=2, d_mlp=32)
    model = build_model(cfg, seed=4).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for block in model.blocks:
            block.ln1.weight.copy_(torch.rand(16, generator=generator) * 2 + 0.1)
            block.ln1.bias.zero_()
            block.attn.b_Q.zero_()
            block.attn.b_K.zero_()
        model.ln_final.weight.copy_(torch.rand(16, generator=generator) * 2 + 0.1)
    tokens = torch.randint(0, 20, (1, 10), generator=generator)
    _, cache = model.run_with_cache(tokens)
    for layer in range(2):
        resid = cache[f"blocks.{layer}.hook_resid_pre"][0]  # [pos, d_model]
        normalised = torch.nn.functional.layer_norm(resid, (16,), eps=model.blocks[layer].ln1.eps)  # no γ, β
        q, k = cache[f"blocks.{layer}.attn.hook_q"][0], cache[f"blocks.{layer}.attn.hook_k"][0]  # [pos, head, d]
        for head in range(4):
            scores = q[:, head] @ k[:, head].T  # [q_pos, k_pos]
            torch.testing.assert_close(normalised @ qk_circuit(model, layer, head).AB @ normalised.T, scores,
                                       atol=1e-4, rtol=1e-4)
    gamma = model.ln_final.weight.detach()
    ov = ov_circuit(model, 1, 0).AB
    expected = model.W_E.detach() @ ov @ (gamma[:, None] * model.W_U.detach())
    torch.testing.assert_close(full_ov_circuit(model, 1, 0).AB, expected, atol=1e-4, rtol=1e-4)
