"""BERT-family encoders (BERT, MiniLM, RoBERTa, DistilBERT) -> :class:`PretrainedModel`.

Post-LayerNorm blocks (Devlin et al. 2019): word + position (+ token-type) embeddings, LayerNorm, then per layer
    h = LN1(x + Attn(x)),   x' = LN2(h + W_2 GELU(W_1 h)).
Segment (token-type) 0 is used for every token, as for a single sentence. RoBERTa numbers positions from
padding_idx + 1 (``pos_offset``); its position table has that many extra rows.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from explorer.models.pretrained.block import PretrainedBlock
from explorer.models.pretrained.common import linear, special_ids
from explorer.models.pretrained.components import HeadTransform, Norm, PretrainedAttention, PretrainedMLP
from explorer.models.pretrained.config import PretrainedConfig
from explorer.models.pretrained.model import PretrainedModel


def _norm(layer: nn.LayerNorm) -> Norm:
    return Norm(layer.weight, layer.bias, layer.eps)


def _bert_blocks(layers: nn.ModuleList, n_heads: int, d_head: int, act_fn: str) -> list[PretrainedBlock]:
    blocks = []
    for layer in layers:
        self_attn, out = layer.attention.self, layer.attention.output
        attn = PretrainedAttention(linear(self_attn.query), linear(self_attn.key), linear(self_attn.value),
                                   linear(out.dense), n_heads, n_heads, d_head)
        mlp = PretrainedMLP(linear(layer.intermediate.dense), linear(layer.output.dense), act_fn)
        blocks.append(PretrainedBlock(attn, mlp, _norm(out.LayerNorm), _norm(layer.output.LayerNorm), post_ln=True))
    return blocks


def convert_bert(hf_model: Any, name: str, tokenizer: Any = None, source: str = "") -> PretrainedModel:
    """A BertModel / BertForMaskedLM / RobertaModel / RobertaForMaskedLM (or any model with one inside)."""
    hf_cfg = hf_model.config
    roberta = hf_cfg.model_type in ("roberta", "xlm-roberta")
    base = hf_model.base_model
    pos_offset = hf_cfg.pad_token_id + 1 if roberta else 0
    d_head = hf_cfg.hidden_size // hf_cfg.num_attention_heads
    head = getattr(getattr(hf_model, "cls", None), "predictions", None)  # BertForMaskedLM
    if head is None:
        head = getattr(hf_model, "lm_head", None)  # RobertaForMaskedLM
    config = PretrainedConfig(
        name=name, architecture="roberta" if roberta else "bert", n_layers=hf_cfg.num_hidden_layers,
        n_heads=hf_cfg.num_attention_heads, d_model=hf_cfg.hidden_size, d_head=d_head,
        d_mlp=hf_cfg.intermediate_size, d_vocab=hf_cfg.vocab_size, n_ctx=hf_cfg.max_position_embeddings - pos_offset,
        causal=False, positional="learned", post_ln=True, eps=hf_cfg.layer_norm_eps, act_fn=hf_cfg.hidden_act,
        pos_offset=pos_offset, token_types=True, has_lm_head=head is not None, source=source,
        **special_ids(hf_cfg, tokenizer))
    emb = base.embeddings
    transform, unembed, unembed_bias = None, None, None
    if head is not None and roberta:
        transform = HeadTransform(linear(head.dense), _norm(head.layer_norm), "gelu")
        unembed, unembed_bias = head.decoder.weight, head.bias
    elif head is not None:
        transform = HeadTransform(linear(head.transform.dense), _norm(head.transform.LayerNorm), hf_cfg.hidden_act)
        unembed, unembed_bias = head.decoder.weight, head.bias
    return PretrainedModel(
        config, tokenizer, W_E=emb.word_embeddings.weight, W_pos=emb.position_embeddings.weight,
        token_type=emb.token_type_embeddings.weight[0], embed_ln=_norm(emb.LayerNorm),
        blocks=_bert_blocks(base.encoder.layer, config.n_heads, d_head, hf_cfg.hidden_act),
        head_transform=transform, unembed=unembed, unembed_bias=unembed_bias)


def convert_distilbert(hf_model: Any, name: str, tokenizer: Any = None, source: str = "") -> PretrainedModel:
    """A DistilBertModel / DistilBertForMaskedLM: BERT without token types, with its own weight names."""
    hf_cfg = hf_model.config
    base = hf_model.base_model
    d_head = hf_cfg.dim // hf_cfg.n_heads
    masked_lm = hasattr(hf_model, "vocab_projector")
    config = PretrainedConfig(
        name=name, architecture="distilbert", n_layers=hf_cfg.n_layers, n_heads=hf_cfg.n_heads, d_model=hf_cfg.dim,
        d_head=d_head, d_mlp=hf_cfg.hidden_dim, d_vocab=hf_cfg.vocab_size, n_ctx=hf_cfg.max_position_embeddings,
        causal=False, positional="learned", post_ln=True, eps=1e-12, act_fn=hf_cfg.activation,
        has_lm_head=masked_lm, source=source, **special_ids(hf_cfg, tokenizer))
    blocks = []
    for layer in base.transformer.layer:
        a = layer.attention
        attn = PretrainedAttention(linear(a.q_lin), linear(a.k_lin), linear(a.v_lin), linear(a.out_lin),
                                   config.n_heads, config.n_heads, d_head)
        mlp = PretrainedMLP(linear(layer.ffn.lin1), linear(layer.ffn.lin2), hf_cfg.activation)
        blocks.append(PretrainedBlock(attn, mlp, _norm(layer.sa_layer_norm), _norm(layer.output_layer_norm), True))
    transform = unembed = unembed_bias = None
    if masked_lm:
        transform = HeadTransform(linear(hf_model.vocab_transform), _norm(hf_model.vocab_layer_norm), hf_cfg.activation)
        unembed, unembed_bias = hf_model.vocab_projector.weight, hf_model.vocab_projector.bias
    emb = base.embeddings
    return PretrainedModel(config, tokenizer, W_E=emb.word_embeddings.weight, W_pos=emb.position_embeddings.weight,
                           embed_ln=_norm(emb.LayerNorm), blocks=blocks, head_transform=transform, unembed=unembed,
                           unembed_bias=unembed_bias)
