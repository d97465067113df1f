"""Average attention by relative offset: which heads look a fixed distance away ("positional heads").

The offset of a (query, key) pair is δ = key position - query position: δ = -1 is the previous token, 0 the token
itself, +1 the next one (an encoder only). For each head, the profile is the mean of A[q, q + δ] over every real
query q whose key q + δ exists (padding excluded). A previous-token head has a profile close to 1 at δ = -1.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

OFFSET_NAMES = {-1: "previous token", 0: "same token", 1: "next token", -2: "two back", 2: "two ahead"}
POSITIONAL_SHARE = 0.5  # a head whose mean attention at one offset is at least this is called positional


def attention_by_offset(pattern: torch.Tensor, query_mask: torch.Tensor | None = None,
                        key_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean attention per head and offset.

    ``pattern`` [batch, head, q_pos, k_pos] (q_pos = k_pos: self-attention); masks [batch, pos], True for real
    tokens. Returns (offsets [q + k - 1] from -(q_pos - 1) to k_pos - 1, profile [head, offsets],
    pairs [offsets]: how many (query, key) pairs each mean is over).
    """
    batch, n_heads, n_q, n_k = pattern.shape
    q_mask = torch.ones(batch, n_q, dtype=torch.bool) if query_mask is None else query_mask.bool().cpu()
    k_mask = torch.ones(batch, n_k, dtype=torch.bool) if key_mask is None else key_mask.bool().cpu()
    valid = (q_mask[:, :, None] & k_mask[:, None, :]).to(pattern.dtype)  # [batch, q, k]
    offset = torch.arange(n_k)[None, :] - torch.arange(n_q)[:, None]  # [q, k]: key - query
    bins = (offset + n_q - 1).reshape(-1)  # [q * k], 0-based
    weighted = (pattern.detach().cpu() * valid[:, None]).sum(0).reshape(n_heads, -1)  # [head, q * k]
    sums = torch.zeros(n_heads, n_q + n_k - 1, dtype=pattern.dtype).index_add_(1, bins, weighted)
    pairs = torch.zeros(n_q + n_k - 1, dtype=pattern.dtype).index_add_(0, bins, valid.sum(0).reshape(-1))
    profile = sums / pairs.clamp_min(1)
    return torch.arange(-(n_q - 1), n_k), profile, pairs


def self_attention_patterns(model: Any, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
    """Every self-attention pattern of one forward pass, by stack and layer: {"blocks.0": [batch, head, q, k], …}
    (an encoder-decoder also has "encoder.0", …; cross-attention is left out: its offsets mean nothing)."""
    def wanted(name: str) -> bool:
        return name.endswith(".attn.hook_pattern") and ".cross_attn." not in name

    _, cache = model.run_with_cache(*args, names_filter=wanted, **kwargs)
    return {name.removesuffix(".attn.hook_pattern"): pattern for name, pattern in cache.items()}


def offset_profiles(patterns: dict[str, torch.Tensor], masks: dict[str, torch.Tensor | None],
                    max_offset: int = 16) -> pd.DataFrame:
    """Long frame (layer, head, offset, attention, pairs) for |offset| ≤ max_offset and pairs > 0 (positive
    offsets that no head of a layer ever attends, as in a causal model, are left out).

    ``masks`` maps each stack prefix ("blocks", "encoder") to its [batch, pos] real-token mask (or None).
    """
    frames = []
    for layer_name, pattern in patterns.items():
        mask = masks.get(layer_name.split(".")[0])
        offsets, profile, pairs = attention_by_offset(pattern, mask, mask)
        masked_ahead = (offsets > 0) & (profile.sum(0) == 0)  # a causal model never looks ahead: leave them out
        keep = (offsets.abs() <= max_offset) & (pairs > 0) & ~masked_ahead
        for head in range(profile.shape[0]):
            frames.append(pd.DataFrame({"layer": layer_name, "head": head, "offset": offsets[keep].tolist(),
                                        "attention": profile[head, keep].tolist(), "pairs": pairs[keep].tolist()}))
    return pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=["layer", "head", "offset", "attention", "pairs"])


def positional_heads(profiles: pd.DataFrame, threshold: float = POSITIONAL_SHARE) -> pd.DataFrame:
    """One row per head: its favourite offset, the mean attention there, and whether it is positional."""
    if profiles.empty:
        return pd.DataFrame(columns=["layer", "head", "peak offset", "attention at peak", "looks at", "positional"])
    best = profiles.loc[profiles.groupby(["layer", "head"])["attention"].idxmax()]
    table = pd.DataFrame({
        "layer": best["layer"].to_numpy(), "head": best["head"].to_numpy(),
        "peak offset": best["offset"].to_numpy(), "attention at peak": best["attention"].to_numpy(),
    })
    table["looks at"] = [OFFSET_NAMES.get(int(o), f"{int(o):+d} tokens") for o in table["peak offset"]]
    table["positional"] = table["attention at peak"] >= threshold
    return table.sort_values("attention at peak", ascending=False, ignore_index=True)
