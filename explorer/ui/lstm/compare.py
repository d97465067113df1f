"""The model's reading over time (class probability after each prefix, or next-token probability) and the same
input through several recurrent runs side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.gates import GateRecord, PreparedInput, prepare_text, record_gates
from explorer.analysis.gradients import GradientCurve, hidden_gradient_norms
from explorer.analysis.readout import next_token_probabilities, prefix_probabilities
from explorer.figures.gradients import gradient_curves
from explorer.figures.readout import compare_hidden_figure, next_token_figure, prefix_probability_figure
from explorer.figures.theme import DIVERGING, SEQUENTIAL
from explorer.figures.tokens import token_grid
from explorer.training.run import Run, describe_model
from explorer.training.run_selection import (
    class_names,
    common_snapshots,
    default_comparison,
    recurrent_runs,
    validation_accuracy,
)
from explorer.ui.figure import show_figure
from explorer.ui.lstm.gradient_share import choose_step, curve_at, verdict
from explorer.ui.lstm.inputs import ChosenInput
from explorer.ui.lstm.runs import (
    CELL_NAMES,
    COMPARE_RUNS,
    inspected_model,
    model_at_step,
    offer_long_gap_trio,
)
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_many

COMPARE_TRIO = "lstm.compare.trio"
COMPARE_WHEN = "lstm.compare.when"
MAX_CLASS_LINES = 8




def prepared_for(run: Run, reference: Run, chosen: ChosenInput) -> PreparedInput:
    """The chosen input for ``run``: the same ids when it shares the tokenizer, else the text re-tokenized."""
    if run.tokenizer == reference.tokenizer:
        return chosen.prepared
    return prepare_text(run.tokenizer, chosen.text)


def record_for(run: Run, prepared: PreparedInput) -> GateRecord:
    return get_state().remember((run.id, run.analysis_step, "gates", prepared.ids),
                                lambda: record_gates(inspected_model(run), prepared.ids))


def prefix_probs(run: Run, prepared: PreparedInput) -> np.ndarray:
    return get_state().remember((run.id, run.analysis_step, "prefix probabilities", prepared.ids),
                                lambda: prefix_probabilities(inspected_model(run), prepared.ids))


def next_probs(run: Run, prepared: PreparedInput) -> np.ndarray:
    return get_state().remember((run.id, run.analysis_step, "next-token probabilities", prepared.ids),
                                lambda: next_token_probabilities(inspected_model(run), prepared.ids))


def gradient_curve(run: Run, ids: tuple[int, ...], layer: int, target: int | None,
                   at_step: int | None = None) -> GradientCurve:
    """‖∂L/∂hₜ‖ of one layer for one input, now or at a training snapshot ``at_step`` (computed once)."""
    step = run.analysis_step if at_step is None else at_step
    return get_state().remember((run.id, step, at_step is None, "grad norms", ids, layer, target),
                                lambda: hidden_gradient_norms(model_at_step(run, at_step), ids, target, layer=layer))


# ----------------------------------------------------------------------------------------- over time
def render_over_time(run: Run, chosen: ChosenInput) -> None:
    """A classifier's class probabilities after each prefix, or an LM's probability of each next token."""
    prepared = chosen.prepared
    if run.config.head == "lm":
        probs = next_probs(run, prepared)
        if len(probs) == 0:
            st.info("A language model's reading needs at least two tokens.")
            return
        show_figure(next_token_figure(probs, prepared.pieces), "lstm.time.next", f"{run.name} next-token probability")
        show_figure(token_grid(prepared.pieces[1:], probs, "Each token coloured by how much the model expected it",
                               unknown=prepared.unknown[1:], colorscale=SEQUENTIAL, zmin=0, zmax=1,
                               value_name="p"), "lstm.time.text", f"{run.name} expected tokens")
        st.caption(f"Mean log-probability {np.log(np.clip(probs, 1e-12, None)).mean():.2f} nats per token "
                   f"(perplexity {np.exp(-np.log(np.clip(probs, 1e-12, None)).mean()):.1f}).")
        return
    probs = prefix_probs(run, prepared)  # [pos, n_classes], in reading order
    prepared = prepared.in_reading_order(run.config.go_backwards)
    names = class_names(run)
    if len(names) == 2:
        curves, label = {run.name: probs[:, 1]}, names[1]
    else:
        final = np.argsort(-probs[-1])[:MAX_CLASS_LINES]
        curves, label = {names[k]: probs[:, k] for k in final}, "class"
    show_figure(prefix_probability_figure(curves, prepared.pieces, label), "lstm.time.probs",
                f"{run.name} prediction over time")
    if len(names) == 2:
        show_figure(token_grid(prepared.pieces, probs[:, 1], f"Each token coloured by p({names[1]}) after reading it",
                               unknown=prepared.unknown, colorscale=DIVERGING, zmin=0, zmax=1,
                               value_name=f"p({names[1]})"), "lstm.time.text", f"{run.name} reading word by word")
    final_class = int(probs[-1].argmax())
    truth = f" The true class is **{chosen.label_name}**." if chosen.label_name else ""
    pooling = ("With mean pooling, the reading after t tokens averages h₀ … hₜ, so single words move it less "
               "as the text grows." if run.config.pooling == "mean" else
               "With last-state pooling, the reading after t tokens is computed from hₜ alone.")
    read = ("every suffix (it reads backwards, so after t tokens it has read the last t; the text runs from the "
            "end)" if run.config.go_backwards else "every prefix tokens 0..t")
    st.caption(f"The classifier is run on {read} (batched). After the whole input it says "
               f"**{names[final_class]}** ({probs[-1, final_class]:.0%}).{truth} {pooling}")


# ----------------------------------------------------------------------------------------- compare cells


def render_compare(run: Run, chosen: ChosenInput) -> None:
    """The chosen input through several recurrent runs: hidden states, readings and gradients side by side."""
    state = get_state()
    runs = recurrent_runs(state.runs.values())
    ids = [r.id for r in runs]
    seed_many(COMPARE_RUNS, ids, default_comparison(run, runs))
    if len({r.config.cell for r in runs}) < 3:
        st.info("Compare works best with an Elman RNN, a GRU and an LSTM trained on the same task.")
        offer_long_gap_trio(COMPARE_TRIO)
    picked = st.multiselect("Runs to compare", ids, key=COMPARE_RUNS, max_selections=4,
                            format_func=lambda i: f"{state.runs[i].name} · {CELL_NAMES[state.runs[i].config.cell]}")
    chosen_runs = [state.runs[i] for i in picked]
    if not chosen_runs:
        st.info("Pick at least one run.")
        return
    prepared = {r.id: prepared_for(r, run, chosen) for r in chosen_runs}
    empty = [r.name for r in chosen_runs if len(prepared[r.id]) == 0]
    if empty:
        st.warning(f"The input has no tokens for: {', '.join(empty)}.")
        chosen_runs = [r for r in chosen_runs if len(prepared[r.id])]
    records = {r.id: record_for(r, prepared[r.id]) for r in chosen_runs}
    read = {r.id: prepared[r.id].in_reading_order(r.config.go_backwards) for r in chosen_runs}
    states = {f"{r.name} ({CELL_NAMES[r.config.cell]})": (records[r.id].series(r.config.n_layers - 1, "h"),
                                                          read[r.id].pieces) for r in chosen_runs}
    if states:
        show_figure(compare_hidden_figure(states), "lstm.compare.hidden", "compare hidden states")
        st.caption("Top layer's hₜ of each model on the same text (each with its own tokenizer). Gated cells often "
                   "hold a value steady for many steps; an Elman RNN's states tend to follow the latest tokens.")
    _compare_readings(run, chosen_runs, prepared)
    at_step = choose_step(COMPARE_WHEN, common_snapshots(chosen_runs), "Gradients with the weights of training step")
    curves, rows, by_cell, cells = {}, [], {}, {}
    for r in chosen_runs:
        curve = None if r.config.bidirectional else curve_at(r, at_step)
        final = records[r.id].logits if r.config.head == "classifier" else records[r.id].logits[-1]
        if curve is not None:
            curves[r.name] = curve.shares
            by_cell.setdefault(r.config.cell, curve)
            cells.setdefault(r.config.cell, r)
        rows.append({"run": r.name, "model": describe_model(r.config), "trained steps": r.step,
                     "validation accuracy now": validation_accuracy(r),
                     "output after the input (now)": r.tokenizer.tokens[int(final.argmax())]
                     if r.config.head == "lm" else class_names(r)[int(final.argmax())],
                     "gradients at step": r.step if at_step is None else at_step,
                     "share reaching t = 0": curve.first if curve is not None else np.nan,
                     "mean loss then": curve.mean_loss if curve is not None else np.nan})
    if curves:
        show_figure(gradient_curves(curves, title="How much gradient reaches each step (mean over examples)"),
                    "lstm.compare.grads", "compare gradient norms")
        st.caption("Each run on its own validation examples and true targets: the geometric mean of "
                   "‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖. " + verdict(by_cell, cells, at_step))
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "validation accuracy now": st.column_config.NumberColumn(format="percent"),
        "share reaching t = 0": st.column_config.NumberColumn(format="%.2e"),
        "mean loss then": st.column_config.NumberColumn(format="%.3g")})


def _compare_readings(run: Run, runs: list[Run], prepared: dict[str, PreparedInput]) -> None:
    """Overlay the readings when they are comparable: binary classifiers with the same classes, or LMs."""
    if len({r.config.go_backwards for r in runs}) > 1:
        st.info("Some of these models read backwards and some forwards, so their readings over time run in opposite "
                "directions: open each one's 'Reading over time' instead.")
        return
    if all(r.config.head == "classifier" and class_names(r) == class_names(run) and len(class_names(r)) == 2
           for r in runs):
        curves = {r.name: prefix_probs(r, prepared[r.id])[:, 1] for r in runs}
        first = prepared[runs[0].id].in_reading_order(runs[0].config.go_backwards)
        show_figure(prefix_probability_figure(curves, first.pieces, class_names(run)[1]),
                    "lstm.compare.probs", "compare predictions over time")
    elif all(r.config.head == "lm" for r in runs):
        curves = {r.name: next_probs(r, prepared[r.id]) for r in runs}
        curves = {k: v for k, v in curves.items() if len(v)}
        if curves:
            show_figure(prefix_probability_figure(curves, prepared[runs[0].id].pieces[1:], "next token",
                                                  title="p(the actual next token) before reading it"),
                        "lstm.compare.probs", "compare next-token probabilities")
