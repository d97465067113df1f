"""Circuits on the pretrained adapter's models: tiny Llama (grouped-query attention, RMSNorm) and GPT-2, converted
offline from randomly initialised Hugging Face models, checked against their own dense weights and logits."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from explorer.analysis.attribution import decomposition_problem, direct_logit_attribution, residual_decomposition
from explorer.analysis.circuits import composition_scores, copying_scores, kv_head_of, qk_circuit
from explorer.models.pretrained import convert


@pytest.fixture(scope="module")
def llama():
    torch.manual_seed(0)
    hf = LlamaForCausalLM(LlamaConfig(num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2,
                                      hidden_size=48, intermediate_size=64, vocab_size=60, max_position_embeddings=64,
                                      tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0))
    return convert(hf.eval(), "tiny-llama")


@pytest.fixture(scope="module")
def gpt2():
    torch.manual_seed(0)
    hf = GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=60, n_positions=24, bos_token_id=0,
                                    eos_token_id=0))
    return convert(hf.eval(), "tiny-gpt2")


def test_grouped_query_heads_read_their_shared_key_head(llama) -> None:
    assert [kv_head_of(llama, h) for h in range(6)] == [0, 0, 0, 1, 1, 1]
    attn = llama.blocks[1].attn
    torch.testing.assert_close(qk_circuit(llama, 1, 4).AB, attn.W_Q[4] @ attn.W_K[4].T)
    torch.testing.assert_close(attn.W_K[4], attn.W_K[3])  # the adapter repeats the shared key head


@pytest.mark.parametrize("which", ["llama", "gpt2"])
def test_scores_and_logit_attribution_on_pretrained_models(which: str, request) -> None:
    model = request.getfixturevalue(which)
    copying = copying_scores(model)
    w_e, w_u = model.W_E.double(), model.W_U.double()
    attn = model.blocks[0].attn
    eig = torch.linalg.eigvals(w_e @ (attn.W_V[1] @ attn.W_O[1]).double() @ w_u)
    assert float(copying[0, 1]) == pytest.approx(float(eig.sum().real / eig.abs().sum()), abs=1e-4)
    k = composition_scores(model, "K")
    assert k.shape == (2, model.config.n_heads, 2, model.config.n_heads) and torch.isfinite(k[0, :, 1, :]).all()
    assert decomposition_problem(model) is None
    tokens = torch.randint(3, 60, (12,))
    decomposition = residual_decomposition(model, tokens)
    torch.testing.assert_close(decomposition.contributions.sum(0), decomposition.resid_final, atol=1e-4, rtol=0)
    attribution = direct_logit_attribution(model, decomposition, tokens[1:])
    logits = model(tokens[None])[0]
    torch.testing.assert_close(attribution.logits, logits[torch.arange(11), tokens[1:]], atol=1e-4, rtol=1e-4)
