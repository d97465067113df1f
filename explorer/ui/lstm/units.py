"""Units as readers of text (LSTMVis-style): rank units by a task signal or a selected span, colour the text by
one unit."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.analysis.gates import GateRecord, PreparedInput, record_batch
from explorer.analysis.unit_search import (
    SIGNALS,
    available_signals,
    compute_signal,
    correlations,
    pooled_ranking,
    rank_units,
    span_scores,
    word_polarity,
)
from explorer.figures.gates import token_label, value_range
from explorer.figures.theme import DIVERGING, SEQUENTIAL
from explorer.figures.tokens import signal_and_units, token_grid
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.lstm.player import keep_choice
from explorer.ui.lstm.runs import inspected_model
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

QUANTITY = "lstm.units.quantity"
SIGNAL = "lstm.units.signal"
SPAN = "lstm.units.span"
THRESHOLD = "lstm.units.threshold"
POOL = "lstm.units.pool"
UNIT = "lstm.units.unit"
N_POOLED = 200  # validation examples added to the ranking when asked
TOP = 10
POOLABLE = ("depth", "position", "quote", "sentiment")


def _pooled(run: Run, layer: int, key: str, kind: str, polarity) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Activations and signals of the first N_POOLED validation examples (recorded once per run step)."""
    examples = [s for s in run.data.val.sources[:N_POOLED] if s]
    values = get_state().remember((run.id, run.analysis_step, "pooled", layer, key),
                                  lambda: record_batch(inspected_model(run), examples, layer, key))
    if run.config.go_backwards:  # the values are in reading order; so must the signals be
        examples = [s[::-1] for s in examples]
    signals = [compute_signal(kind, run.tokenizer.to_str_tokens(s), s, polarity) for s in examples]
    return values, signals


def render_units(run: Run, record: GateRecord, prepared: PreparedInput, layer: int) -> None:
    state = get_state()
    quantities = {q.key: q for q in record.quantities()}
    keys = list(quantities)
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    keep_choice(QUANTITY, keys, "c" if "c" in keys else "h")
    key = c1.selectbox("Activation", keys, key=QUANTITY,
                       format_func=lambda k: f"{quantities[k].symbol} {quantities[k].name}")
    q = quantities[key]
    signals = available_signals(run.data, prepared.pieces)
    keep_choice(SIGNAL, signals, signals[0])
    kind = c2.selectbox("Signal the task defines", signals, format_func=SIGNALS.get, key=SIGNAL)
    values = record.series(layer, key)  # [pos, d_hidden]
    n = record.n_pos
    polarity = state.remember((run.id, "word polarity"), lambda: word_polarity(run.data)) \
        if kind == "sentiment" else None

    if kind == "span":
        if n < 2:
            st.info("A span needs an input of at least two tokens.")
            return
        seed(SPAN, (0, min(n - 1, 3)),
             valid=lambda v: isinstance(v, tuple | list) and len(v) == 2 and all(0 <= k < n for k in v))
        labels = [f"{k}: {token_label(p)}" for k, p in enumerate(prepared.pieces)]
        start, stop = st.select_slider("Span (first and last token)", options=list(range(n)), key=SPAN,
                                       format_func=lambda k: labels[k])
        low, high = value_range(record, layer, q)
        threshold_key = f"{THRESHOLD}.{q.kind}"
        seed(threshold_key, 0.5 if q.kind == "gate" else round(0.3 * high, 2),  # a new input may change the range
             valid=lambda v: low <= v <= high)
        threshold = st.slider("On above", float(low), float(high), key=threshold_key,
                              help="A unit is 'on' at a step when its value is above this")
        signal = compute_signal("span", prepared.pieces, prepared.ids, span=(start, stop))
        table = span_scores(values, start, stop, threshold, top=TOP)
        table["r with span"] = correlations(values, signal)[table["unit"]]
        st.caption("Score = share of span steps where the unit is on − share of the other steps where it is on "
                   "(1: on exactly over the span).")
    else:
        signal = compute_signal(kind, prepared.pieces, prepared.ids, polarity)
        poolable = kind in POOLABLE and run.data is not None and not run.data.is_stream and run.data.val.sources
        seed(POOL, False)
        pool = c3.toggle(f"+ {N_POOLED} validation examples", key=POOL, disabled=not poolable,
                         help="Rank over this input and the first validation examples: more steps, a steadier ranking")
        if pool and poolable:
            more_values, more_signals = _pooled(run, layer, key, kind, polarity)
            table = pooled_ranking([values, *more_values], [signal, *more_signals], top=TOP)
            st.caption(f"Ranked over this input and {len(more_values)} validation examples "
                       f"({n + sum(len(v) for v in more_values):,} steps).")
        else:
            table = rank_units(values, signal, top=TOP)
        if kind == "sentiment":
            st.caption("Word polarity = log-odds that a word occurs in a "
                       f"'{run.data.class_names[1]}' rather than a '{run.data.class_names[0]}' training text; the "
                       "signal adds them up over the words read so far (the model's own output is not used).")
    if not np.isfinite(signal).all() or np.ptp(signal) == 0:
        st.info("The signal is constant on this input, so no unit can correlate with it: try a longer or more varied "
                "input, or add the validation examples.")

    left, right = st.columns([1, 2])
    left.dataframe(table, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="%.3f") for c in table.columns if c != "unit"})
    top = table["unit"].tolist()
    top_r = correlations(values, signal)[top[:3]]
    with right:
        show_figure(signal_and_units(signal, values, top[:3], top_r, prepared.pieces, SIGNALS[kind].split(":")[0],
                                     q.symbol), "lstm.units.lines", f"{run.name} top units {kind}")

    order = top + [u for u in range(record.d_hidden) if u not in top]
    keep_choice(UNIT, order, order[0])
    unit = st.selectbox("Colour the text by unit", order, key=UNIT,
                        format_func=lambda u: f"unit {u}" + (" (top match)" if u == top[0] else ""))
    low, high = value_range(record, layer, q)
    fig = token_grid(prepared.pieces, values[:, unit], f"The input coloured by unit {unit}'s {q.symbol}",
                     unknown=prepared.unknown, colorscale=SEQUENTIAL if q.kind == "gate" else DIVERGING,
                     zmin=low, zmax=high, value_name=q.symbol)
    show_figure(fig, "lstm.units.text", f"{run.name} text by unit {unit}")
    st.caption("Each cell is a token in reading order, coloured by the unit's value after reading it. "
               "* marks tokens outside the vocabulary (read as <unk>).")
