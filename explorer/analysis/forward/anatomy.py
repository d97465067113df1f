"""What the walk needs to know about a transformer, the app's own or a pretrained one, in one place.

Both kinds answer ``run_with_cache`` with TransformerLens's hook names and expose per-head weights with its shapes
(``W_Q`` [n_heads, d_model, d_head], ``W_O`` [n_heads, d_head, d_model]); they differ in a few conventions — where
the LayerNorm sits (pre / post), LayerNorm or RMSNorm, grouped-query attention, a gated MLP — which
:class:`Anatomy` names so that the analysis reads the right hooks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class Anatomy:
    """Shapes and conventions of one transformer stack."""

    name: str
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_model: int
    d_head: int
    d_mlp: int | None  # None: attention only
    d_vocab: int
    causal: bool
    post_ln: bool  # LayerNorm after each residual addition (Vaswani et al. 2017, BERT) instead of before (GPT-2)
    norm: str  # "layernorm" | "rmsnorm" | "none"
    rotary: bool
    gated_mlp: bool  # SwiGLU: W_out (act(x W_gate) ⊙ x W_in)
    act_fn: str
    decoder_lm: bool  # predicts the next token (decoder-only language model): logit lens and decoding apply
    encoder_decoder: bool = False

    @property
    def group_size(self) -> int:
        """Query heads per key/value head (1 without grouped-query attention)."""
        return self.n_heads // self.n_kv_heads

    @property
    def d_concat(self) -> int:
        """Width of the heads' outputs side by side: n_heads · d_head."""
        return self.n_heads * self.d_head


def anatomy(model: Any, name: str = "") -> Anatomy:
    """The :class:`Anatomy` of an app transformer (:class:`~explorer.models.Transformer`) or a pretrained one."""
    cfg = model.config
    if hasattr(cfg, "architecture"):  # PretrainedConfig
        return Anatomy(
            name=name or cfg.name, n_layers=cfg.n_layers, n_heads=cfg.n_heads, n_kv_heads=cfg.n_kv_heads,
            d_model=cfg.d_model, d_head=cfg.d_head, d_mlp=cfg.d_mlp, d_vocab=cfg.d_vocab, causal=cfg.causal,
            post_ln=cfg.post_ln, norm=cfg.norm, rotary=cfg.positional == "rotary", gated_mlp=cfg.gated_mlp,
            act_fn=cfg.act_fn, decoder_lm=cfg.causal)
    if not hasattr(cfg, "d_model"):
        raise ValueError("The forward-pass walk needs a transformer; recurrent models have no attention heads.")
    return Anatomy(
        name=name, n_layers=cfg.n_layers, n_heads=cfg.n_heads, n_kv_heads=cfg.n_heads, d_model=cfg.d_model,
        d_head=cfg.d_head, d_mlp=None if cfg.attn_only else cfg.d_mlp, d_vocab=cfg.d_vocab, causal=cfg.causal,
        post_ln=cfg.post_ln, norm="layernorm" if cfg.layer_norm else "none", rotary=cfg.positional == "rotary",
        gated_mlp=False, act_fn=cfg.act_fn, decoder_lm=cfg.head == "lm" and cfg.causal and not cfg.encoder_decoder,
        encoder_decoder=cfg.encoder_decoder)


def stack_blocks(model: Any, stack: str = "blocks") -> nn.ModuleList:
    """The blocks of a stack: ``blocks`` (decoder, or the only stack) or ``encoder`` (encoder-decoder models)."""
    if stack not in ("blocks", "encoder"):
        raise ValueError(f"Unknown stack {stack!r}: 'blocks' or 'encoder'.")
    return getattr(model, stack)


def attention_scale(attn: nn.Module) -> float:
    """What the scores are multiplied by: 1/√d_head (the pretrained adapter may store another, e.g. GPT-2's
    optional 1/(layer + 1))."""
    return float(getattr(attn, "scale", 1.0 / math.sqrt(attn.d_head)))


def kv_head_of(attn: nn.Module, head: int) -> int:
    """The key/value head query head ``head`` reads (itself without grouped-query attention)."""
    n_kv = getattr(attn, "n_kv_heads", attn.n_heads)
    return head // (attn.n_heads // n_kv)


@dataclass(frozen=True)
class NormParameters:
    """A LayerNorm (γ, β, ε) or RMSNorm (γ, ε) as plain tensors: γ and β are [d_model]."""

    kind: str  # "layernorm" | "rmsnorm"
    gamma: torch.Tensor
    beta: torch.Tensor | None
    eps: float


def norm_parameters(module: nn.Module | None) -> NormParameters | None:
    """The parameters of an app LayerNorm or a pretrained ``Norm``; None for a missing or identity norm."""
    if isinstance(module, nn.LayerNorm):
        return NormParameters("layernorm", module.weight.detach().float().cpu(), module.bias.detach().float().cpu(),
                              module.eps)
    gamma = getattr(module, "w", None)
    if isinstance(gamma, torch.Tensor):
        beta = getattr(module, "b", None)
        return NormParameters(getattr(module, "kind", "layernorm"), gamma.detach().float().cpu(),
                              None if beta is None else beta.detach().float().cpu(), float(module.eps))
    return None
