"""GPT-2 -> :class:`PretrainedModel` (Radford et al. 2019): a pre-LayerNorm decoder with learned positions.

GPT-2 stores its projections as ``Conv1D`` (weight [in, out], the transpose of ``nn.Linear``) and Q, K, V in one
matrix ``c_attn`` [d_model, 3·d_model]; we split and transpose them (views, no copy). Its MLP uses the tanh
approximation of GELU ("gelu_new"); the unembedding is tied to W_E.
"""

from __future__ import annotations

from typing import Any

from explorer.models.pretrained.block import PretrainedBlock
from explorer.models.pretrained.common import special_ids
from explorer.models.pretrained.components import Norm, PretrainedAttention, PretrainedMLP
from explorer.models.pretrained.config import PretrainedConfig
from explorer.models.pretrained.model import PretrainedModel


def _conv1d(layer: Any) -> tuple:
    """(weight [out, in], bias) of a GPT-2 Conv1D, whose own weight is [in, out]."""
    return layer.weight.T, layer.bias


def convert_gpt2(hf_model: Any, name: str, tokenizer: Any = None, source: str = "") -> PretrainedModel:
    """A GPT2Model or GPT2LMHeadModel."""
    hf_cfg = hf_model.config
    base = hf_model.base_model
    d_model, n_heads = hf_cfg.n_embd, hf_cfg.n_head
    d_head = d_model // n_heads
    if not hf_cfg.scale_attn_weights:
        raise ValueError("This GPT-2 variant does not scale its attention scores (scale_attn_weights=False).")
    ids = special_ids(hf_cfg, tokenizer)
    config = PretrainedConfig(
        name=name, architecture="gpt2", n_layers=hf_cfg.n_layer, n_heads=n_heads, d_model=d_model, d_head=d_head,
        d_mlp=hf_cfg.n_inner or 4 * d_model, d_vocab=hf_cfg.vocab_size, n_ctx=hf_cfg.n_positions, causal=True,
        positional="learned", eps=hf_cfg.layer_norm_epsilon, act_fn=hf_cfg.activation_function,
        attn_scale_by_layer=hf_cfg.scale_attn_by_inverse_layer_idx, prepend_bos=True,
        has_lm_head=True, source=source, **ids)
    blocks = []
    for index, layer in enumerate(base.h):
        weight, bias = _conv1d(layer.attn.c_attn)  # [3·d_model, d_model], [3·d_model]
        q, k, v = ((weight[i * d_model:(i + 1) * d_model], bias[i * d_model:(i + 1) * d_model]) for i in range(3))
        scale = d_head ** -0.5 / (index + 1 if config.attn_scale_by_layer else 1)
        attn = PretrainedAttention(q, k, v, _conv1d(layer.attn.c_proj), n_heads, n_heads, d_head, scale=scale)
        mlp = PretrainedMLP(_conv1d(layer.mlp.c_fc), _conv1d(layer.mlp.c_proj), hf_cfg.activation_function)
        ln1 = Norm(layer.ln_1.weight, layer.ln_1.bias, layer.ln_1.eps)
        ln2 = Norm(layer.ln_2.weight, layer.ln_2.bias, layer.ln_2.eps)
        blocks.append(PretrainedBlock(attn, mlp, ln1, ln2, post_ln=False))
    lm_head = getattr(hf_model, "lm_head", None)
    tied = lm_head is None or lm_head.weight.data_ptr() == base.wte.weight.data_ptr()
    return PretrainedModel(config, tokenizer, W_E=base.wte.weight, W_pos=base.wpe.weight, blocks=blocks,
                           ln_final=Norm(base.ln_f.weight, base.ln_f.bias, base.ln_f.eps),
                           unembed=None if tied else lm_head.weight)
