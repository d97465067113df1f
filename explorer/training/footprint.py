"""The memory a run holds: its weights, the optimizer's state, the divergence fallback and its snapshots.

Counted from the tensors themselves (float32 weights: 4 bytes a parameter), so the session's total can be shown
and bounded before another run is added.
"""

from __future__ import annotations

import torch

from explorer.training.run import Run

OPTIMIZER_COPIES = {"adam": 2, "adamw": 2, "sgd": 1, "rmsprop": 1}  # moment buffers per parameter


def _tensor_bytes(tensors) -> int:
    return sum(t.nelement() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))


def weights_bytes(run: Run) -> int:
    return _tensor_bytes(run.model.state_dict().values())


def run_memory_bytes(run: Run) -> int:
    """Bytes held by ``run``: weights, optimizer moments and the last-good copy (when it trains), snapshots."""
    weights = weights_bytes(run)
    trainer = run.trainer
    if trainer is None:
        return weights
    moments = OPTIMIZER_COPIES.get(trainer.config.optimizer, 2) * weights
    if getattr(trainer, "remote", False):  # held by its training host: the host says how much (no weights fetched)
        snapshots = trainer.snapshot_bytes
    else:
        snapshots = sum(_tensor_bytes(s.values()) for s in trainer.snapshots.values())
    return weights * 2 + moments + snapshots  # live weights + last good copy, optimizer, snapshots


def run_peak_bytes(run: Run) -> int:
    """What ``run`` will hold at most: weights, the fallback copy and optimizer moments, and full snapshots."""
    weights = weights_bytes(run)
    trainer = run.trainer
    if trainer is None:
        return weights
    moments = OPTIMIZER_COPIES.get(trainer.config.optimizer, 2) * weights
    snapshots = min(int(trainer.config.snapshot_budget_mb * 2**20), weights * trainer.config.max_snapshots)
    return weights * 2 + moments + max(snapshots, 2 * weights)
