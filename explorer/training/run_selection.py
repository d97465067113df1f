"""Choosing among a session's runs: runs on the same task, one run per recurrent cell, shared snapshot steps.

Pure functions over :class:`Run` lists (no Streamlit), used by the Inside-the-RNN page to line up an Elman RNN,
a GRU and an LSTM trained on the same data.
"""

from __future__ import annotations

from collections.abc import Iterable

from explorer.training.run import Run
from explorer.training.snapshots import snapshot_steps

CELL_ORDER = ("rnn", "gru", "lstm")  # Elman RNN, GRU, LSTM: the order of the lecture (and of the trio preset)


def recurrent_runs(runs: Iterable[Run]) -> list[Run]:
    return [r for r in runs if r.is_recurrent]


def same_task(a: Run, b: Run) -> bool:
    """Trained on the same data (same task parameters when known, else the same data name and tokenizer)."""
    if a.data is not None and b.data is not None:
        return a.data.name == b.data.name and a.data.params == b.data.params
    return a.data_name == b.data_name and a.tokenizer == b.tokenizer


def one_per_cell(run: Run, runs: Iterable[Run]) -> dict[str, Run]:
    """For each cell type, a run on ``run``'s task: ``run`` itself for its cell, else the newest; in CELL_ORDER."""
    chosen: dict[str, Run] = {run.config.cell: run}
    for other in sorted(runs, key=lambda r: -r.created):
        if other.config.cell not in chosen and same_task(run, other):
            chosen[other.config.cell] = other
    return {cell: chosen[cell] for cell in CELL_ORDER if cell in chosen}


def default_comparison(run: Run, runs: Iterable[Run]) -> list[str]:
    """Run ids to compare with ``run``: one per cell on its task when there are several, else the newest run of
    each cell whatever its task (``run`` for its own cell)."""
    runs = list(runs)
    trio = one_per_cell(run, runs)
    if len(trio) > 1:
        return [r.id for r in trio.values()]
    newest: dict[str, Run] = {}
    for other in sorted(runs, key=lambda r: -r.created):
        newest.setdefault(other.config.cell, other)
    newest[run.config.cell] = run
    return [r.id for r in newest.values()]


def validation_accuracy(run: Run) -> float | None:
    """The last validation accuracy, or None before the first evaluation (or without a trainer)."""
    if run.trainer is None or not run.trainer.val_history:
        return None
    return run.trainer.val_history[-1]["val_accuracy"]


def common_snapshots(runs: list[Run]) -> list[int]:
    """Training steps at which every one of ``runs`` kept its weights (empty if one has no trainer)."""
    if not runs or any(r.trainer is None for r in runs):
        return []
    return sorted(set.intersection(*(set(snapshot_steps(r)) for r in runs)))


def class_names(run: Run) -> list[str]:
    """The run's class names, or "0", "1", … when its data did not name them."""
    names = run.data.class_names if run.data is not None else None
    return list(names) if names else [str(k) for k in range(run.config.n_classes)]
