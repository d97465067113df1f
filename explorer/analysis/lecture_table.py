"""The lecture's IMDb table beside what was measured here: one row per model, and which ordering was reproduced.

The lecture (Gallego & Ríos Insua 2022, IMDb test accuracy): LSTM 81.99 % < simple transformer 87.49 % < RoBERTa
94.67 %. Here each row reports the best validation accuracy a run reached and the step it reached it at (runs on
a few thousand sentences overfit: the last step is usually not the best), next to the last one.
"""

from __future__ import annotations

import pandas as pd

from explorer.analysis.runs_table import best_validation
from explorer.training.lecture import LECTURE_IMDB_ACCURACY, LECTURE_PRESETS
from explorer.training.run import Run


def lecture_runs(runs: list[Run]) -> dict[str, Run]:
    """The newest run standing for each row of the lecture's table (by preset), keyed by the lecture's model name,
    in the lecture's order."""
    row_of = {preset: row for row, preset in LECTURE_PRESETS.items()}
    newest: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r.created):
        if run.preset in row_of:
            newest[row_of[run.preset]] = run
    return {name: newest[name] for name in LECTURE_IMDB_ACCURACY if name in newest}


def lecture_rows(runs: list[Run]) -> pd.DataFrame:
    """Columns: the lecture's model, the model here, lecture (IMDb test), best validation here and its step, the
    last validation and its step, data. "—" where that model has not run."""
    chosen = lecture_runs(runs)
    rows = []
    for name, lecture in LECTURE_IMDB_ACCURACY.items():
        run = chosen.get(name)
        best = best_validation(run) if run else None
        last = run.trainer.val_history[-1] if run and run.trainer and run.trainer.val_history else None
        rows.append({
            "lecture's model": name,
            "here": LECTURE_PRESETS[name],
            "lecture (IMDb test)": f"{lecture:.2%}",
            "here: best validation": f"{best[0]:.2%}" if best else "—",
            "at step": best[1] if best else None,
            "here: last validation": f"{last['val_accuracy']:.2%}" if last else "—",
            "last step": int(last["step"]) if last else None,
            "data": run.data_name if run else "—",
        })
    return pd.DataFrame(rows)


def ordering_verdict(runs: list[Run]) -> str:
    """One sentence: the order of the measured models (best validation accuracy), and how it compares with the
    lecture's LSTM < simple transformer < pretrained. Empty before two models have been evaluated."""
    measured = {name: best[0] for name, run in lecture_runs(runs).items() if (best := best_validation(run))}
    if len(measured) < 2:
        return ""
    order = sorted(measured, key=measured.get)
    lecture_order = [name for name in LECTURE_IMDB_ACCURACY if name in measured]
    shown = " < ".join(f"{LECTURE_PRESETS[name]} ({measured[name]:.1%})" for name in order)
    if order == lecture_order:
        return f"Measured here: {shown}, the lecture's ordering, reproduced."
    pairs = [(a, b) for i, a in enumerate(lecture_order) for b in lecture_order[i + 1:]]
    kept = [f"{LECTURE_PRESETS[b]} > {LECTURE_PRESETS[a]}" for a, b in pairs if measured[b] > measured[a]]
    lost = [f"{LECTURE_PRESETS[b]} > {LECTURE_PRESETS[a]}" for a, b in pairs if measured[b] <= measured[a]]
    return (f"Measured here: {shown}. Of the lecture's ordering, "
            + (f"reproduced: {', '.join(kept)}; " if kept else "nothing is reproduced; ")
            + f"not reproduced: {', '.join(lost)}.")
