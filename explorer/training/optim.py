"""Optimizers a training config can ask for.

- ``sgd``: θ ← θ − ε·v with v ← μ·v + ĝ (PyTorch's momentum); momentum μ = 0 is the first deck's plain update
  θ ← θ − ε·ĝ. Older runs had μ = 0.9, still the default.
- ``rmsprop`` (Hinton 2012): θ ← θ − ε·ĝ / (√s + 1e-8) with s ← 0.99·s + 0.01·ĝ², a per-weight step size.
- ``adam`` / ``adamw`` (Kingma & Ba 2015; Loshchilov & Hutter 2019): RMSprop's scaling plus a momentum of ĝ.
"""

from __future__ import annotations

import torch

from explorer.training.config import TrainConfig


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer a config asks for, at the schedule's first rate ε₀ (the trainer sets ε_k at every step)."""
    params = [p for p in params if p.requires_grad]  # frozen weights (e.g. a frozen GloVe table) are not stepped
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr, alpha=0.99, eps=1e-8, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, foreach=True)
