"""Early stopping (the first deck: "stop before the validation error grows"): keep the lowest validation loss and the
weights it was reached with; after ``patience`` evaluations without a new minimum, say stop."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

State = dict[str, torch.Tensor]


class ValidationWatch:
    """Follows the validation loss of one run. ``best_step`` / ``best_val_loss``: the minimum so far."""

    def __init__(self, patience: int, keep_weights: bool):
        self.patience, self.keep_weights = patience, keep_weights
        self.best_step: int | None = None
        self.best_val_loss = math.inf
        self.best_state: State | None = None
        self.evals_since_best = 0

    def update(self, step: int, val_loss: float, weights: Callable[[], State]) -> bool:
        """Record one evaluation (``weights()`` copies the current weights, called only at a new minimum). True
        when ``patience`` evaluations in a row have not gone below the minimum and its weights were kept."""
        if val_loss < self.best_val_loss:
            self.best_val_loss, self.best_step, self.evals_since_best = val_loss, step, 0
            if self.keep_weights:
                self.best_state = weights()
            return False
        self.evals_since_best += 1
        return self.keep_weights and self.best_state is not None and self.evals_since_best >= self.patience

    def resume(self) -> None:
        """Training goes on after a stop (the step target was raised): count patience afresh."""
        self.evals_since_best = 0
