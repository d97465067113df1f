"""Training hyperparameters, checked on creation (``ValueError`` says what to change)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd")


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

    def __post_init__(self) -> None:
        if not isinstance(self.lr, int | float) or not 0 < self.lr <= 100:
            raise ValueError(f"The learning rate must be greater than 0 and at most 100; got {self.lr}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}.")
        if not 0 <= self.weight_decay <= 10:
            raise ValueError(f"weight_decay must be between 0 and 10; got {self.weight_decay}.")
        checks = {"batch_size": (1, 4096), "seq_len": (2, 4096), "max_steps": (1, 1_000_000),
                  "eval_every": (1, 100_000), "eval_examples": (1, 100_000), "snapshot_every": (1, 100_000),
                  "max_snapshots": (2, 1000)}
        for name, (low, high) in checks.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}.")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be positive (or None for no clipping); got {self.grad_clip}.")
        if not self.snapshot_budget_mb > 0:
            raise ValueError("snapshot_budget_mb must be positive.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
