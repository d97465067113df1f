"""Learning-rate schedules ε_k: the step size of the k-th update (k = 0, 1, …), from the first deck and the
transformer recipe.

- ``constant``: ε_k = ε₀.
- ``step`` (step decay): ε_k = ε₀ · γ^⌊k / s⌋ — the rate drops by the factor γ every s steps.
- ``inverse``: ε_k = ε₀ / (1 + k/τ). It meets the Robbins–Monro conditions (Robbins & Monro 1951) under which
  SGD with an unbiased gradient estimate converges: Σ ε_k = ∞ (a harmonic series) and Σ ε_k² < ∞.
  (Step decay is summable, Σ ε_k < ∞, so it does not; a constant rate has Σ ε_k² = ∞.)
- ``warmup_cosine`` (Vaswani et al. 2017 warm up; Loshchilov & Hutter 2017 cosine): ε_k = ε₀ · (k + 1)/W for the
  first W steps, then ε₀ · ½ (1 + cos(π · (k − W)/(K − W))) down to 0 at the step target K.
"""

from __future__ import annotations

import math

import pandas as pd

from explorer.training.config import TrainConfig

SCHEDULE_TITLES = {
    "constant": "constant: ε_k = ε₀",
    "step": "step decay: ε_k = ε₀ · γ^⌊k/s⌋",
    "inverse": "ε_k = ε₀ / (1 + k/τ) (Robbins–Monro)",
    "warmup_cosine": "warmup + cosine (the transformer recipe)",
}


def learning_rate(config: TrainConfig, k: int) -> float:
    """ε_k: the rate of update number ``k`` (0-based) under ``config``'s schedule."""
    lr = config.lr
    if config.schedule == "step":
        return lr * config.decay_factor ** (k // config.decay_every)
    if config.schedule == "inverse":
        return lr / (1.0 + k / config.tau)
    if config.schedule == "warmup_cosine":
        warmup = min(config.warmup_steps, config.max_steps)
        if k < warmup:
            return lr * (k + 1) / warmup
        span = max(config.max_steps - warmup, 1)
        progress = min(1.0, (k - warmup) / span)
        return lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    return lr


def schedule_frame(config: TrainConfig, n_points: int = 400) -> pd.DataFrame:
    """The schedule over the whole step target: columns ``step`` (1-based, as the trainer counts) and ``lr``."""
    total = config.max_steps
    stride = max(1, total // n_points)
    steps = sorted(set(range(1, total + 1, stride)) | {total})
    return pd.DataFrame({"step": steps, "lr": [learning_rate(config, s - 1) for s in steps]})


def robbins_monro(schedule: str) -> str:
    """Whether a schedule satisfies Σ ε_k = ∞ and Σ ε_k² < ∞, in words (for a caption)."""
    return {
        "constant": "Σ ε_k = ∞ but Σ ε_k² = ∞ too: SGD keeps jumping around a minimum at a noise level set by ε.",
        "step": "Σ ε_k < ∞ (a geometric series): in theory it can stop short of a minimum; in practice it is "
                "popular.",
        "inverse": "Σ ε_k = ∞ (harmonic) and Σ ε_k² < ∞: the Robbins–Monro conditions hold.",
        "warmup_cosine": "It ends at 0 after the step target: a finite schedule, outside Robbins–Monro's setting.",
    }[schedule]
