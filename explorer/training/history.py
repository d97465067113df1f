"""What a trainer's history says: the metrics as a table, the last loss, the recent speed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

STEP_COLUMNS = ["step", "loss", "accuracy", "lr", "grad_norm", "tokens_per_s"]
VAL_COLUMNS = ["step", "val_loss", "val_accuracy", "val_sequence_accuracy"]


@dataclass(frozen=True)
class _Columns:
    """The per-step columns made from the first ``rows`` rows of the list ``source``."""

    source: list
    rows: int
    columns: dict[str, np.ndarray]


def _column(rows: list[dict[str, float]], name: str, dtype: type = float) -> np.ndarray:
    return np.fromiter((row.get(name, math.nan) for row in rows), dtype, len(rows))


def _step_columns(rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    """STEP_COLUMNS of ``rows`` (steps as integers)."""
    return {c: _column(rows, c, np.int64 if c == "step" else float) for c in STEP_COLUMNS}


class MetricsReadout:
    """Reading ``self.history`` (one row per step) and ``self.val_history`` (one row per evaluation)."""

    history: list[dict[str, float]]
    val_history: list[dict[str, float]]
    _metric_columns: _Columns | None = None

    def metrics_frame(self) -> pd.DataFrame:
        """Per-step metrics joined with the validation rows (NaN where no evaluation ran).

        A live curve asks for this at every redraw: only the rows appended since the last call are read. A history
        is only ever appended to in place; one that is rewritten (reset, thinned, restored) is a new list, read in
        full."""
        history, val_history = self.history, self.val_history
        n = len(history)
        kept = self._metric_columns
        if kept is not None and kept.source is history and kept.rows <= n:
            new = _step_columns(history[kept.rows:n])
            columns = {c: np.concatenate([kept.columns[c], new[c]]) for c in STEP_COLUMNS}
        else:
            columns = _step_columns(history[:n])
        self._metric_columns = _Columns(history, n, columns)
        frame = dict(columns)
        steps = columns["step"]  # [n], increasing
        val_steps = _column(val_history, "step", np.int64)  # [evaluations]
        at = np.searchsorted(steps, val_steps)  # the row of each evaluation's step
        found = at < n
        found[found] = steps[at[found]] == val_steps[found]
        for name in VAL_COLUMNS[1:]:
            values = np.full(n, math.nan)
            values[at[found]] = _column(val_history, name)[found]
            frame[name] = values
        return pd.DataFrame(frame)

    @property
    def last_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None

    def tokens_per_second(self, last: int = 20) -> float:
        rows = self.history[-last:]
        return sum(r["tokens_per_s"] for r in rows) / len(rows) if rows else 0.0
