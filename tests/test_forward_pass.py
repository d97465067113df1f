"""The forward-pass walk shows the model's own numbers: one head's arithmetic rebuilds hook_resid_mid, the logit lens's
last row is the model's logits, LayerNorm and the FFN by hand equal the hooks, and post-LN blocks follow the formula."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F  # noqa: N812
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from explorer.analysis.forward.head import head_steps, no_projection
from explorer.analysis.forward.logit_lens import lens_logits, logit_lens
from explorer.analysis.forward.lookup import fruit_lookup
from explorer.analysis.forward.neurons import neurons, top_neurons_per_token, top_tokens_per_neuron
from explorer.analysis.forward.norm import following_norm, norm_axes, norm_steps
from explorer.analysis.forward.record import record_layer, record_residuals
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import PAD
from explorer.models import TransformerConfig, build_model, config_from_dict
from explorer.models.pretrained import convert
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer

V, T = 23, 11
TOL = 1e-5
OWN = {
    "pre-LN decoder": {},
    "post-LN decoder": {"norm_position": "post"},
    "rotary": {"positional": "rotary"},
    "attention only": {"attn_only": True},
    "attention only, post-LN": {"attn_only": True, "norm_position": "post"},
    "no LayerNorm": {"layer_norm": False},
    "encoder": {"causal": False, "head": "classifier"},
}


def _own(**overrides):
    cfg = dict(d_vocab=V, n_ctx=16, d_model=32, n_heads=4, n_layers=2, d_mlp=48)
    cfg.update(overrides)
    model = build_model(TransformerConfig(**cfg))
    with torch.no_grad():  # LayerNorm γ, β away from 1, 0, so a missed norm would show
        for name, p in model.named_parameters():
            if name.endswith(("ln1.weight", "ln2.weight", "ln_final.weight")):
                p.uniform_(0.5, 1.5)
            elif name.endswith(("ln1.bias", "ln2.bias", "ln_final.bias")):
                p.uniform_(-0.3, 0.3)
    return model.eval()


def _tiny_gpt2():
    hf = GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=V, n_positions=24)).eval()
    hf.config._attn_implementation = "eager"
    return convert(hf, "gpt2")


def _tiny_llama():
    hf = LlamaForCausalLM(LlamaConfig(num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2, hidden_size=48,
                                      intermediate_size=64, vocab_size=V, max_position_embeddings=64,
                                      tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0)).eval()
    hf.config._attn_implementation = "eager"
    return convert(hf, "llama")


def _models():
    for name, overrides in OWN.items():
        yield name, _own(**overrides)
    yield "GPT-2 (converted)", _tiny_gpt2()
    yield "Llama with grouped-query attention (converted)", _tiny_llama()


CASES = list(_models())
IDS = [name for name, _ in CASES]


def _tokens() -> torch.Tensor:
    return torch.randint(3, V, (1, T), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize(("name", "model"), CASES, ids=IDS)
def test_recomputed_head_and_layer_equal_the_model(name: str, model) -> None:
    """A·V·W_O plus the residual, recomputed from the weights, equals the model's hook_resid_mid (≤ 1e-5)."""
    tokens = _tokens()
    for layer in range(2):
        record = record_layer(model, tokens, [str(i) for i in tokens[0].tolist()], layer)
        for head in range(record.anatomy.n_heads):
            steps = head_steps(model, record, head)
            assert steps.max_error() <= TOL, (name, layer, head, steps.max_error())
            torch.testing.assert_close(steps.q, record["attn.hook_q"][:, head], atol=TOL, rtol=0)
            torch.testing.assert_close(steps.k, record["attn.hook_k"][:, steps.kv_head], atol=TOL, rtol=0)
            torch.testing.assert_close(steps.z, record["attn.hook_z"][:, head], atol=TOL, rtol=0)
            torch.testing.assert_close(steps.pattern.sum(-1), torch.ones(T))
            if record.anatomy.causal:
                assert steps.pattern.triu(1).abs().max() == 0, "a decoder never looks ahead"
        # hook_z reshaped is the concatenation Z = Concat(H_0 … H_{h−1})
        z = record["attn.hook_z"]
        torch.testing.assert_close(steps.concat, z.reshape(T, -1), atol=TOL, rtol=0)


def test_grouped_query_heads_share_their_keys() -> None:
    model = _tiny_llama()
    record = record_layer(model, _tokens(), ["x"] * T, 0)
    first, third, fourth = (head_steps(model, record, h) for h in (0, 2, 3))
    assert (first.kv_head, third.kv_head, fourth.kv_head) == (0, 0, 1)
    assert torch.equal(first.k, third.k) and not torch.equal(first.k, fourth.k)
    assert not torch.equal(first.q, third.q)


def test_encoder_decoder_stacks_are_recomputed_too() -> None:
    model = _own(encoder_decoder=True, positional="sinusoidal")
    source, target = _tokens(), _tokens()[:, :7]
    for stack, n in (("encoder", T), ("blocks", 7)):
        record = record_layer(model, source, ["x"] * n, 1, stack=stack, decoder_tokens=target)
        steps = head_steps(model, record, 2)
        assert steps.n_tokens == n and steps.max_error() <= TOL
        assert bool(steps.allowed.all()) == (stack == "encoder")


@pytest.mark.parametrize(("name", "model"), [c for c in CASES if c[1].config.causal and
                                             getattr(c[1].config, "head", "lm") == "lm"],
                         ids=[n for n, m in CASES if m.config.causal and getattr(m.config, "head", "lm") == "lm"])
def test_logit_lens_last_layer_equals_the_logits(name: str, model) -> None:
    tokens = _tokens()
    record = record_residuals(model, tokens, ["x"] * T)
    with torch.no_grad():
        logits = model(tokens)[0]  # [pos, d_vocab]
    torch.testing.assert_close(lens_logits(model, record.streams[-1]), logits, atol=TOL, rtol=0)
    torch.testing.assert_close(record.last_logits, logits[-1], atol=TOL, rtol=0)
    # A record in a server's cache holds what it is counted as: not a view that keeps every position's logits.
    for kept in (record.streams, record.last_logits):
        assert kept.untyped_storage().nbytes() == kept.nelement() * kept.element_size()
    lens = logit_lens(model, record, k=3)
    assert torch.equal(lens.final_ids, logits.argmax(-1))
    assert torch.equal(lens.top_ids[-1, :, 0], logits.argmax(-1))
    torch.testing.assert_close(lens.final_probs[-1], logits.softmax(-1).max(-1).values, atol=1e-6, rtol=0)
    assert (lens.final_ranks[-1] == 0).all()
    assert lens.top_probs.shape == (record.anatomy.n_layers + 1, T, 3)
    window = logit_lens(model, record, positions=[2, 5], k=3)
    torch.testing.assert_close(window.top_probs, lens.top_probs[:, [2, 5]])


def test_the_lens_refuses_an_encoder() -> None:
    model = _own(causal=False, head="classifier")
    with pytest.raises(ValueError, match="decoder"):
        logit_lens(model, record_residuals(model, _tokens(), ["x"] * T))


def test_post_ln_block_equals_a_handwritten_formula() -> None:
    """x ← LN1(x + Attn(x)); x ← LN2(x + FFN(x)); logits = x W_U + b_U (no final LayerNorm)."""
    model = _own(norm_position="post", positional="learned")
    tokens = _tokens()

    def ln(x, norm):
        return F.layer_norm(x, (x.shape[-1],), norm.weight, norm.bias, norm.eps)

    with torch.no_grad():
        logits, cache = model.run_with_cache(tokens)
        x = model.W_E[tokens[0]] + model.W_pos[:T]
        for layer, block in enumerate(model.blocks):
            attn = block.attn
            q = torch.einsum("pm,hmd->phd", x, attn.W_Q) + attn.b_Q
            k = torch.einsum("pm,hmd->phd", x, attn.W_K) + attn.b_K
            v = torch.einsum("pm,hmd->phd", x, attn.W_V) + attn.b_V
            scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(attn.d_head)
            scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
            z = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v)
            attn_out = torch.einsum("qhd,hdm->qm", z, attn.W_O) + attn.b_O
            x = ln(x + attn_out, block.ln1)
            mlp = block.mlp
            hidden = F.gelu(x @ mlp.W_in + mlp.b_in)
            x = ln(x + hidden @ mlp.W_out + mlp.b_out, block.ln2)
            torch.testing.assert_close(cache[f"blocks.{layer}.hook_normalized_resid_post"][0], x, atol=TOL, rtol=0)
        torch.testing.assert_close(logits[0], x @ model.W_U + model.b_U, atol=TOL, rtol=0)
    assert model.config.post_ln and isinstance(model.ln_final, torch.nn.Identity)


def test_post_ln_trains_and_old_configs_load_as_pre_ln() -> None:
    cfg = TransformerConfig(d_vocab=12, n_ctx=16, d_model=32, n_heads=4, n_layers=2, d_mlp=64, pad_id=PAD,
                            norm_position="post")
    saved = cfg.to_dict()
    assert config_from_dict(saved) == cfg
    old = {k: v for k, v in saved.items() if k != "norm_position"}  # a checkpoint from before the field existed
    assert config_from_dict(old).norm_position == "pre" and not config_from_dict(old).post_ln
    with pytest.raises(ValueError, match="norm_position"):
        TransformerConfig(norm_position="middle")
    data = make_task(TaskSpec(name="copy", seq_len=4, n_symbols=8, n_train=500, n_val=50))
    cfg = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=16, d_model=32, n_heads=4, n_layers=2,
                            d_mlp=64, pad_id=PAD, norm_position="post")
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=3e-3, max_steps=40, eval_every=40, batch_size=32))
    trainer.step(n_steps=40)
    losses = [row["loss"] for row in trainer.history]
    assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:10]) / 10, "post-LN learns"


@pytest.mark.parametrize(("name", "model"), [CASES[0], CASES[1], CASES[3], CASES[-1]],
                         ids=[CASES[i][0] for i in (0, 1, 3, -1)])
def test_layernorm_by_hand_equals_the_norm_that_reads_resid_mid(name: str, model) -> None:
    record = record_layer(model, _tokens(), ["x"] * T, 0)
    params, where, recorded = following_norm(model, record)
    assert params is not None and recorded is not None, name
    for position in (0, T - 1):
        steps = norm_steps(params, record["hook_resid_mid"][position], where, recorded[position])
        torch.testing.assert_close(steps.output, recorded[position], atol=TOL, rtol=0)
        if steps.kind == "layernorm":
            assert abs(float(steps.normalized.mean())) < 1e-5
            assert abs(float(steps.normalized.pow(2).mean()) - 1) < 1e-3
    axes = norm_axes(record["hook_resid_mid"])
    torch.testing.assert_close(axes.normalized.mean(1), torch.zeros(T), atol=1e-5, rtol=0)
    assert axes.feature_mean.shape == (record.anatomy.d_model,)


def test_feed_forward_neurons_rebuild_the_mlp_output() -> None:
    for _name, model in (CASES[0], CASES[-1]):
        record = record_layer(model, _tokens(), [f"t{i}" for i in range(T)], 1)
        layer = neurons(model, record)
        torch.testing.assert_close(layer.out, layer.recorded_out, atol=TOL, rtol=0)
        top = top_tokens_per_neuron(layer.post, [f"t{i}" for i in range(T)], [0, 1], k=3)
        assert list(top["neuron"]) == [0, 0, 0, 1, 1, 1]
        assert top.iloc[0]["activation"] == float(layer.post[:, 0].max())
        assert top_neurons_per_token(layer.post, 4, k=5)["activation"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="attention-only"):
        neurons(CASES[3][1], record_layer(CASES[3][1], _tokens(), ["x"] * T, 0))


def test_without_projections_scores_are_symmetric() -> None:
    model = _own(causal=False, head="classifier")
    steps = head_steps(model, record_layer(model, _tokens(), ["x"] * T, 0), 0)
    plain = no_projection(steps)
    assert plain.symmetric_gap < 1e-4
    torch.testing.assert_close(plain.pattern.sum(-1), torch.ones(T))
    assert plain.output.shape == (T, 32)


def test_a_sharp_query_is_a_database_lookup() -> None:
    hard = fruit_lookup("plum", sharpness=60.0)
    assert abs(hard.answer - 3.0) < 1e-3 and hard.weights.argmax() == hard.keys.index("plum")
    soft = fruit_lookup("plum", sharpness=0.0)
    torch.testing.assert_close(soft.weights, torch.full((5,), 0.2, dtype=torch.float64))
    mixed = fruit_lookup("apple", "cherry", blend=0.5, sharpness=6.0)
    assert 1.0 < mixed.answer < 6.0
