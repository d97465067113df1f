"""Vanishing and exploding gradients on the recurrent-cell page: ‖∂L/∂hₜ‖ for the session's Elman RNN, GRU and
LSTM on the same task, W_hh's eigenvalues, and how both change over the trainer's snapshots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.gradients import gradients_over_training, radius_history, spectra
from explorer.figures.gradients import (
    CELL_COLORS,
    eigenvalue_figure,
    gradient_curves,
    gradients_over_training_figure,
    radius_history_figure,
)
from explorer.training.run import Run
from explorer.training.run_selection import (
    common_snapshots,
    one_per_cell,
    recurrent_runs,
    same_task,
    validation_accuracy,
)
from explorer.training.snapshots import snapshot_steps
from explorer.ui.figure import show_figure
from explorer.ui.lstm.compare import gradient_curve, prepared_for
from explorer.ui.lstm.inputs import ChosenInput
from explorer.ui.lstm.player import keep_choice
from explorer.ui.lstm.runs import (
    CELL_NAMES,
    LONG_GAP,
    inspected_model,
    offer_long_gap_trio,
)
from explorer.ui.state import get_state

RELATIVE = "lstm.grad.relative"
WHEN = "lstm.grad.when"
NOW = -1  # the select slider's value for "the current weights"
SNAPSHOT = "lstm.grad.snapshot"
TRIO = "lstm.grad.trio"
OVER_TRAINING = "lstm.grad.over_training"
AUTO_BUDGET = 6000  # snapshots × tokens computed without asking (about a second)

EXPLAIN = (
    "Backpropagation through time multiplies the gradient by ∂hₜ/∂hₜ₋₁ once per step. For an Elman RNN that is "
    "diag(1 − hₜ²)·W_hh, so going k steps back multiplies by W_hhᵀ about k times: with W = V diag(λ) V⁻¹, "
    "Wᵏ = V diag(λᵏ) V⁻¹ — the gradient vanishes when the largest |λ| is below 1 and can explode above 1 "
    "(gradient clipping). An LSTM carries Cₜ = fₜ ∗ Cₜ₋₁ + iₜ ∗ C̃ₜ: along the cell state the factor is fₜ, and "
    "a forget gate near 1 passes the gradient back almost unchanged. That is also why an LSTM is usually started "
    "with its forget-gate bias at 1: with torch's default 0, fₜ ≈ σ(0) = 0.5 at first, Cₜ halves at every step, and "
    "on a 40-step gap the LSTM stalls like the Elman RNN (the trio's LSTM starts at bias 1; see it with "
    "'Step through': fₜ stays close to 1 across the digits)."
)


def render_gradients(run: Run, chosen: ChosenInput, layer: int) -> None:
    _side_by_side(run, chosen, layer)
    st.divider()
    _eigenvalues(run, chosen, layer)


def _side_by_side(run: Run, chosen: ChosenInput, layer: int) -> None:
    state = get_state()
    st.markdown("#### ‖∂L/∂hₜ‖: how much of the loss at the last step reaches each earlier step")
    trio = one_per_cell(run, recurrent_runs(state.runs.values()))
    if len(trio) < 3:
        missing = ", ".join(CELL_NAMES[c] for c in CELL_NAMES if c not in trio)
        st.info(f"To compare the cells, this page needs an Elman RNN, a GRU and an LSTM trained on the same task "
                f"(missing here: {missing}). The lecture's example is a long gap — \"I grew up in France … I speak "
                f"fluent French\": remember the first token across {LONG_GAP.seq_len} random digits.")
        offer_long_gap_trio(TRIO)
    at_step = _when(list(trio.values()))
    curves, rows = {}, []
    for cell, other in trio.items():
        prepared = prepared_for(other, run, chosen)
        if not len(prepared):
            continue
        other_layer = layer if other is run else other.config.n_layers - 1
        target = chosen.label if same_task(other, run) else None
        curve = gradient_curve(other, prepared.ids, other_layer, target, at_step)
        name = f"{CELL_NAMES[cell]} · {other.name}"
        curves[name] = curve.norms
        rows.append({"model": name, "weights of step": other.step if at_step is None else at_step,
                     "validation accuracy now": validation_accuracy(other),
                     "loss at the last step": curve.loss,
                     "‖∂L/∂h₀‖ ÷ ‖∂L/∂h_last‖": curve.norms[0] / curve.norms[-1] if curve.norms[-1] > 0 else np.nan})
    dead = [name for name, norms in curves.items() if not (norms > 0).any()]
    if dead:
        st.warning(f"For {', '.join(dead)} the loss at the last step does not depend on any hₜ for this input: the "
                   "gradient is exactly 0 (typically every ReLU unit of the classifier's hidden layer is off, which "
                   "happens when the model is very sure). Pick another example to see a curve.")
    relative = st.toggle("Divide by the last step's norm", True, key=RELATIVE,
                         help="Shows the share of the gradient that survives going back to step t")
    colors = {f"{CELL_NAMES[c]} · {r.name}": CELL_COLORS[c] for c, r in trio.items()}
    show_figure(gradient_curves(curves, colors, relative=relative), "lstm.grad.curves", "gradient norms by cell")
    target_text = (f"the true class ({chosen.label_name})" if chosen.label is not None
                   else "each model's own prediction (the input has no label)")
    st.caption(f"L is the cross-entropy at the last step against {target_text}; the curve is autograd's ∂L/∂hₜ "
               f"for every t (through all later steps; for layer {layer} of {run.name}, through the layers above).")
    pooled = [f"{CELL_NAMES[c]} · {r.name}" for c, r in trio.items()
              if r.config.head == "classifier" and r.config.pooling == "mean"]
    if pooled:
        st.caption(f"⚠️ {', '.join(pooled)} average(s) h₀ … h_T before classifying, so every hₜ also reaches the loss "
                   "directly with a 1/T share: the curve then stays up even where the path back through the "
                   "recurrence has vanished. Models that classify from the last state show the vanishing alone.")
    if any(r.config.go_backwards for r in trio.values()):
        st.caption("↩️ A model that reads backwards starts at the input's last token: its step t is the t-th token "
                   "from the end.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "validation accuracy now": st.column_config.NumberColumn(format="percent"),
        "loss at the last step": st.column_config.NumberColumn(format="%.3f"),
        "‖∂L/∂h₀‖ ÷ ‖∂L/∂h_last‖": st.column_config.NumberColumn(format="%.2e")})
    st.markdown(EXPLAIN)


def _when(runs: list[Run]) -> int | None:
    """Which weights to compare: now (None), or a training step every run kept (step 0: before training)."""
    steps = common_snapshots(runs)
    if not steps:
        return None
    options = [*steps, NOW]
    keep_choice(WHEN, options, NOW)
    chosen = st.select_slider("Weights of the training step (the last: now)", options, key=WHEN,
                              format_func=lambda s: "now" if s == NOW else f"step {s}" + (" (before training)"
                                                                                           if s == 0 else ""),
                              help="Step 0 shows why a model can or cannot start learning a long gap: how much "
                                   "gradient reaches the first token before any training.")
    if chosen == 0:
        st.caption("Before training: with almost no gradient reaching the first token, an Elman RNN has nothing to "
                   "learn the long gap from; the gated cells pass orders of magnitude more back.")
    return None if chosen == NOW else int(chosen)


def _weights_at(run: Run, step: int, layer: int):
    key = f"rnn.weight_hh_l{layer}"
    if run.trainer is not None and step in run.trainer.snapshots:
        return run.trainer.load_snapshot(step)[key]
    return inspected_model(run).W_hh(layer)


def _eigenvalues(run: Run, chosen: ChosenInput, layer: int) -> None:
    state = get_state()
    st.markdown(f"#### Eigenvalues of W_hh (layer {layer}) and the unit circle")
    steps = snapshot_steps(run)
    options = sorted(set(steps) | {run.analysis_step})
    keep_choice(SNAPSHOT, options, options[-1])
    step = st.select_slider("Training step (the trainer's snapshots; the last is the current weights)", options,
                            key=SNAPSHOT) if len(options) > 1 else options[0]
    cell = run.config.cell
    found = spectra(_weights_at(run, step, layer), cell)
    left, right = st.columns([1, 1])
    with left:
        show_figure(eigenvalue_figure(found, f"Eigenvalues of W_hh at step {step}"), "lstm.grad.eigen",
                    f"{run.name} eigenvalues step {step}")
    if cell == "rnn":
        blocks = "For an Elman RNN the spectral radius ρ of W_hh is the lecture's 'biggest eigenvalue'."
    else:
        blocks = ("torch stacks the recurrent weights of the gates row-wise in weight_hh: "
                  + ("LSTM [W_hi; W_hf; W_hg; W_ho]" if cell == "lstm" else "GRU [W_hr; W_hz; W_hn]")
                  + "; each square block is shown separately. For gated cells these blocks feed the gates, so their "
                  "eigenvalues do not decide the gradient's fate alone: the forget (LSTM) or update (GRU) gate does.")
    left.caption(blocks)
    with right:
        if len(steps) > 1:
            history = state.remember((run.id, tuple(steps), "radius history", layer),
                                     lambda: radius_history({s: run.trainer.load_snapshot(s) for s in steps}, cell,
                                                            layer))
            show_figure(radius_history_figure(history, step), "lstm.grad.radius", f"{run.name} spectral radius")
        else:
            st.caption("This run has no training snapshots yet (they are kept every few steps while it trains).")
    if len(steps) > 1 and len(chosen.prepared):
        _over_training(run, chosen, layer, steps)


def _over_training(run: Run, chosen: ChosenInput, layer: int, steps: list[int]) -> None:
    state = get_state()
    ids = chosen.prepared.ids
    key = (run.id, tuple(steps), "grads over training", ids, layer, chosen.label)
    if key not in state.memo and len(steps) * len(ids) > AUTO_BUDGET and not st.button(
            f"Compute ‖∂L/∂hₜ‖ at all {len(steps)} snapshots", key=OVER_TRAINING):
        st.caption("‖∂L/∂hₜ‖ at every snapshot takes a few seconds for this input: press the button.")
        return
    frame = state.remember(key, lambda: gradients_over_training(
        run.config, {s: run.trainer.load_snapshot(s) for s in steps}, ids, chosen.label, layer))
    show_figure(gradients_over_training_figure(frame), "lstm.grad.training", f"{run.name} gradients over training")
    st.caption("Each row is the gradient curve at one training snapshot (darker: less gradient reaches that step).")
