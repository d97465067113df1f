"""BERT's masked-language-model corruption (Devlin et al. 2019, §3.1): choose 15 % of the tokens to predict; of
those, replace 80 % by [MASK], 10 % by a random token, and keep 10 % as they are. The loss counts the chosen
positions only (every other label is IGNORE), so the model cannot learn to copy its input, and the random and
kept tokens stop it from learning that only [MASK] positions matter.

Special tokens (<pad>, <unk>, <bos>, <sep>) are never chosen, nor used as random replacements.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.data.batches import IGNORE, Formatted
from explorer.data.tokenizers import SPECIALS, Tokenizer
from explorer.models.config import ModelConfig, TransformerConfig

CHOOSE = 0.15  # share of the tokens the model must predict
AS_MASK, AS_RANDOM = 0.8, 0.1  # of the chosen: replaced by [MASK], by a random token (the rest is kept)


@dataclass(frozen=True)
class MaskingSpec:
    """Which id is [MASK], and the ids of ordinary tokens (``first_real`` up to, not including, ``end_real``)."""

    mask_id: int
    first_real: int
    end_real: int


def masking_for(config: ModelConfig, tokenizer: Tokenizer) -> MaskingSpec | None:
    """The spec for a masked-LM transformer (its [MASK] id comes after the tokenizer's vocabulary); else None."""
    if not isinstance(config, TransformerConfig) or config.head != "mlm":
        return None
    return MaskingSpec(mask_id=config.mask_id, first_real=len(SPECIALS), end_real=tokenizer.vocab_size)


def mask_tokens(tokens: torch.Tensor, spec: MaskingSpec,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted inputs, labels), both [batch, pos], from clean ``tokens`` [batch, pos].

    ``labels`` holds the original token where one was chosen and IGNORE everywhere else. A batch with ordinary
    tokens always gets at least one chosen position (a loss over no position at all would be NaN)."""
    device = tokens.device
    candidates = (tokens >= spec.first_real) & (tokens < spec.end_real)  # [batch, pos]
    draw = torch.rand(tokens.shape, generator=generator).to(device)
    chosen = candidates & (draw < CHOOSE)
    if not bool(chosen.any()) and bool(candidates.any()):
        flat = candidates.flatten().nonzero().squeeze(1)
        pick = flat[torch.randint(len(flat), (1,), generator=generator).to(device)]
        chosen = chosen.flatten().index_fill(0, pick, True).view_as(chosen)
    how = torch.rand(tokens.shape, generator=generator).to(device)
    as_mask = chosen & (how < AS_MASK)
    as_random = chosen & (how >= AS_MASK) & (how < AS_MASK + AS_RANDOM)
    random_ids = torch.randint(spec.first_real, max(spec.first_real + 1, spec.end_real), tokens.shape,
                               generator=generator).to(device)
    inputs = torch.where(as_mask, torch.full_like(tokens, spec.mask_id), tokens)
    inputs = torch.where(as_random, random_ids, inputs)
    labels = torch.where(chosen, tokens, torch.full_like(tokens, IGNORE))
    return inputs, labels


def mask_batch(batch: Formatted, spec: MaskingSpec, generator: torch.Generator | None = None) -> Formatted:
    """A formatted masked-LM batch (inputs = labels = the clean text) corrupted by :func:`mask_tokens`."""
    inputs, labels = mask_tokens(batch.inputs, spec, generator)
    return Formatted(inputs, labels)
