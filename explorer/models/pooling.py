"""Pooling a sequence of states into one vector, for classifier heads."""

from __future__ import annotations

import torch


def pool(hidden: torch.Tensor, mask: torch.Tensor | None, how: str) -> torch.Tensor:
    """Pool ``hidden`` [batch, pos, d] over time: mean over real tokens, or the last real token."""
    if mask is None:
        return hidden.mean(dim=1) if how == "mean" else hidden[:, -1]
    mask_f = mask.to(hidden.dtype).unsqueeze(-1)  # [batch, pos, 1]
    if how == "mean":
        return (hidden * mask_f).sum(dim=1) / mask_f.sum(dim=1).clamp(min=1.0)
    last = (mask.long().sum(dim=1) - 1).clamp(min=0)  # [batch]
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
