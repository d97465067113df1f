"""Training hyperparameters, checked on creation (``ValueError`` says what to change)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "inverse", "warmup_cosine")  # see explorer/training/schedules.py
MAX_SEED = 2**32 - 1
MAX_SNAPSHOT_BUDGET_MB = 16  # per run (also the default): what a class server can give each run


def _is_real(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


@dataclass
class TrainConfig:
    """How to train: optimizer, batch, schedule of evaluations and snapshots, and the step target."""

    lr: float = 3e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    batch_size: int = 64
    seq_len: int = 64  # window length for text streams
    grad_clip: float | None = 1.0
    max_steps: int = 2000  # the step target shown as a progress bar
    eval_every: int = 50
    eval_examples: int = 512
    snapshot_every: int = 25
    max_snapshots: int = 40
    snapshot_budget_mb: float = 16.0  # per run: 30 students × 8 runs stay within a few GB
    seed: int = 0
    stop_at_accuracy: float | None = None  # done once validation accuracy reaches this twice in a row
    # The first deck's controls (explorer/training/schedules.py, optim.py, trainer.py). Defaults keep what older
    # checkpoints did: SGD had momentum 0.9, the rate was constant, nothing stopped early.
    momentum: float = 0.9  # SGD only; 0 is the plain update θ ← θ − ε·ĝ
    schedule: str = "constant"
    decay_every: int = 500  # step decay: ε is multiplied by decay_factor every decay_every steps
    decay_factor: float = 0.5
    tau: float = 200.0  # inverse: ε_k = ε₀ / (1 + k/τ)
    warmup_steps: int = 100  # warmup + cosine: linear warmup, then a cosine down to 0 at max_steps
    early_stopping: bool = False
    patience: int = 5  # evaluations without a lower validation loss before early stopping

    def __post_init__(self) -> None:
        # Types first, so that a wrong type (e.g. from an edited checkpoint) is a ValueError that says what
        # to change, never a TypeError from a comparison below.
        if not _is_real(self.lr) or not 0 < self.lr <= 100:
            raise ValueError(f"The learning rate must be greater than 0 and at most 100; got {self.lr!r}.")
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}.")
        if not _is_real(self.weight_decay) or not 0 <= self.weight_decay <= 10:
            raise ValueError(f"weight_decay must be a number between 0 and 10; got {self.weight_decay!r}.")
        checks = {"batch_size": (1, 4096), "seq_len": (2, 4096), "max_steps": (1, 1_000_000),
                  "eval_every": (1, 100_000), "eval_examples": (1, 100_000), "snapshot_every": (1, 100_000),
                  "max_snapshots": (2, 1000), "seed": (0, MAX_SEED), "decay_every": (1, 1_000_000),
                  "warmup_steps": (0, 1_000_000), "patience": (1, 10_000)}
        for name, (low, high) in checks.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}.")
        if self.grad_clip is not None and (not _is_real(self.grad_clip) or not self.grad_clip > 0):
            raise ValueError(f"grad_clip must be a positive number (or None for no clipping); got {self.grad_clip!r}.")
        if self.stop_at_accuracy is not None and (not _is_real(self.stop_at_accuracy)
                                                  or not 0 < self.stop_at_accuracy <= 1):
            raise ValueError(f"stop_at_accuracy must be above 0 and at most 1 (or None); got "
                             f"{self.stop_at_accuracy!r}.")
        if not _is_real(self.momentum) or not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be a number from 0 (plain SGD) up to, not including, 1; "
                             f"got {self.momentum!r}.")
        if not isinstance(self.schedule, str) or self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {self.schedule!r}.")
        if not _is_real(self.decay_factor) or not 0 < self.decay_factor <= 1:
            raise ValueError(f"decay_factor must be above 0 and at most 1; got {self.decay_factor!r}.")
        if not _is_real(self.tau) or not 0 < self.tau <= 1e9:
            raise ValueError(f"tau must be a positive number of steps; got {self.tau!r}.")
        if not isinstance(self.early_stopping, bool):
            raise ValueError(f"early_stopping must be true or false; got {self.early_stopping!r}.")
        if not _is_real(self.snapshot_budget_mb) or not 0 < self.snapshot_budget_mb <= MAX_SNAPSHOT_BUDGET_MB:
            raise ValueError(f"snapshot_budget_mb must be a number above 0 and at most {MAX_SNAPSHOT_BUDGET_MB}; "
                             f"got {self.snapshot_budget_mb!r}.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
