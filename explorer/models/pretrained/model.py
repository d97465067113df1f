"""A pretrained transformer with our interface: TransformerLens hook names, per-head weights, tokenizer helpers.

Converters (bert.py, gpt2.py, llama.py) build it from a Hugging Face model's weights; the forward pass here is
our own (explicit softmax, every intermediate on a hook point), and tests check it against Hugging Face's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual name)

from explorer.models.hooks import HookedModel, HookPoint
from explorer.models.pretrained.block import PretrainedBlock
from explorer.models.pretrained.components import HeadTransform, Norm, frozen, rotary_cos_sin
from explorer.models.pretrained.config import PretrainedConfig
from explorer.models.pretrained.tokens import encode, readable_tokens


class PretrainedModel(HookedModel):
    """A converted checkpoint, read-only (eval mode, no gradients). A fine-tuning run trains its own copy, which
    shares the tensors it does not train (explorer/models/finetune); dropout stays off there too.

    ``run_with_cache(tokens)`` records ``hook_embed``, ``hook_pos_embed`` (learned positions),
    ``hook_token_type_embed`` (BERT), ``embed_ln.hook_normalized`` (encoders), ``blocks.{L}.hook_resid_pre|mid|post``,
    ``blocks.{L}.ln1|ln2.hook_normalized``, ``blocks.{L}.attn.hook_q|k|v|z`` [batch, pos, head, d_head],
    ``blocks.{L}.attn.hook_attn_scores|hook_pattern`` [batch, head, q_pos, k_pos], ``blocks.{L}.hook_attn_out``,
    ``blocks.{L}.mlp.hook_pre|hook_post``, ``blocks.{L}.hook_mlp_out``, ``ln_final.hook_normalized`` (decoders).
    """

    def __init__(self, config: PretrainedConfig, tokenizer: Any, *, W_E: torch.Tensor, blocks: list[PretrainedBlock],
                 W_pos: torch.Tensor | None = None, token_type: torch.Tensor | None = None,
                 embed_ln: Norm | None = None, ln_final: Norm | None = None,
                 head_transform: HeadTransform | None = None,
                 unembed: torch.Tensor | None = None, unembed_bias: torch.Tensor | None = None,
                 inv_freq: torch.Tensor | None = None, rotary_scale: float = 1.0):
        """``W_E`` [d_vocab, d_model]; ``W_pos`` [n_ctx, d_model]; ``token_type`` [d_model] (segment 0's vector);
        ``unembed`` [d_vocab, d_model] (None: tied to W_E); ``inv_freq`` [d_head / 2] for rotary positions."""
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.embed_weight, self.pos_weight, self.token_type = frozen(W_E), frozen(W_pos), frozen(token_type)
        self.hook_embed = HookPoint()
        if W_pos is not None:
            self.hook_pos_embed = HookPoint()
        if token_type is not None:
            self.hook_token_type_embed = HookPoint()
        self.embed_ln = embed_ln
        self.blocks = nn.ModuleList(blocks)
        self.ln_final, self.head_transform = ln_final, head_transform
        self.unembed_weight, self.unembed_bias = frozen(unembed), frozen(unembed_bias)
        if inv_freq is not None:
            self.register_buffer("inv_freq", inv_freq.float(), persistent=False)
        self.rotary_scale = rotary_scale
        self.eval()

    # ----------------------------------------------------------------- TransformerLens weights
    @property
    def W_E(self) -> torch.Tensor:
        """Token embeddings [d_vocab, d_model]."""
        return self.embed_weight

    @property
    def W_pos(self) -> torch.Tensor | None:
        """Learned position embeddings [n_ctx, d_model]; None for rotary positions (applied to q and k instead)."""
        return self.pos_weight

    @property
    def W_U(self) -> torch.Tensor:
        """Unembedding [d_model, d_vocab]. Tied models (GPT-2, SmolLM2) and checkpoints without a language-model
        head (MiniLM, a sentence encoder) use W_Eᵀ: MiniLM's "logits" are then the final states' dot products
        with the token embeddings, not trained predictions."""
        return (self.embed_weight if self.unembed_weight is None else self.unembed_weight).T

    @property
    def b_U(self) -> torch.Tensor:
        """[d_vocab] (zeros when the checkpoint has none)."""
        return self.embed_weight.new_zeros(self.config.d_vocab) if self.unembed_bias is None else self.unembed_bias

    # ----------------------------------------------------------------- tokens
    def to_tokens(self, text: str, max_tokens: int | None = None) -> torch.Tensor:
        """LongTensor [1, pos] with the model's special tokens, cut to ``max_tokens`` (at most the context)."""
        ids, _ = encode(self.tokenizer, self.config, text, max_tokens)
        return torch.tensor([ids], dtype=torch.long)

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` makes before any cut (special tokens included)."""
        return encode(self.tokenizer, self.config, text, None)[1]

    def to_str_tokens(self, text_or_tokens: str | torch.Tensor | list[int], max_tokens: int | None = None) -> list[str]:
        """Readable tokens (no byte-level "Ġ") of a text, or of token ids [pos] / [1, pos]."""
        if isinstance(text_or_tokens, str):
            ids, _ = encode(self.tokenizer, self.config, text_or_tokens, max_tokens)
        else:
            ids = torch.as_tensor(text_or_tokens).reshape(-1).tolist()
        return readable_tokens(self.tokenizer, ids)

    # ----------------------------------------------------------------- forward
    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [batch, pos] -> the first residual stream [batch, pos, d_model]."""
        cfg = self.config
        n_pos = tokens.shape[1]
        if cfg.positional == "learned" and n_pos > cfg.n_ctx:
            raise ValueError(f"{cfg.name} learned positions 0..{cfg.n_ctx - 1} only; the input has {n_pos} tokens. "
                             "Cut the input (to_tokens does) or use a model with a longer context.")
        x = self.hook_embed(F.embedding(tokens, self.embed_weight))  # [batch, pos, d_model]
        if self.pos_weight is not None:
            positions = self.pos_weight[cfg.pos_offset: cfg.pos_offset + n_pos]  # [pos, d_model]
            x = x + self.hook_pos_embed(positions.expand(tokens.shape[0], -1, -1))
        if self.token_type is not None:
            x = x + self.hook_token_type_embed(self.token_type.expand_as(x))
        return x if self.embed_ln is None else self.embed_ln(x)

    def forward(self, tokens: torch.Tensor, attention_mask: torch.Tensor | None = None,
                return_type: str | None = "logits") -> torch.Tensor:
        """tokens [batch, pos] -> logits [batch, pos, d_vocab]. ``attention_mask`` [batch, pos]: 1 for real tokens.

        ``return_type=None`` (as TransformerLens's) stops at the last block's residual stream [batch, pos, d_model]:
        a page that reads attention patterns does not pay for the vocabulary projection (30,522 × 384 for MiniLM)."""
        if return_type is None:
            return self._blocks(tokens, attention_mask)
        x = self.final_hidden(tokens, attention_mask)
        if self.head_transform is not None:
            x = self.head_transform(x)
        unembed = self.embed_weight if self.unembed_weight is None else self.unembed_weight
        return F.linear(x, unembed, self.unembed_bias)  # [batch, pos, d_vocab]

    def final_hidden(self, tokens: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The last residual stream [batch, pos, d_model] (after ``ln_final`` for decoders): what a task head reads
        (a sentence classifier pools it; the language-model head maps it to logits)."""
        x = self._blocks(tokens, attention_mask)
        return self.ln_final(x) if self.ln_final is not None else x

    def _blocks(self, tokens: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings through every block: the residual stream [batch, pos, d_model] before any final norm."""
        cfg = self.config
        n_pos = tokens.shape[1]
        allowed = None if attention_mask is None else attention_mask.bool()[:, None, None, :]  # [batch, 1, 1, k]
        if cfg.causal:
            causal = torch.ones(n_pos, n_pos, dtype=torch.bool, device=tokens.device).tril()  # [q, k]
            allowed = causal if allowed is None else allowed & causal
        rotary = rotary_cos_sin(n_pos, self.inv_freq, self.rotary_scale) if cfg.positional == "rotary" else None
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, allowed, rotary)
        return x

    def train(self, mode: bool = True) -> PretrainedModel:
        """Always eval: a pretrained model here is read-only and shared (dropout stays off)."""
        return super().train(False)
