"""The residual stream as a sum of what each part of the model wrote, and each head's direct logit attribution.

In a pre-LayerNorm transformer every block adds its output to the residual stream (Elhage et al. 2021), so the
final stream at each position is exactly

    resid_final = embed + pos_embed + Σ_layers (Σ_heads z_h W_O[h] + b_O) + Σ_layers MLP_out

Direct logit attribution reads each term through the unembedding: with the final LayerNorm's scale frozen at
its value for this input (it divides the whole stream by one number per position), the logit of token t is

    logit_t = Σ_components (centre(c) / σ · γ) · W_U[:, t]  +  (β · W_U[:, t] + b_U[t])

— a sum over components, so each head gets its share of the prediction. Post-LayerNorm models (BERT, MiniLM)
re-normalise the stream inside every layer, where this sum does not hold; they are not decomposed here.
RMSNorm (Llama, SmolLM2) divides by the root mean square without centring; the same reading applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from explorer.analysis.induction import evaluating


@dataclass
class ResidualDecomposition:
    """The final residual stream of one sequence split into components."""

    labels: list[str]  # "embed", "pos", "L0H1", "L0 bias", "L0 MLP", ...
    kinds: list[str]  # "embed" | "pos" | "head" | "bias" | "mlp"
    contributions: torch.Tensor  # [n_components, pos, d_model]
    resid_final: torch.Tensor  # [pos, d_model], before the final LayerNorm


def decomposition_problem(model) -> str | None:
    """Why this model's residual stream cannot be decomposed here (None when it can)."""
    cfg = model.config
    if getattr(cfg, "post_ln", False):
        return ("This model re-normalises its residual stream inside every layer (post-LayerNorm, as BERT and MiniLM "
                "do), so the stream is not a plain sum of head outputs. The decomposition needs a pre-LayerNorm "
                "model: the transformers trained here, GPT-2 or SmolLM2.")
    if getattr(cfg, "encoder_decoder", False):
        return "Encoder-decoder models also cross-attend; the decomposition covers decoder-only and encoder models."
    return None


def _tensor(value) -> torch.Tensor:
    return value.detach().float().cpu()


@torch.no_grad()
def residual_decomposition(model, tokens: torch.Tensor) -> ResidualDecomposition:
    """Decompose the final residual stream of one sequence ``tokens`` [pos] (pre-LayerNorm transformers)."""
    problem = decomposition_problem(model)
    if problem:
        raise ValueError(problem)
    device = next(model.parameters()).device
    with evaluating(model):
        _, cache = model.run_with_cache(tokens[None].to(device))
    cache = {k: _tensor(v[0]) for k, v in cache.items()}  # drop the batch dimension: [pos, ...]
    labels, kinds, parts = ["embed"], ["embed"], [cache["hook_embed"]]
    for name, label in (("hook_pos_embed", "pos"), ("hook_token_type_embed", "token type")):
        if name in cache:
            labels.append(label)
            kinds.append("pos")
            parts.append(cache[name])
    for layer, block in enumerate(model.blocks):
        z = cache[f"blocks.{layer}.attn.hook_z"]  # [pos, head, d_head]
        heads = torch.einsum("phd,hdm->hpm", z, _tensor(block.attn.W_O))  # [head, pos, d_model]
        for head in range(heads.shape[0]):
            labels.append(f"L{layer}H{head}")
            kinds.append("head")
            parts.append(heads[head])
        labels.append(f"L{layer} bias")
        kinds.append("bias")
        parts.append(_tensor(block.attn.b_O).expand_as(heads[0]))
        mlp_out = cache.get(f"blocks.{layer}.hook_mlp_out")
        if mlp_out is not None:
            labels.append(f"L{layer} MLP")
            kinds.append("mlp")
            parts.append(mlp_out)
    final = cache[f"blocks.{len(model.blocks) - 1}.hook_resid_post"]
    return ResidualDecomposition(labels, kinds, torch.stack(parts), final)


def _final_norm(model) -> tuple[str, torch.Tensor, torch.Tensor | None, float] | None:
    """(kind, weight, bias, eps) of the final norm; None when there is none (LayerNorm switched off)."""
    ln = getattr(model, "ln_final", None)
    if isinstance(ln, nn.LayerNorm):  # the explorer's own transformers
        return "layernorm", _tensor(ln.weight), _tensor(ln.bias), ln.eps
    if ln is not None and hasattr(ln, "w"):  # pretrained adapter's Norm (LayerNorm or RMSNorm)
        return ln.kind, _tensor(ln.w), None if ln.b is None else _tensor(ln.b), ln.eps
    return None


@dataclass
class LogitAttribution:
    """Each component's direct contribution to one target logit per position."""

    labels: list[str]
    per_component: torch.Tensor  # [n_components, pos]
    constant: torch.Tensor  # [pos]: final LayerNorm bias and unembedding bias
    logits: torch.Tensor  # [pos]: the model's logit of the target (= per_component.sum(0) + constant)


def direct_logit_attribution(model, decomposition: ResidualDecomposition, targets: torch.Tensor) -> LogitAttribution:
    """Direct logit attribution of every component to ``targets`` [n] (one target token for each of the first n
    positions; e.g. the next tokens ``tokens[1:]`` for positions 0 .. pos-2)."""
    w_u = getattr(model, "W_U", None)
    if w_u is None:
        raise ValueError("Direct logit attribution needs a language-model head (W_U); this model is a classifier.")
    targets = targets.cpu()
    w_u = _tensor(w_u)[:, targets]  # [d_model, pos]
    b_u = _tensor(model.b_U)[targets]  # [pos]
    n_pos = targets.shape[0]
    parts = decomposition.contributions[:, :n_pos]  # [n, pos, d_model]
    final = decomposition.resid_final[:n_pos]
    constant = b_u
    norm = _final_norm(model)
    if norm is not None:
        kind, gamma, beta, eps = norm
        if kind == "rmsnorm":  # x / rms(x) · γ: no centring
            sigma = (final.pow(2).mean(dim=-1) + eps).sqrt()  # [pos]
        else:  # (x - mean x) / std(x) · γ + β
            sigma = (final.var(dim=-1, unbiased=False) + eps).sqrt()  # [pos]
            parts = parts - parts.mean(dim=-1, keepdim=True)
        parts = parts / sigma[None, :, None] * gamma  # [n, pos, d_model]
        if beta is not None:
            constant = beta @ w_u + b_u
    per_component = torch.einsum("npm,mp->np", parts, w_u)  # [n, pos]
    return LogitAttribution(decomposition.labels, per_component, constant, per_component.sum(0) + constant)
