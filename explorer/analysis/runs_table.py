"""Tables over several runs: results (the Compare page) and an overview of the session's runs (Your runs)."""

from __future__ import annotations

import pandas as pd

from explorer.training.footprint import run_memory_bytes
from explorer.training.run import Run, count_parameters, describe_model


def best_validation(run: Run) -> tuple[float, int] | None:
    """(best validation accuracy, the step it was measured at), or None before the first evaluation.

    A run that overfits is best somewhere in the middle: this is the number to report (early stopping), not the
    last one. Ties go to the earliest step."""
    vals = run.trainer.val_history if run.trainer else []
    if not vals:
        return None
    best = max(vals, key=lambda v: (v["val_accuracy"], -v["step"]))
    return best["val_accuracy"], int(best["step"])


def results_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run: model, size, data, steps, final losses and accuracies, the best validation accuracy and
    its step, speed, status."""
    rows = []
    for run in runs:
        trainer = run.trainer
        history = trainer.history if trainer else []
        vals = trainer.val_history if trainer else []
        last_val = vals[-1] if vals else {}
        recent = history[-20:]
        best = best_validation(run)
        rows.append({
            "run": run.name,
            "model": describe_model(run.config),
            "parameters": count_parameters(run.model),
            "data": run.data_name,
            "steps": run.step,
            "train loss": sum(r["loss"] for r in recent) / len(recent) if recent else None,
            "validation loss": last_val.get("val_loss"),
            "validation accuracy": last_val.get("val_accuracy"),
            "best validation accuracy": best[0] if best else None,
            "best at step": best[1] if best else None,
            "tokens/s": trainer.tokens_per_second() if trainer else None,
            "status": run.status,
        })
    return pd.DataFrame(rows)


def runs_overview(runs: list[Run], current: str | None = None) -> pd.DataFrame:
    """One row per run: name (⭐ the current one), status, steps, data, model, parameters, memory held."""
    return pd.DataFrame([{
        "run": ("⭐ " if run.id == current else "") + run.name,
        "status": run.status,
        "steps": run.step,
        "step target": run.trainer.config.max_steps if run.trainer else None,
        "data": run.data_name,
        "model": describe_model(run.config),
        "parameters": count_parameters(run.model),
        "memory (MB)": run_memory_bytes(run) / 2**20,
    } for run in runs])
