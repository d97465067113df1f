"""The share of the gradient that reaches the first steps, averaged over validation examples at a chosen training
step: computed once per (run, step), compared between cells in words that are true of the numbers shown.

Used by the "Gradients & eigenvalues" and "Compare cells" views.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from explorer.analysis.gradient_flow import AveragedCurve, ProbeSet, averaged_curve, first_step_over_training, probe_set
from explorer.training.run import Run
from explorer.ui.lstm.player import keep_choice
from explorer.ui.lstm.runs import CELL_NAMES, model_at_step
from explorer.ui.state import get_state

NOW = -1  # a training-step slider's value for "the current weights"
MAX_HISTORY_POINTS = 24  # snapshots the over-training line is computed at (spread over the run)


def probe_for(run: Run) -> ProbeSet | None:
    return get_state().remember((run.id, "gradient probe"), lambda: probe_set(run.data))


def curve_at(run: Run, step: int | None, layer: int | None = None) -> AveragedCurve | None:
    """The averaged share curve of ``run`` with the weights of ``step`` (None: now); None without examples."""
    probe = probe_for(run)
    if probe is None:
        return None
    key = (run.id, run.analysis_step if step is None else step, step is None, "averaged gradient", layer)
    return get_state().remember(key, lambda: averaged_curve(model_at_step(run, step), probe, layer))


def choose_step(key: str, steps: list[int], label: str, default: int = 0) -> int | None:
    """A training-step slider over ``steps`` and "now"; default step 0 (before training). None means now."""
    if not steps:
        return None
    options = [*steps, NOW]
    keep_choice(key, options, default if default in options else NOW)
    chosen = st.select_slider(label, options, key=key,
                              format_func=lambda s: "now" if s == NOW else f"step {s}" + (" (before training)"
                                                                                           if s == 0 else ""),
                              help="Step 0 shows why a model can or cannot start learning a long gap: how much of "
                                   "the gradient reaches the first token before any training.")
    return None if chosen == NOW else int(chosen)


def accuracy_at(run: Run, step: int | None) -> float | None:
    """Validation accuracy at the last evaluation at or before ``step`` (None: the latest; before any: None)."""
    if run.trainer is None or not run.trainer.val_history:
        return None
    rows = [r for r in run.trainer.val_history if step is None or r["step"] <= step]
    return rows[-1]["val_accuracy"] if rows else None


def verdict(curves: dict[str, AveragedCurve], runs: dict[str, Run], step: int | None) -> str:
    """What the shares at t = 0 show, Elman RNN against LSTM (and GRU), in words true of these numbers."""
    if "rnn" not in curves or "lstm" not in curves:
        return ""
    elman, lstm = curves["rnn"].first, curves["lstm"].first
    when = "now" if step is None else ("before training" if step == 0 else f"at step {step}")
    if not (math.isfinite(elman) and math.isfinite(lstm)):
        return ""
    text = (f"{when.capitalize()}, on average the share of the last step's gradient that reaches t = 0 is "
            f"{elman:.1e} for the Elman RNN and {lstm:.1e} for the LSTM")
    if "gru" in curves and math.isfinite(curves["gru"].first):
        text += f" ({curves['gru'].first:.1e} for the GRU)"
    if elman < lstm:
        text += (f": the LSTM passes about {lstm / max(elman, 1e-300):.0e} times as much back — the lecture's point, "
                 "a gradient that vanishes through tanh and W_hh but travels along the cell state. ")
    else:
        text += (": here the Elman RNN keeps as much or more, so these weights do not show the lecture's point. "
                 "Training changes both (an RNN's W_hh grows as it tries to learn); step 0 shows where they start. ")
    lstm_loss = curves["lstm"].mean_loss
    if lstm_loss < 0.01:
        text += (f"The LSTM's loss is already {lstm_loss:.0e} on these examples: its raw gradients are tiny, which "
                 "is why one example's ‖∂L/∂h₀‖ can look as small as the Elman RNN's — the share still compares "
                 "them. ")
    accuracy = accuracy_at(runs["rnn"], step)
    if accuracy is not None and runs["rnn"].data is not None and runs["rnn"].data.n_classes:
        chance = 1 / runs["rnn"].data.n_classes
        if accuracy < chance + 0.1:
            text += (f"The Elman RNN is still near chance ({accuracy:.0%}; chance {chance:.0%}): it has not learned "
                     "the gap.")
    return text


def history(run: Run, steps: list[int], layer: int | None = None) -> pd.DataFrame | None:
    """The share reaching t = 0 at (up to MAX_HISTORY_POINTS of) ``steps``; None without examples or snapshots."""
    probe = probe_for(run)
    if probe is None or run.trainer is None:
        return None
    kept = [s for s in steps if s in run.trainer.snapshots]
    if len(kept) > MAX_HISTORY_POINTS:
        stride = math.ceil(len(kept) / MAX_HISTORY_POINTS)
        kept = sorted(set(kept[::stride]) | {kept[-1]})
    key = (run.id, tuple(kept), "first-step share over training", layer)
    return get_state().remember(key, lambda: first_step_over_training(
        run.config, run.trainer.load_snapshots(kept), probe, layer))


def names(trio: dict[str, Run]) -> dict[str, str]:
    return {cell: f"{CELL_NAMES[cell]} · {run.name}" for cell, run in trio.items()}
