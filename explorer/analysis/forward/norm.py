"""Add & Norm: the residual addition after attention, and the LayerNorm that reads its result.

The "Add" is resid_mid = resid_pre + Attn(…). The norm that reads resid_mid differs with the block's order:
pre-LN (GPT-2) normalises a copy for the feed-forward layer (LN2) and keeps the sum in the stream; post-LN
(Vaswani et al. 2017, BERT) replaces the stream by LN1(resid_mid). Either way, for one token's vector x [d_model]
(Ba et al. 2016):
    μ = mean_i x_i,   σ² = mean_i (x_i − μ)²,   x̂ = (x − μ) / √(σ² + ε),   LN(x) = γ ⊙ x̂ + β
RMSNorm (Zhang & Sennrich 2019, Llama/SmolLM2) skips the centring and β: x / √(mean_i x_i² + ε) ⊙ γ.
The statistics are taken over one token's features — never across the batch, as BatchNorm's are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from explorer.analysis.forward.anatomy import NormParameters, norm_parameters, stack_blocks
from explorer.analysis.forward.record import LayerRecord


@dataclass
class NormSteps:
    """One token's vector through a LayerNorm or RMSNorm, every intermediate [d_model]."""

    kind: str  # "layernorm" | "rmsnorm"
    where: str  # which norm: "LN2 (before the feed-forward layer)" …
    x: torch.Tensor
    mean: float  # μ (0 for RMSNorm, which does not centre)
    variance: float  # σ² (RMSNorm: the mean square)
    eps: float
    centred: torch.Tensor  # x − μ
    normalized: torch.Tensor  # x̂
    gamma: torch.Tensor
    beta: torch.Tensor | None
    output: torch.Tensor  # γ ⊙ x̂ + β
    recorded: torch.Tensor | None  # the model's own output of that norm at this position


def following_norm(model: Any, record: LayerRecord) -> tuple[NormParameters | None, str, torch.Tensor | None]:
    """(parameters, name, recorded output [T, d_model]) of the norm that reads resid_mid of the recorded block."""
    shape = record.anatomy
    blocks = stack_blocks(model, record.stack)
    block = blocks[record.layer]
    if shape.norm == "none":
        return None, "", None
    if shape.post_ln:
        return norm_parameters(block.ln1), "LN1 — Add & Norm after attention (post-LN)", \
            record.get("ln1.hook_normalized")
    if shape.d_mlp is not None:
        return norm_parameters(block.ln2), "LN2 — before the feed-forward layer (pre-LN)", \
            record.get("ln2.hook_normalized")
    if record.layer + 1 < len(blocks):
        return norm_parameters(blocks[record.layer + 1].ln1), "the next block's LN1 (attention only, pre-LN)", \
            record.following_norm
    final = getattr(model, "encoder_ln_final" if record.stack == "encoder" else "ln_final", None)
    return norm_parameters(final), "the final LayerNorm (attention only, pre-LN)", record.following_norm


def norm_steps(params: NormParameters, x: torch.Tensor, where: str = "",
               recorded: torch.Tensor | None = None) -> NormSteps:
    """The norm applied by hand to one vector ``x`` [d_model]."""
    x = x.float()
    if params.kind == "rmsnorm":
        mean, variance = 0.0, float(x.pow(2).mean())
        centred = x
    else:
        mean = float(x.mean())
        centred = x - mean
        variance = float(centred.pow(2).mean())  # biased, as LayerNorm's
    normalized = centred / (variance + params.eps) ** 0.5
    output = params.gamma * normalized + (params.beta if params.beta is not None else 0.0)
    return NormSteps(kind=params.kind, where=where, x=x, mean=mean, variance=variance, eps=params.eps,
                     centred=centred, normalized=normalized, gamma=params.gamma, beta=params.beta, output=output,
                     recorded=recorded)


@dataclass
class NormAxes:
    """The statistics each normalisation uses on a [T, d_model] matrix of residual vectors."""

    matrix: torch.Tensor  # [T, d_model]
    token_mean: torch.Tensor  # [T]   LayerNorm: one mean and std per token (row), over its features
    token_std: torch.Tensor  # [T]
    feature_mean: torch.Tensor  # [d_model]   BatchNorm: one per feature (column), over the tokens of a batch
    feature_std: torch.Tensor  # [d_model]
    normalized: torch.Tensor  # [T, d_model] each row standardised (LayerNorm without γ, β)


def norm_axes(matrix: torch.Tensor, eps: float = 1e-5) -> NormAxes:
    """Row statistics (what LayerNorm uses) beside column statistics (what BatchNorm would use)."""
    m = matrix.float()
    mean, std = m.mean(1), m.std(1, unbiased=False)
    return NormAxes(matrix=m, token_mean=mean, token_std=std, feature_mean=m.mean(0),
                    feature_std=m.std(0, unbiased=False),
                    normalized=(m - mean[:, None]) / torch.sqrt(std[:, None] ** 2 + eps))
