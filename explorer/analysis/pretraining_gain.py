"""The pre-training gain: each classifier fine-tuned from a model pre-trained here beside its twin trained from
scratch (same configuration, data, head and settings; explorer/training/pretraining.py), best held-out accuracies."""

from __future__ import annotations

import pandas as pd

from explorer.analysis.runs_table import best_validation
from explorer.training.pretraining import PRETRAINED_PRESET, SCRATCH_PRESET
from explorer.training.run import Run

COLUMNS = ["fine-tuned run", "pre-trained, then fine-tuned", "from scratch", "gain"]


def twin_of(tuned: Run, runs: list[Run]) -> Run | None:
    """The from-scratch twin of a fine-tuned run: the scratch run that reads the very same (re-read) data."""
    return next((r for r in runs if r.preset == SCRATCH_PRESET and r.data is not None and r.data is tuned.data), None)


def gain_table(runs: list[Run]) -> pd.DataFrame:
    """One row per fine-tuned run among ``runs``: its best validation accuracy (step), its twin's, the difference."""
    rows = []
    for tuned in runs:
        if tuned.preset != PRETRAINED_PRESET:
            continue
        twin = twin_of(tuned, runs)
        a = best_validation(tuned)
        b = best_validation(twin) if twin else None
        rows.append({"fine-tuned run": tuned.name,
                     "pre-trained, then fine-tuned": f"{a[0]:.1%} (step {a[1]})" if a else "—",
                     "from scratch": f"{b[0]:.1%} (step {b[1]})" if b else "—",
                     "gain": f"{100 * (a[0] - b[0]):+.1f} points" if a and b else "—"})
    return pd.DataFrame(rows, columns=COLUMNS)
