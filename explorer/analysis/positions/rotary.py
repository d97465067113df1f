"""Rotary position embedding (Su et al. 2021, RoFormer) made visible: rotations, scores, frequencies, models.

RoFormer rotates each pair of dimensions (2i, 2i+1) of a query at position m by m·θ_i and of a key at position n
by n·θ_i, θ_i = base^(-2i/d) (eq. 15). Rotations compose, R(m)ᵀR(n) = R(n - m), so
    q_m · k_n = (R(m) q)ᵀ (R(n) k) = qᵀ R(n - m) k
depends on the content vectors q, k and the offset n - m only: the score matrix is constant along diagonals.
The rotation itself is :func:`explorer.models.positional.apply_rotary` (the one the models use).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import torch

from explorer.analysis.positions.gguf import read_metadata
from explorer.analysis.positions.sinusoidal import offset_spread
from explorer.models.positional import apply_rotary, rotary_angles, rotary_frequencies
from explorer.training.metrics import accuracy_counts


class RotaryInfoUnavailable(RuntimeError):
    """A model's rotary settings cannot be read here (its package is not installed); the message says why."""


# ----------------------------------------------------------------- one pair of dimensions
def rotate_pair(vector: tuple[float, float], positions: list[int], theta: float) -> pd.DataFrame:
    """A 2D vector (one dimension pair of q or k) rotated by position·θ: columns position, x, y, angle (degrees)."""
    x0, y0 = vector
    rows = []
    for pos in positions:
        a = pos * theta
        x, y = x0 * math.cos(a) - y0 * math.sin(a), x0 * math.sin(a) + y0 * math.cos(a)
        rows.append({"position": pos, "x": x, "y": y, "angle": math.degrees(math.atan2(y, x))})
    return pd.DataFrame(rows)


def pair_score(q: tuple[float, float], k: tuple[float, float], m: int, n: int, theta: float) -> float:
    """(R(mθ) q) · (R(nθ) k) for one pair: = |q||k| cos(φ_q - φ_k + (m - n)θ)."""
    qm = rotate_pair(q, [m], theta).iloc[0]
    kn = rotate_pair(k, [n], theta).iloc[0]
    return float(qm.x * kn.x + qm.y * kn.y)


# ----------------------------------------------------------------- whole vectors
def rotate_everywhere(vector: torch.Tensor, n_pos: int, base: float) -> torch.Tensor:
    """The same content vector ``[d]`` (d even) placed at positions 0 .. n_pos-1 and rotated: ``[n_pos, d]``."""
    d = vector.shape[-1]
    cos, sin = rotary_angles(n_pos, d, base)  # [pos, d/2] each
    x = vector.float().expand(1, n_pos, 1, d)  # [batch 1, pos, head 1, d]
    return apply_rotary(x, cos, sin)[0, :, 0]  # [pos, d]


def rotary_scores(q: torch.Tensor, k: torch.Tensor, n_pos: int, base: float = 10000.0) -> torch.Tensor:
    """Scores q_m · k_n for fixed content vectors q, k ``[d]`` at every (m, n): ``[n_pos, n_pos]``."""
    if q.shape != k.shape or q.dim() != 1 or q.shape[0] % 2:
        raise ValueError("q and k must be vectors of the same even length.")
    return rotate_everywhere(q, n_pos, base) @ rotate_everywhere(k, n_pos, base).T  # [m, n]


def scores_by_offset(scores: torch.Tensor) -> pd.DataFrame:
    """The score as a function of the offset n - m (key minus query), read off the diagonals of ``[m, n]``."""
    n = scores.shape[0]
    rows = []
    for offset in range(-(n - 1), n):
        diagonal = torch.diagonal(scores, offset=offset)
        rows.append({"offset": offset, "score": float(diagonal.mean()),
                     "spread": float(diagonal.max() - diagonal.min())})
    return pd.DataFrame(rows)


def diagonal_spread(scores: torch.Tensor) -> float:
    """Largest max - min along any diagonal (either side): 0 when scores depend on n - m only."""
    return max(offset_spread(scores), offset_spread(scores.T))


def frequencies(d_rot: int, base: float, label: str) -> pd.DataFrame:
    """θ_i and the wavelength 2π/θ_i (positions per full turn) of each pair: columns model, pair, theta, wavelength."""
    theta = rotary_frequencies(d_rot, base)
    return pd.DataFrame({"model": label, "pair": range(len(theta)), "theta": theta.tolist(),
                         "wavelength": (2 * math.pi / theta).tolist()})


def smollm2_rotary() -> tuple[int, float]:
    """SmolLM2's rotary settings (dimensions rotated per head, rope theta), read from the head of its GGUF file's
    metadata without loading the model (milliseconds). Raises :class:`RotaryInfoUnavailable` when the optional
    package is missing."""
    from explorer.models.pretrained.registry import PRETRAINED_MODELS, SMOLLM2, smollm2_file

    spec = PRETRAINED_MODELS[SMOLLM2]
    if not spec.installed():
        raise RotaryInfoUnavailable(f"SmolLM2 is not installed here. To compare its frequencies: {spec.install}")
    keys = {"llama.rope.freq_base", "llama.attention.head_count", "llama.embedding_length",
            "llama.rope.dimension_count"}
    meta = read_metadata(smollm2_file(), keys)
    theta = meta.get("llama.rope.freq_base")
    heads, width = meta.get("llama.attention.head_count"), meta.get("llama.embedding_length")
    d_rot = meta.get("llama.rope.dimension_count") or (width // heads if heads and width else None)
    if theta is None or d_rot is None:
        raise RotaryInfoUnavailable("SmolLM2's GGUF file has no rope settings in its metadata.")
    return int(d_rot), float(theta)


# ----------------------------------------------------------------- rotary inside a model
def run_without_rotary(model: Any, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run the model with every rotation undone (hook_rot_q/k replaced by the unrotated hook_q/k), recording
    the patterns and scores. Returns (output, cache) like ``run_with_cache``."""
    unrotated: dict[str, torch.Tensor] = {}
    cache: dict[str, torch.Tensor] = {}

    def keep(tensor: torch.Tensor, name: str) -> None:
        unrotated[name.replace("attn.hook_", "attn.hook_rot_")] = tensor  # stored under the name it replaces

    def undo(_tensor: torch.Tensor, name: str) -> torch.Tensor:
        return unrotated[name]

    def record(tensor: torch.Tensor, name: str) -> None:
        cache[name] = tensor.detach()

    hooks = [(lambda n: n.endswith("attn.hook_q") or n.endswith("attn.hook_k"), keep),
             (lambda n: n.endswith("attn.hook_rot_q") or n.endswith("attn.hook_rot_k"), undo),
             (lambda n: n.endswith("hook_attn_scores") or n.endswith("hook_pattern"), record)]
    with torch.no_grad():
        output = model.run_with_hooks(*args, fwd_hooks=hooks, **kwargs)
    return output, cache


def scores_with_and_without(model: Any, layer: str, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
    """Self-attention of ``layer`` (e.g. "blocks.0", "encoder.1") for one batch, as the model computes it and with
    rotary switched off everywhere.

    ``scores_with``/``scores_without`` [batch, head, q, k] (masked: -inf), ``pattern_with``/``pattern_without``;
    ``recomputed``: (rot_q · rot_k) · scale from the cached rotated queries and keys, which equals scores_with.
    In the first layer "without" is exactly q·k of the same inputs; later layers also see earlier layers' changes.
    """
    prefix = f"{layer}.attn."
    _, cache = model.run_with_cache(*args, names_filter=lambda n: n.startswith(prefix), **kwargs)
    _, off = run_without_rotary(model, *args, **kwargs)
    attn = model.get_submodule(layer).attn
    rot_q, rot_k = cache[prefix + "hook_rot_q"], cache[prefix + "hook_rot_k"]  # [batch, pos, head, d_head]
    if hasattr(attn, "share_kv"):
        rot_k = attn.share_kv(rot_k, dim=2)  # grouped-query attention: repeat key heads to the query heads
    scale = getattr(attn, "scale", 1 / math.sqrt(rot_q.shape[-1]))
    scores = cache[prefix + "hook_attn_scores"]
    recomputed = torch.einsum("bqhd,bkhd->bhqk", rot_q, rot_k) * scale  # [batch, head, q, k]
    recomputed = recomputed.masked_fill(torch.isinf(scores), float("-inf"))
    return {"scores_with": scores, "scores_without": off[prefix + "hook_attn_scores"],
            "pattern_with": cache[prefix + "hook_pattern"], "pattern_without": off[prefix + "hook_pattern"],
            "recomputed": recomputed}


def rotary_stacks(model: Any) -> list[str]:
    """Self-attention layers that rotate queries and keys: "blocks.0", … (and "encoder.0", … for an
    encoder-decoder)."""
    names = []
    for stack in ("encoder", "blocks"):
        for i, block in enumerate(getattr(model, stack, None) or []):
            if getattr(block.attn, "rotary", False):
                names.append(f"{stack}.{i}")
    return names


@torch.no_grad()
def accuracy_with_and_without(model: Any, args: tuple, targets: torch.Tensor) -> tuple[float, float]:
    """Token accuracy on ``targets`` (labels, -100 ignored) with rotary, and with every rotation undone."""
    with_rotary = model(*args)
    without, _ = run_without_rotary(model, *args)
    accuracy = []
    for logits in (with_rotary, without):
        correct, total, _, _ = accuracy_counts(logits, targets)
        accuracy.append(correct / max(total, 1))
    return accuracy[0], accuracy[1]
