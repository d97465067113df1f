"""Small helpers the converters share: (weight, bias) pairs and special-token ids."""

from __future__ import annotations

from typing import Any

from torch import nn


def linear(layer: nn.Linear) -> tuple:
    """(weight [out, in], bias [out] or None) of an ``nn.Linear``."""
    return layer.weight, layer.bias


def special_ids(hf_config: Any, tokenizer: Any) -> dict[str, int | None]:
    """cls/sep/bos/eos/pad ids from the tokenizer when there is one, else from the model's config."""

    def pick(name: str) -> int | None:
        value = getattr(tokenizer, f"{name}_token_id", None) if tokenizer is not None else None
        if value is None:
            value = getattr(hf_config, f"{name}_token_id", None)
        return value if isinstance(value, int) else None

    return {f"{name}_id": pick(name) for name in ("cls", "sep", "bos", "eos", "pad")}
