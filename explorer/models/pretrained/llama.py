"""Llama-family decoders (Llama, SmolLM2) -> :class:`PretrainedModel` (Touvron et al. 2023).

Pre-RMSNorm blocks, rotary positions (Su et al. 2021) with Hugging Face's pairing of dimension i with i + d/2,
grouped-query attention (Ainslie et al. 2023: n_heads query heads share n_kv_heads key/value heads) and a SwiGLU
MLP ``W_down (SiLU(W_gate x) ⊙ W_up x)``. The rotary frequencies come from the loaded model (so any rope
scaling it uses is kept).
"""

from __future__ import annotations

from typing import Any

from explorer.models.pretrained.block import PretrainedBlock
from explorer.models.pretrained.common import linear, special_ids
from explorer.models.pretrained.components import Norm, PretrainedAttention, PretrainedMLP
from explorer.models.pretrained.config import PretrainedConfig
from explorer.models.pretrained.model import PretrainedModel


def _rms(layer: Any) -> Norm:
    return Norm(layer.weight, None, layer.variance_epsilon, kind="rmsnorm")


def convert_llama(hf_model: Any, name: str, tokenizer: Any = None, source: str = "") -> PretrainedModel:
    """A LlamaModel or LlamaForCausalLM (also loaded from GGUF)."""
    hf_cfg = hf_model.config
    base = hf_model.base_model
    n_heads, n_kv = hf_cfg.num_attention_heads, hf_cfg.num_key_value_heads or hf_cfg.num_attention_heads
    d_head = getattr(hf_cfg, "head_dim", None) or hf_cfg.hidden_size // n_heads
    rope = base.rotary_emb
    rope_params = getattr(hf_cfg, "rope_parameters", None) or {}
    config = PretrainedConfig(
        name=name, architecture="llama", n_layers=hf_cfg.num_hidden_layers, n_heads=n_heads, n_kv_heads=n_kv,
        d_model=hf_cfg.hidden_size, d_head=d_head, d_mlp=hf_cfg.intermediate_size, d_vocab=hf_cfg.vocab_size,
        n_ctx=hf_cfg.max_position_embeddings, causal=True, positional="rotary", norm="rmsnorm",
        eps=hf_cfg.rms_norm_eps, act_fn=hf_cfg.hidden_act, gated_mlp=True,
        rotary_base=rope_params.get("rope_theta", getattr(hf_cfg, "rope_theta", None)),
        has_lm_head=True, source=source, **special_ids(hf_cfg, tokenizer))
    blocks = []
    for layer in base.layers:
        a, m = layer.self_attn, layer.mlp
        attn = PretrainedAttention(linear(a.q_proj), linear(a.k_proj), linear(a.v_proj), linear(a.o_proj),
                                   n_heads, n_kv, d_head, rotary=True, scale=a.scaling)
        mlp = PretrainedMLP(linear(m.up_proj), linear(m.down_proj), hf_cfg.hidden_act, gate=linear(m.gate_proj))
        blocks.append(PretrainedBlock(attn, mlp, _rms(layer.input_layernorm), _rms(layer.post_attention_layernorm),
                                      post_ln=False))
    lm_head = getattr(hf_model, "lm_head", None)
    tied = lm_head is None or lm_head.weight.data_ptr() == base.embed_tokens.weight.data_ptr()
    return PretrainedModel(config, tokenizer, W_E=base.embed_tokens.weight, blocks=blocks, ln_final=_rms(base.norm),
                           unembed=None if tied else lm_head.weight, inv_freq=rope.inv_freq,
                           rotary_scale=float(getattr(rope, "attention_scaling", 1.0)))
