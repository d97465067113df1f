"""Vanishing and exploding gradients on the recurrent-cell page: the share of the gradient that reaches each step
for the session's Elman RNN, GRU and LSTM on the same task (averaged over validation examples, at a chosen training
step), the same for a transformer by distance, W_hh's eigenvalues over the trainer's snapshots, and a pair of Elman
RNNs that explode without clipping and recover with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.gradient_flow import shares_over_training
from explorer.analysis.gradients import radius_history, spectra
from explorer.figures.gradients import (
    CELL_COLORS,
    eigenvalue_figure,
    gradient_curves,
    gradients_over_training_figure,
    radius_history_figure,
    share_history_figure,
)
from explorer.training.run import Run
from explorer.training.run_selection import common_snapshots, one_per_cell, recurrent_runs, same_task
from explorer.training.snapshots import snapshot_steps
from explorer.ui.figure import show_figure
from explorer.ui.lstm.compare import gradient_curve, prepared_for
from explorer.ui.lstm.distance import render_distance
from explorer.ui.lstm.exploding import render_exploding
from explorer.ui.lstm.gradient_share import accuracy_at, choose_step, curve_at, history, names, probe_for, verdict
from explorer.ui.lstm.inputs import ChosenInput
from explorer.ui.lstm.player import keep_choice
from explorer.ui.lstm.runs import CELL_NAMES, LONG_GAP, inspected_model, offer_long_gap_trio
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

RELATIVE = "lstm.grad.relative"
WHEN = "lstm.grad.when"
AVERAGE = "lstm.grad.average"
HISTORY = "lstm.grad.history"
HISTORY_BUDGET = 40  # snapshots × models computed without asking
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
    render_distance(run)
    st.divider()
    _eigenvalues(run, chosen, layer)
    st.divider()
    render_exploding()


def _side_by_side(run: Run, chosen: ChosenInput, layer: int) -> None:
    state = get_state()
    st.markdown("#### How much of the last step's gradient reaches each earlier step")
    if run.config.bidirectional:
        st.info("This model reads the input both ways: every hₜ also reaches the loss through the backward "
                "direction, so there is no single path back through time to measure. Pick a one-directional model.")
        return
    trio = one_per_cell(run, [r for r in recurrent_runs(state.runs.values()) if not r.config.bidirectional])
    if len(trio) < 3:
        missing = ", ".join(CELL_NAMES[c] for c in CELL_NAMES if c not in trio)
        st.info(f"To compare the cells, this page needs an Elman RNN, a GRU and an LSTM trained on the same task "
                f"(missing here: {missing}). The lecture's example is a long gap — \"I grew up in France … I speak "
                f"fluent French\": remember the first token across {LONG_GAP.seq_len} random digits.")
        offer_long_gap_trio(TRIO)
    steps = common_snapshots(list(trio.values()))
    at_step = choose_step(WHEN, steps, "Weights of the training step (the last: now)")
    if at_step == 0:
        st.caption("Before training: with almost no gradient reaching the first token, a model has nothing to start "
                   "learning the long gap from.")
    seed(AVERAGE, True)
    averaged = st.toggle("Average over validation examples (else: the input above only)", key=AVERAGE,
                         help="The geometric mean over examples of ‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖, against each model's "
                              "true targets. One example's raw norm mostly says how sure the model already is.")
    label = names(trio)
    colors = {label[c]: CELL_COLORS[c] for c in trio}
    if averaged:
        curves = {cell: curve_at(other, at_step, layer if other is run else None) for cell, other in trio.items()}
        curves = {cell: c for cell, c in curves.items() if c is not None}
        if not curves:
            st.info("This data has no validation examples to average over: switch the toggle off.")
            return
        show_figure(gradient_curves({label[c]: curve.shares for c, curve in curves.items()}, colors, relative=True,
                                    title="How much gradient reaches each step (mean over examples)"),
                    "lstm.grad.curves", "gradient share by cell")
        probe = probe_for(run)
        st.caption(f"Each point: the geometric mean over {probe.what if probe else 'the examples'} of "
                   "‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖, L the cross-entropy at the last step (1 at the last step by definition). "
                   f"For layer {layer} of {run.name}, through the layers above.")
        st.markdown(verdict(curves, trio, at_step))
        rows = [{"model": label[c], "weights of step": trio[c].step if at_step is None else at_step,
                 "validation accuracy then": accuracy_at(trio[c], at_step), "mean loss": curve.mean_loss,
                 "share reaching t = 0": curve.first,
                 "examples without gradient": curve.n_without_gradient} for c, curve in curves.items()]
        if any(r["examples without gradient"] for r in rows):
            st.caption("Examples without gradient: the loss does not depend on h_last at all (typically every ReLU "
                       "unit of the classifier's hidden layer is off, when the model is very sure); they are left "
                       "out of the mean.")
    else:
        curves, rows = _one_input(run, trio, chosen, layer, at_step)
        seed(RELATIVE, True)
        relative = st.toggle("Divide by the last step's norm", key=RELATIVE,
                             help="Shows the share of the gradient that survives going back to step t")
        show_figure(gradient_curves({label[c]: v for c, v in curves.items()}, colors, relative=relative),
                    "lstm.grad.curves", "gradient norms by cell")
    _captions(run, trio)
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "validation accuracy then": st.column_config.NumberColumn(format="percent"),
        "mean loss": st.column_config.NumberColumn(format="%.3g"),
        "loss at the last step": st.column_config.NumberColumn(format="%.3g"),
        "share reaching t = 0": st.column_config.NumberColumn(format="%.2e")})
    if averaged and len(steps) > 1:
        _share_history(trio, steps, at_step, label, colors)
    st.markdown(EXPLAIN)


def _one_input(run: Run, trio: dict[str, Run], chosen: ChosenInput, layer: int, at_step: int | None):
    curves, rows = {}, []
    for cell, other in trio.items():
        prepared = prepared_for(other, run, chosen)
        if not len(prepared):
            continue
        target = chosen.label if same_task(other, run) else None
        curve = gradient_curve(other, prepared.ids, layer if other is run else other.config.n_layers - 1, target,
                               at_step)
        curves[cell] = curve.norms
        rows.append({"model": names(trio)[cell], "weights of step": other.step if at_step is None else at_step,
                     "validation accuracy then": accuracy_at(other, at_step), "loss at the last step": curve.loss,
                     "share reaching t = 0": curve.norms[0] / curve.norms[-1] if curve.norms[-1] > 0 else np.nan})
    dead = [names(trio)[c] for c, norms in curves.items() if not (norms > 0).any()]
    if dead:
        st.warning(f"For {', '.join(dead)} the loss at the last step does not depend on any hₜ for this input: the "
                   "gradient is exactly 0 (typically every ReLU unit of the classifier's hidden layer is off, which "
                   "happens when the model is very sure). Average over examples, or pick another one.")
    target_text = (f"the true class ({chosen.label_name})" if chosen.label is not None
                   else "each model's own prediction (the input has no label)")
    st.caption(f"L is the cross-entropy at the last step against {target_text}; the curve is autograd's ∂L/∂hₜ "
               "for every t (through all later steps and the layers above).")
    return curves, rows


def _captions(run: Run, trio: dict[str, Run]) -> None:
    pooled = [names(trio)[c] for c, r in trio.items() if r.config.head == "classifier" and r.config.pooling == "mean"]
    if pooled:
        st.caption(f"⚠️ {', '.join(pooled)} average(s) h₀ … h_T before classifying, so every hₜ also reaches the loss "
                   "directly with a 1/T share: the curve then stays up even where the path back through the "
                   "recurrence has vanished. Models that classify from the last state show the vanishing alone.")
    if any(r.config.go_backwards for r in trio.values()):
        st.caption("↩️ A model that reads backwards starts at the input's last token: its step t is the t-th token "
                   "from the end.")


def _share_history(trio: dict[str, Run], steps: list[int], at_step: int | None, label: dict[str, str],
                   colors: dict[str, str]) -> None:
    state = get_state()
    key = (tuple((r.id, tuple(steps)) for r in trio.values()), "share history")
    if key not in state.memo and len(steps) * len(trio) > HISTORY_BUDGET and not st.button(
            "📈 Compute the share reaching t = 0 at every training snapshot", key=HISTORY):
        st.caption("The share over the whole training takes a few seconds: press the button.")
        return
    frames = state.remember(key, lambda: {label[c]: history(r, steps) for c, r in trio.items()})
    frames = {name: frame for name, frame in frames.items() if frame is not None}
    show_figure(share_history_figure(frames, colors, at_step), "lstm.grad.share_history",
                "gradient share over training")
    st.caption("The same mean share at t = 0 at each kept training step (dotted line: the step chosen above). A "
               "model learns the gap only when enough gradient reaches the first token; what it learns then also "
               "changes how much passes back.")


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
                                     lambda: radius_history(run.trainer.load_snapshots(steps), cell,
                                                            layer))
            show_figure(radius_history_figure(history, step), "lstm.grad.radius", f"{run.name} spectral radius")
        else:
            st.caption("This run has no training snapshots yet (they are kept every few steps while it trains).")
    if len(steps) > 1 and len(chosen.prepared):
        _over_training(run, chosen, layer, steps)


def _over_training(run: Run, chosen: ChosenInput, layer: int, steps: list[int]) -> None:
    state = get_state()
    probe = probe_for(run)
    if probe is None or run.config.bidirectional:
        return
    key = (run.id, tuple(steps), "shares over training", layer)
    if key not in state.memo and len(steps) * probe.length > AUTO_BUDGET and not st.button(
            f"Compute the gradient share at all {len(steps)} snapshots", key=OVER_TRAINING):
        st.caption("The gradient share at every snapshot takes a few seconds for this model: press the button.")
        return
    frame = state.remember(key, lambda: shares_over_training(
        run.config, run.trainer.load_snapshots(steps), probe, layer))
    show_figure(gradients_over_training_figure(frame, f"{run.name}: share of the gradient reaching each step",
                                               "log₁₀ share"), "lstm.grad.training",
                f"{run.name} gradients over training")
    st.caption(f"Each row: one training snapshot; each cell: the geometric mean over {probe.what} of "
               "‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖ (darker: less of the gradient gets that far back). Dividing by the last "
               "step keeps a row visible when the loss, and with it every raw gradient, has become tiny; an empty "
               "row means no example had any gradient at all.")
