"""A small, readable transformer: decoder-only LM, encoder-only classifier, or encoder-decoder.

Pre-LayerNorm residual blocks by default (as GPT-2): each block reads the residual stream, and adds back what
its attention and MLP compute (Elhage et al. 2021's residual-stream view):
    resid_mid  = resid_pre + Attn(LN1(resid_pre))
    resid_post = resid_mid + MLP(LN2(resid_mid))                 then LN_final before W_U
Post-LayerNorm blocks (``norm_position="post"``, Vaswani et al. 2017's "Add & Norm", as BERT), with the hook names
of TransformerLens's BertBlock:
    resid_mid  = resid_pre + Attn(resid_pre)                     (hook_resid_mid, before LN1)
    resid_post = LN1(resid_mid) + MLP(LN1(resid_mid))            (hook_resid_post, before LN2)
    output     = LN2(resid_post)                                 (hook_normalized_resid_post; no LN_final)
Hook names and weight shapes follow TransformerLens (see DESIGN.md). In an encoder-decoder model the
encoder stack is ``encoder.{L}`` and the decoder stack is ``blocks.{L}``, whose blocks also
cross-attend (``blocks.{L}.cross_attn.hook_pattern`` [batch, head, dec_pos, enc_pos]).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from explorer.models.attention import Attention, causal_allowed
from explorer.models.config import TransformerConfig
from explorer.models.hooks import HookedModel, HookPoint
from explorer.models.pooling import pool
from explorer.models.positional import rotary_angles, sinusoidal_table


class LayerNormHooked(nn.LayerNorm):
    """LayerNorm with ``hook_normalized`` on its output."""

    def __init__(self, d_model: int):
        super().__init__(d_model)
        self.hook_normalized = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hook_normalized(super().forward(x))


class MLP(nn.Module):
    """``W_out · act(W_in · x + b_in) + b_out`` with W_in [d_model, d_mlp], W_out [d_mlp, d_model]."""

    def __init__(self, d_model: int, d_mlp: int, act_fn: str):
        super().__init__()
        self.W_in = nn.Parameter(torch.randn(d_model, d_mlp) / math.sqrt(d_model))
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = nn.Parameter(torch.randn(d_mlp, d_model) / math.sqrt(d_mlp))
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.act = nn.GELU() if act_fn == "gelu" else nn.ReLU()
        self.hook_pre, self.hook_post = HookPoint(), HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.hook_pre(x @ self.W_in + self.b_in)  # [batch, pos, d_mlp]
        return self.hook_post(self.act(pre)) @ self.W_out + self.b_out  # [batch, pos, d_model]


def _norm(cfg: TransformerConfig) -> nn.Module:
    return LayerNormHooked(cfg.d_model) if cfg.layer_norm else nn.Identity()


class Block(nn.Module):
    """One residual block: self-attention, optional cross-attention, optional MLP."""

    def __init__(self, cfg: TransformerConfig, cross_attention: bool = False):
        super().__init__()
        self.ln1 = _norm(cfg)
        self.attn = Attention(cfg.d_model, cfg.n_heads, cfg.d_head, rotary=cfg.positional == "rotary")
        self.hook_resid_pre, self.hook_attn_out, self.hook_resid_mid = HookPoint(), HookPoint(), HookPoint()
        self.cross_attention = cross_attention
        if cross_attention:
            self.ln_cross = _norm(cfg)
            self.cross_attn = Attention(cfg.d_model, cfg.n_heads, cfg.d_head)
            self.hook_cross_attn_out, self.hook_resid_mid_cross = HookPoint(), HookPoint()
        self.attn_only = cfg.attn_only
        if not cfg.attn_only:
            self.ln2 = _norm(cfg)
            self.mlp = MLP(cfg.d_model, cfg.d_mlp, cfg.act_fn)
            self.hook_mlp_out = HookPoint()
        self.hook_resid_post = HookPoint()
        self.post_ln = cfg.post_ln
        if self.post_ln:
            self.hook_normalized_resid_post = HookPoint()
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, resid, allowed=None, rotary=None, encoder_out=None, cross_allowed=None):
        """resid [batch, pos, d_model] -> [batch, pos, d_model]."""
        resid = self.hook_resid_pre(resid)
        if self.post_ln:
            return self._post_ln(resid, allowed, rotary, encoder_out, cross_allowed)
        attn_out = self.hook_attn_out(self.dropout(self.attn(self.ln1(resid), allowed=allowed, rotary=rotary)))
        resid = self.hook_resid_mid(resid + attn_out)
        if self.cross_attention:
            cross = self.cross_attn(self.ln_cross(resid), x_kv=encoder_out, allowed=cross_allowed)
            resid = self.hook_resid_mid_cross(resid + self.hook_cross_attn_out(self.dropout(cross)))
        if not self.attn_only:
            resid = resid + self.hook_mlp_out(self.dropout(self.mlp(self.ln2(resid))))
        return self.hook_resid_post(resid)

    def _post_ln(self, resid, allowed, rotary, encoder_out, cross_allowed):
        """Add & Norm after every sub-layer: x = LN(x + F(x)). Attention-only blocks end with LN1."""
        attn_out = self.hook_attn_out(self.dropout(self.attn(resid, allowed=allowed, rotary=rotary)))
        x = self.ln1(self.hook_resid_mid(resid + attn_out))
        if self.cross_attention:
            cross = self.hook_cross_attn_out(self.dropout(self.cross_attn(x, x_kv=encoder_out, allowed=cross_allowed)))
            x = self.ln_cross(self.hook_resid_mid_cross(x + cross))
        if self.attn_only:
            return self.hook_normalized_resid_post(self.hook_resid_post(x))
        mlp_out = self.hook_mlp_out(self.dropout(self.mlp(x)))
        return self.hook_normalized_resid_post(self.ln2(self.hook_resid_post(x + mlp_out)))


class Transformer(HookedModel):
    """The model described by a :class:`TransformerConfig`."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = cfg = config
        self.embed = nn.Embedding(cfg.d_vocab, cfg.d_model)
        nn.init.normal_(self.embed.weight, std=1.0)
        self.hook_embed = HookPoint()
        if cfg.positional == "learned":
            self.pos_embed = nn.Parameter(torch.randn(cfg.n_ctx, cfg.d_model))
        elif cfg.positional == "sinusoidal":
            self.register_buffer("pos_table", sinusoidal_table(cfg.n_ctx, cfg.d_model), persistent=False)
        if cfg.positional in ("learned", "sinusoidal"):
            self.hook_pos_embed = HookPoint()
        self.blocks = nn.ModuleList(Block(cfg, cross_attention=cfg.encoder_decoder) for _ in range(cfg.n_layers))
        # Post-LN blocks already end with a LayerNorm: no final one (Vaswani et al. 2017, BERT).
        self.ln_final = nn.Identity() if cfg.post_ln else _norm(cfg)
        if cfg.encoder_decoder:
            self.encoder = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
            self.encoder_ln_final = nn.Identity() if cfg.post_ln else _norm(cfg)
            self.hook_encoder_embed = HookPoint()
        if cfg.head in ("lm", "mlm"):
            self.W_U = nn.Parameter(torch.randn(cfg.d_model, cfg.d_vocab) / math.sqrt(cfg.d_model))
            self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))
        else:
            self.classifier = nn.Linear(cfg.d_model, cfg.n_classes)
            self.hook_pooled = HookPoint()

    # ----------------------------------------------------------------- weights, TransformerLens names
    @property
    def W_E(self) -> torch.Tensor:
        """Token embeddings ``[d_vocab, d_model]``."""
        return self.embed.weight

    @property
    def W_pos(self) -> torch.Tensor | None:
        """Positional embeddings ``[n_ctx, d_model]`` (learned or sinusoidal); None for rotary/none."""
        if self.config.positional == "learned":
            return self.pos_embed
        if self.config.positional == "sinusoidal":
            return self.pos_table
        return None

    # ----------------------------------------------------------------- forward
    def _residual_input(self, tokens: torch.Tensor, embed_hook: HookPoint) -> torch.Tensor:
        """Token (+ absolute position) embeddings: [batch, pos] -> [batch, pos, d_model]."""
        n_pos = tokens.shape[1]
        x = embed_hook(self.embed(tokens))
        positional = self.config.positional
        if positional == "learned":
            if n_pos > self.config.n_ctx:
                raise ValueError(
                    f"This model learned positions 0..{self.config.n_ctx - 1} only; the input has {n_pos} tokens. "
                    "A learned position table cannot go further: shorten the input."
                )
            x = x + self.hook_pos_embed(self.pos_embed[:n_pos].expand(tokens.shape[0], -1, -1))
        elif positional == "sinusoidal":
            table = self.pos_table if n_pos <= self.pos_table.shape[0] else \
                sinusoidal_table(n_pos, self.config.d_model).to(x.device)
            x = x + self.hook_pos_embed(table[:n_pos].expand(tokens.shape[0], -1, -1))  # [batch, pos, d_model]
        return x

    def _rotary(self, n_pos: int, device: torch.device):
        if self.config.positional != "rotary":
            return None
        cos, sin = rotary_angles(n_pos, self.config.d_head, self.config.rotary_base)
        return cos.to(device), sin.to(device)

    def _key_allowed(self, tokens: torch.Tensor) -> torch.Tensor | None:
        """[batch, 1, 1, k_pos], True for keys that are real tokens (None without padding)."""
        if self.config.pad_id is None:
            return None
        return (tokens != self.config.pad_id)[:, None, None, :]

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Run the encoder stack of an encoder-decoder model: [batch, pos] -> [batch, pos, d_model]."""
        x = self._residual_input(tokens, self.hook_encoder_embed)
        rotary = self._rotary(tokens.shape[1], tokens.device)
        allowed = self._key_allowed(tokens)
        for block in self.encoder:
            x = block(x, allowed=allowed, rotary=rotary)
        return self.encoder_ln_final(x)

    def forward(self, tokens: torch.Tensor, decoder_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """tokens [batch, pos] -> logits [batch, pos, d_vocab] (LM, masked LM) or [batch, n_classes] (classifier).

        Encoder-decoder: ``tokens`` is the source, ``decoder_tokens`` [batch, dec_pos] the shifted
        target; returns [batch, dec_pos, d_vocab].
        """
        cfg = self.config
        encoder_out, cross_allowed = None, None
        if cfg.encoder_decoder:
            if decoder_tokens is None:
                raise ValueError("An encoder-decoder model needs decoder_tokens.")
            encoder_out = self.encode(tokens)
            cross_allowed = self._key_allowed(tokens)
            tokens = decoder_tokens
        n_pos = tokens.shape[1]
        x = self._residual_input(tokens, self.hook_embed)
        allowed = self._key_allowed(tokens)
        if cfg.causal:
            causal = causal_allowed(n_pos, tokens.device)  # [q_pos, k_pos]
            allowed = causal if allowed is None else allowed & causal
        rotary = self._rotary(n_pos, tokens.device)
        for block in self.blocks:
            x = block(x, allowed=allowed, rotary=rotary, encoder_out=encoder_out, cross_allowed=cross_allowed)
        x = self.ln_final(x)
        if cfg.head in ("lm", "mlm"):
            return x @ self.W_U + self.b_U  # [batch, pos, d_vocab]
        mask = None if cfg.pad_id is None else tokens != cfg.pad_id
        pooled = self.hook_pooled(pool(x, mask, cfg.pooling))  # [batch, d_model]
        return self.classifier(pooled)  # [batch, n_classes]
