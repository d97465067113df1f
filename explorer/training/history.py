"""What a trainer's history says: the metrics as a table, the last loss, the recent speed."""

from __future__ import annotations

import pandas as pd

STEP_COLUMNS = ["step", "loss", "accuracy", "lr", "grad_norm", "tokens_per_s"]
VAL_COLUMNS = ["step", "val_loss", "val_accuracy", "val_sequence_accuracy"]


class MetricsReadout:
    """Reading ``self.history`` (one row per step) and ``self.val_history`` (one row per evaluation)."""

    history: list[dict[str, float]]
    val_history: list[dict[str, float]]

    def metrics_frame(self) -> pd.DataFrame:
        """Per-step metrics joined with the validation rows (NaN where no evaluation ran)."""
        steps = pd.DataFrame(self.history, columns=STEP_COLUMNS)
        vals = pd.DataFrame(self.val_history, columns=VAL_COLUMNS)
        return steps.merge(vals, on="step", how="left")

    @property
    def last_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None

    def tokens_per_second(self, last: int = 20) -> float:
        rows = self.history[-last:]
        return sum(r["tokens_per_s"] for r in rows) / len(rows) if rows else 0.0
