"""The two step-following views of the recurrent-cell page: one step (every quantity per unit, with its
equation and the previous step) and the whole sequence (heatmaps, unit lines, saturation).

Both draw from one :class:`GateRecord` (recorded once per run, step and input); moving through time only
slices it and updates figures built once in place.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer.analysis.gates import GateRecord, PreparedInput, saturation, step_table
from explorer.figures.gates import mark_step, saturation_figure, sequence_heatmaps, show_step, step_figure, unit_lines
from explorer.figures.tokens import token_strip_html
from explorer.training.run import Run
from explorer.ui.figure import export_figure, show_figure
from explorer.ui.lstm.player import keep_choice
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_many, set_value

LINE_QUANTITY = "lstm.line_quantity"
LINE_UNITS = "lstm.line_units"
NUMBERS = "lstm.step_numbers"
TOP_PREDICTIONS = 3

GRU_NOTE = (
    "**GRU in torch's convention.** torch computes hₜ = (1 − z) ∗ h̃ₜ + z ∗ hₜ₋₁: its z is the share of the *old* "
    "state that is kept. The lecture writes hₜ = (1 − zₜ) ∗ hₜ₋₁ + zₜ ∗ h̃ₜ, so the lecture's update gate zₜ is "
    "1 − z; both are shown. torch also applies the reset gate *after* the matrix product, rₜ ∗ (W_hn·hₜ₋₁ + b_hn), "
    "where the lecture writes W·[rₜ ∗ hₜ₋₁, xₜ]: the same idea, a slightly different function."
)


def _layer_note(layer: int) -> str:
    return f" In layer {layer}, xₜ is hₜ of layer {layer - 1}." if layer else ""


def _next_token_caption(run: Run, record: GateRecord, t: int) -> str:
    """For a language model: what it predicts after reading token t."""
    if run.config.head != "lm" or record.logits.ndim != 2 or record.logits.shape[-1] == 0:
        return ""
    logits = record.logits[t]  # [d_vocab]
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    top = np.argsort(-probs)[:TOP_PREDICTIONS]
    names = run.tokenizer.to_str_tokens(top.tolist())
    return "After this token the model predicts: " + ", ".join(
        f"`{n!r}` {probs[i]:.0%}" for n, i in zip(names, top))


def _step_figure(record: GateRecord, layer: int, memo_key: tuple) -> go.Figure:
    """The step figure of this run's records of this shape (built once: not again for each input or each new step
    of a training run); :func:`show_step` fills in a step of ``record`` in place."""
    state = get_state()
    columns = 2 if state.slide_theme else 1  # a 16:9 slide has room across, not down
    shape = (record.cell, record.d_hidden, layer, columns)
    return state.remember((memo_key[0], "step figure", *shape), lambda: step_figure(record, layer, columns))


def _heatmaps(record: GateRecord, prepared: PreparedInput, layer: int, memo_key: tuple) -> go.Figure:
    """The whole-sequence heatmaps, built once per record and layer; :func:`mark_step` outlines a step in place."""
    return get_state().remember((*memo_key, "heatmaps", layer),
                                lambda: sequence_heatmaps(record, layer, prepared.pieces))


def export_step(run: Run, record: GateRecord, layer: int, memo_key: tuple) -> None:
    """The step figure's downloads, drawn after the stepping fragment so that a step does not resend them; the
    figure holds the step shown last (its title says which)."""
    export_figure(_step_figure(record, layer, memo_key), "lstm.step", f"{run.name} step view layer {layer}",
                  "⬇️ Export the step figure")


def export_sequence(run: Run, record: GateRecord, prepared: PreparedInput, layer: int, memo_key: tuple) -> None:
    """The whole-sequence heatmaps' downloads, outside the stepping fragment (as :func:`export_step`)."""
    export_figure(_heatmaps(record, prepared, layer, memo_key), "lstm.heatmaps",
                  f"{run.name} gates over time layer {layer}", "⬇️ Export the heatmaps")


def render_step(run: Run, record: GateRecord, prepared: PreparedInput, layer: int, memo_key: tuple, t: int) -> None:
    """Token t with its neighbours, every quantity per unit at t (bars) and t − 1 (dots), and the numbers."""
    st.html(token_strip_html(prepared.pieces, prepared.unknown, t))
    if caption := _next_token_caption(run, record, t):
        st.caption(caption)
    fig = _step_figure(record, layer, memo_key)
    show_step(fig, record, layer, t, prepared.pieces[t])
    show_figure(fig, "lstm.step", "", export=False)  # offered by export_step, outside the stepping fragment
    st.caption("Bars: each unit's value at step t. Dashes: the same unit at step t − 1 (at t = 0 the initial "
               "state C₋₁ = h₋₁ = 0; gates have no previous value). σ maps to (0, 1): a gate near 0 blocks, near 1 "
               "lets through." + _layer_note(layer))
    if record.cell == "gru":
        st.info(GRU_NOTE)
    seed(NUMBERS, False)
    if st.toggle("Show the numbers (every unit at t and t − 1)", key=NUMBERS,
                 help="Off by default: stepping stays quick, and hovering a bar shows its value"):
        table = step_table(record, layer, t).dropna(axis=1, how="all")  # at t = 0 gates have no previous value
        st.dataframe(table, hide_index=True, height=min(400, 38 + 35 * len(table)),
                     column_config={c: st.column_config.NumberColumn(format="%.4f")
                                    for c in table.columns if c != "unit"})


def render_sequence(run: Run, record: GateRecord, prepared: PreparedInput, layer: int, memo_key: tuple,
                    t: int) -> None:
    """Heatmaps time × units with step t outlined, and chosen units as lines."""
    heat = _heatmaps(record, prepared, layer, memo_key)
    show_figure(mark_step(heat, t), "lstm.heatmaps", "", export=False)  # offered by export_sequence
    st.caption("Each row of a heatmap is one unit, each column one step; the outlined column is step t. Gates use "
               "0 → 1 (Viridis), hₜ and the candidate −1 → 1 (blue → red), Cₜ its own symmetric range."
               + _layer_note(layer))

    quantities = {q.key: q for q in record.quantities()}
    c1, c2 = st.columns([1, 3])
    keep_choice(LINE_QUANTITY, list(quantities), "h")
    key = c1.selectbox("Quantity", list(quantities), key=LINE_QUANTITY,
                       format_func=lambda k: f"{quantities[k].symbol} {quantities[k].name}")
    values = record.series(layer, key)  # [pos, d_hidden]
    busiest = np.argsort(-values.std(axis=0))[:4].tolist()
    if not seed_many(LINE_UNITS, list(range(record.d_hidden)), busiest):  # none chosen: the busiest again
        set_value(LINE_UNITS, busiest)
    units = c2.multiselect("Units (default: the four that vary most)", list(range(record.d_hidden)),
                           key=LINE_UNITS, max_selections=8)
    if units:
        lines = get_state().remember((*memo_key, "unit lines", layer, key, tuple(units)),
                                     lambda: unit_lines(record, layer, key, units, prepared.pieces, None,
                                                        quantities[key].symbol))
        # Exported here, not after the fragment: the choice of units above reruns only the fragment.
        show_figure(mark_step(lines, t), "lstm.unit_lines", f"{run.name} unit lines",
                    export_label="⬇️ Export the unit lines")


def render_saturation(run: Run, record: GateRecord, layer: int, memo_key: tuple) -> None:
    """How often each sigmoid gate is nearly shut or nearly open over the whole input (no step needed)."""
    state = get_state()
    table = saturation(record, layer)
    if not table.empty:
        st.markdown("**Gate saturation**: how often a gate is nearly shut (< 0.1) or nearly open (> 0.9)")
        left, right = st.columns([3, 2])
        with left:
            fig = state.remember((*memo_key, "saturation", layer), lambda: saturation_figure(record, layer))
            show_figure(fig, "lstm.saturation", f"{run.name} gate saturation layer {layer}")
        right.dataframe(table.drop(columns="key"), hide_index=True,
                        column_config={c: st.column_config.NumberColumn(format="percent")
                                       for c in ("near 0", "near 1", "in between")})
        right.caption("A forget gate near 1 keeps the cell state (and its gradient) across steps; a saturated gate "
                      "has a small derivative σ′ = σ(1 − σ), so it also learns slowly.")
