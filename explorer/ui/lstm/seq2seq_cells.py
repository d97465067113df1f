"""Inside a recurrent encoder–decoder: step through the encoder reading the source or the decoder writing the
target, gate by gate, with the same views as a single recurrent model."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.gates import prepare_ids
from explorer.analysis.seq2seq_gates import SIDES, record_seq2seq
from explorer.training.run import Run
from explorer.ui.lstm.player import render_stepper
from explorer.ui.lstm.runs import inspected_model
from explorer.ui.lstm.step import render_saturation, render_sequence, render_step
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

SIDE = "lstm.s2s.side"
EXAMPLE = "lstm.s2s.example"
FEED = "lstm.s2s.feed"
VIEW = "lstm.s2s.view"
LAYER = "lstm.s2s.layer"
TEACHER, GREEDY = "the true target (teacher forcing)", "its own outputs (greedy decoding)"
STEP, SEQUENCE = "👣 Step through", "🗺️ Whole sequence"
SIDE_NAMES = {"encoder": "→ Encoder (reads)", "encoder backward": "← Encoder (backward)",
              "decoder": "Decoder (writes)"}  # short: three fit in the column at 1280 px


def render_seq2seq_cells(run: Run) -> None:
    cfg = run.config
    if run.data is None or not run.data.val.sources:
        st.info("This run has no validation examples to read.")
        return
    sides = [s for s in SIDES if s != "encoder backward" or cfg.bidirectional]
    c1, c2, c3 = st.columns([3, 1, 1])
    seed_choice(SIDE, sides, "decoder")
    side = c1.segmented_control("Side", sides, key=SIDE, format_func=SIDE_NAMES.get,
                                help="The encoder reads the source (a bidirectional one also from its end); the "
                                     "decoder writes the target, one token per step") or "decoder"
    val = run.data.val
    seed(EXAMPLE, 0, valid=lambda v: isinstance(v, int) and 0 <= v < len(val.sources))
    index = int(c2.number_input(f"Validation example (0 – {len(val.sources) - 1})", 0, len(val.sources) - 1,
                                key=EXAMPLE))
    layer = 0
    if cfg.n_layers > 1:
        seed_choice(LAYER, list(range(cfg.n_layers)), cfg.n_layers - 1)
        layer = int(c3.selectbox("Layer", list(range(cfg.n_layers)), key=LAYER))
    source, target = list(val.sources[index]), list(val.targets[index])
    tok = run.tokenizer
    feed = TEACHER
    if side == "decoder":
        seed_choice(FEED, [TEACHER, GREEDY], TEACHER)
        feed = st.radio("The decoder reads", [TEACHER, GREEDY], key=FEED, horizontal=True,
                        help="Training always uses teacher forcing: the decoder reads the true previous token. "
                             "Greedy decoding, as at test time, feeds its own previous output back.")
    key = (run.id, run.analysis_step, "seq2seq gates", tuple(source), side, feed)
    record, written = get_state().remember(key, lambda: record_seq2seq(
        inspected_model(run), source, target if feed == TEACHER else None, side, len(target)))
    st.code(f"source {tok.decode(source)}  →  target {tok.decode(target)}"
            + ("" if feed == TEACHER else f"  ·  greedy output {tok.decode(written)}"), language=None)
    prepared = prepare_ids(tok, list(record.ids))
    if side == "decoder":
        st.caption(f"Step t reads {'yₜ₋₁ of the true target' if feed == TEACHER else 'its own previous output'} "
                   "(<bos> at t = 0) and predicts yₜ; at t = 0 the previous state (dashes) is the encoder's final "
                   "state, not zeros." + (" With attention the cell also reads the context cₜ." if cfg.feeds_context
                                          else ""))
    elif side == "encoder backward":
        st.caption("The backward direction reads the source from its last token: step 0 is the last token.")
    seed_choice(VIEW, [STEP, SEQUENCE], STEP)
    view = st.segmented_control("View", [STEP, SEQUENCE], key=VIEW, label_visibility="collapsed") or STEP
    draw = render_step if view == STEP else render_sequence
    render_stepper(record.n_pos, lambda t: draw(run, record, prepared, layer, key, t))
    if view == SEQUENCE:
        render_saturation(run, record, layer, key)
