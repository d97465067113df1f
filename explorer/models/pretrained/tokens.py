"""Text ↔ token ids with a checkpoint's own tokenizer, cut to the model's context, shown readably."""

from __future__ import annotations

from typing import Any

from explorer.models.pretrained.config import PretrainedConfig


def encode(tokenizer: Any, config: PretrainedConfig, text: str, max_tokens: int | None = None) -> tuple[list[int], int]:
    """Token ids as the model expects them, and how many there were before cutting.

    Special tokens are the tokenizer's own ([CLS] … [SEP] for BERT); GPT-2 inputs start with <|endoftext|>
    (``config.prepend_bos``), as in TransformerLens. Inputs longer than ``max_tokens`` (at most the context
    ``n_ctx``) are cut at the end, keeping a closing [SEP].
    """
    if tokenizer is None:
        raise ValueError(f"{config.name} was loaded without a tokenizer: pass token ids instead of text.")
    ids = list(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
    if config.prepend_bos and config.bos_id is not None and (not ids or ids[0] != config.bos_id):
        ids = [config.bos_id, *ids]
    n_total = len(ids)
    limit = config.n_ctx if max_tokens is None else max(1, min(max_tokens, config.n_ctx))
    if n_total > limit:
        closing = ids[-1] if config.sep_id is not None and ids[-1] == config.sep_id else None
        ids = [*ids[: limit - 1], closing] if closing is not None else ids[:limit]
    return ids, n_total


def readable_tokens(tokenizer: Any, ids: list[int]) -> list[str]:
    """Each id as the text it stands for: " world" rather than byte-level BPE's "Ġworld"; WordPiece keeps "##".

    Byte-level tokens that hold part of a multi-byte character show as "�".
    """
    if tokenizer is None:
        return [f"#{i}" for i in ids]
    return [tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids]
