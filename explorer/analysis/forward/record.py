"""Recording one input for the walk: every layer's residual stream (cheap), and one layer in full detail.

Two records instead of one cache of everything: SmolLM2 on 512 tokens would hold about 600 MB of activations,
whereas the walk looks at one layer at a time. Both come from ``run_with_cache`` with a names filter, without the
batch dimension, in float32 on the CPU. The T × T scores and patterns are not kept: the head arithmetic recomputes
them for the one head it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from explorer.analysis.forward.anatomy import Anatomy, anatomy

SKIPPED = ("hook_attn_scores", "hook_pattern")  # [head, T, T] per layer: recomputed for one head instead


@dataclass
class ResidualRecord:
    """The residual stream of one input before the first block and after each block.

    ``streams`` [n_layers + 1, pos, d_model]: row 0 is what block 0 reads (token + position embeddings, BERT's
    embedding LayerNorm included), row L + 1 what block L writes (post-LN: its normalised output, the next block's
    input). ``last_logits`` [d_vocab]: the model's logits at the last position (decoder language models).
    """

    stack: str
    tokens: list[int]
    str_tokens: list[str]
    streams: torch.Tensor
    last_logits: torch.Tensor | None
    anatomy: Anatomy


@dataclass
class LayerRecord:
    """Every activation of one block for one input, keyed by its name inside the block (``"attn.hook_q"``,
    ``"ln1.hook_normalized"``, ``"hook_resid_mid"``…), each [pos, ...]. ``following_norm`` is the output of the
    norm that reads this block's resid_mid when the block has none of its own (attention-only pre-LN blocks: the
    next block's LN1, or the final norm), else None."""

    stack: str
    layer: int
    tokens: list[int]
    str_tokens: list[str]
    cache: dict[str, torch.Tensor]
    anatomy: Anatomy
    following_norm: torch.Tensor | None = None

    def get(self, name: str) -> torch.Tensor | None:
        return self.cache.get(name)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.cache[name]


def _run(model: Any, tokens: torch.Tensor, decoder_tokens: torch.Tensor | None, names_filter):
    device = next(model.parameters()).device
    args = (tokens.to(device),) if decoder_tokens is None else (tokens.to(device), decoder_tokens.to(device))
    logits, cache = model.run_with_cache(*args, names_filter=names_filter)
    return logits, {name: value[0].float().cpu() for name, value in cache.items()}


def _check_stack(model: Any, stack: str) -> None:
    if stack == "encoder" and not getattr(model.config, "encoder_decoder", False):
        raise ValueError("Only an encoder-decoder model has a separate encoder stack.")


@torch.no_grad()
def record_residuals(model: Any, tokens: torch.Tensor, str_tokens: list[str], *, stack: str = "blocks",
                     decoder_tokens: torch.Tensor | None = None, name: str = "") -> ResidualRecord:
    """``tokens`` [1, pos] (an encoder-decoder also needs ``decoder_tokens`` [1, dec_pos]; ``stack`` "blocks" is
    then its decoder, and ``str_tokens`` the tokens of the stack shown)."""
    _check_stack(model, stack)
    shape = anatomy(model, name)
    post = "hook_normalized_resid_post" if shape.post_ln else "hook_resid_post"
    wanted = {f"{stack}.0.hook_resid_pre"} | {f"{stack}.{layer}.{post}" for layer in range(shape.n_layers)}
    logits, cache = _run(model, tokens, decoder_tokens, lambda n: n in wanted)
    streams = torch.stack([cache[f"{stack}.0.hook_resid_pre"]]
                          + [cache[f"{stack}.{layer}.{post}"] for layer in range(shape.n_layers)])
    last = None
    if stack == "blocks" and logits.dim() == 3:  # language-model logits [batch, pos, d_vocab]
        last = logits[0, -1].float().cpu().clone()  # a copy: a view would keep all [pos, d_vocab] logits alive
    ids = (decoder_tokens if decoder_tokens is not None and stack == "blocks" else tokens)[0].tolist()
    return ResidualRecord(stack, ids, list(str_tokens), streams, last, shape)


@torch.no_grad()
def record_layer(model: Any, tokens: torch.Tensor, str_tokens: list[str], layer: int, *, stack: str = "blocks",
                 decoder_tokens: torch.Tensor | None = None, name: str = "") -> LayerRecord:
    """Every hook of block ``layer`` of ``stack`` (except the T × T scores and patterns), see :func:`record_residuals`
    for the arguments."""
    _check_stack(model, stack)
    shape = anatomy(model, name)
    if not 0 <= layer < shape.n_layers:
        raise ValueError(f"This model has layers 0..{shape.n_layers - 1}; there is no layer {layer}.")
    prefix = f"{stack}.{layer}."
    following = None
    if not shape.post_ln and shape.d_mlp is None and shape.norm != "none":
        following = f"{stack}.{layer + 1}.ln1.hook_normalized" if layer + 1 < shape.n_layers else \
            ("encoder_ln_final.hook_normalized" if stack == "encoder" else "ln_final.hook_normalized")

    def wanted(n: str) -> bool:
        return (n.startswith(prefix) and not n.endswith(SKIPPED)) or n == following

    _, cache = _run(model, tokens, decoder_tokens, wanted)
    inside = {n[len(prefix):]: v for n, v in cache.items() if n.startswith(prefix)}
    ids = (decoder_tokens if decoder_tokens is not None and stack == "blocks" else tokens)[0].tolist()
    return LayerRecord(stack, layer, ids, list(str_tokens), inside, shape,
                       following_norm=cache.get(following) if following else None)
