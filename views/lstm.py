"""Inside the recurrent cell: step through an LSTM/GRU/Elman RNN's gates, see the whole sequence, find units that
read the text, watch a classifier read, and see why gradients vanish."""

import streamlit as st

from explorer.analysis.gates import record_gates
from explorer.data.tasks import TaskSpec
from explorer.training.run import describe_model
from explorer.ui.links import apply_link, link_button
from explorer.ui.lstm.compare import render_compare, render_over_time
from explorer.ui.lstm.gradients import render_gradients
from explorer.ui.lstm.inputs import choose_input, input_summary, show_input_notices
from explorer.ui.lstm.player import STEP, render_stepper
from explorer.ui.lstm.runs import CELL_NAMES, inspected_model, offer_long_gap_trio
from explorer.ui.lstm.seq2seq_cells import render_seq2seq_cells
from explorer.ui.lstm.step import export_sequence, export_step, render_saturation, render_sequence, render_step
from explorer.ui.lstm.units import render_units
from explorer.ui.model_picker import offer_training, pick_subject
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice

SUBJECT = "lstm.subject"
LAYER = "lstm.layer"
SECTION = "lstm.section"
OFFER = "lstm.offer"
OFFER_TRIO = "lstm.offer_trio"
REFRESH = "lstm.refresh"
INPUT_OPEN = "lstm.input_open"
STEP_VIEW, SEQUENCE, UNITS, OVER_TIME, GRADIENTS, COMPARE = (
    "👣 Step through", "🗺️ Whole sequence", "🔎 Units as readers", "📈 Reading over time",
    "📉 Gradients & eigenvalues", "⚖️ Compare cells")

LINK_NAMES = {"section": SECTION, "layer": LAYER, "t": STEP}
apply_link("lstm", LINK_NAMES, subject_key=SUBJECT)
state = get_state()
st.title("🔁 Inside the recurrent cell", help="Step through an Elman RNN, GRU or LSTM one token at a time and "
         "watch its gates, cell state and hidden state, in the lecture's notation; find units that count brackets or "
         "follow sentiment; see why gradients vanish in an Elman RNN and not in an LSTM.")

top = st.columns([3, 1.1, 1.2, 1.3], vertical_alignment="bottom")
with top[0]:
    subject = pick_subject(SUBJECT, accept=lambda r: r.is_recurrent or r.is_recurrent_seq2seq, label="Recurrent model")
if subject is None or subject.run is None:
    offer_training(OFFER, "▶️ Train the lecture's LSTM on balanced brackets", TaskSpec(name="brackets", seq_len=20),
                   "Lecture lab LSTM", why="This page looks inside recurrent models (Elman RNN, GRU, LSTM), and the "
                   "session has none yet. One click trains the lecture's lab LSTM on balanced brackets; it learns "
                   "within a minute, and you can look inside while it trains — or open one trained already.",
                   assets=("lecture_lstm",))
    offer_long_gap_trio(OFFER_TRIO)
    st.stop()

run = subject.run
cfg = run.config
layer = 0
if cfg.n_layers > 1:
    seed_choice(LAYER, list(range(cfg.n_layers)), cfg.n_layers - 1)
    layer = int(top[1].selectbox(
        "Layer", list(range(cfg.n_layers)), key=LAYER,
        format_func=lambda k: f"layer {k}" + (" (top)" if k == cfg.n_layers - 1 else " (bottom)")))
training = run.trainer is not None and run.trainer.is_running
with top[3]:
    link_button("lstm", LINK_NAMES, run=run)
if training:
    top[2].button("🔄 Latest weights", key=REFRESH, width="stretch",
                  help="It is still training in the background: the views show the weights as of your last action; "
                       "any action (or this button) brings them up to date.")
status = "training" if training else run.status
st.caption(f"{describe_model(cfg)} · data: {run.data_name} · weights of step {run.analysis_step} ({status})")
if run.is_recurrent_seq2seq:  # an encoder–decoder: its two recurrent stacks, step by step
    render_seq2seq_cells(run)
    st.stop()
if cfg.bidirectional:
    st.caption("↔️ This classifier reads both ways; the views below show the forward direction (rnn.L), whose "
               "states the head reads beside the backward ones.")

with st.expander(f"✏️ Input: {input_summary(run)}", key=INPUT_OPEN):
    chosen = choose_input(run)
prepared = chosen.prepared
show_input_notices(prepared)
if len(prepared) == 0:
    st.info("The input is empty: type some text or pick a validation example.")
    st.stop()

SECTIONS = [STEP_VIEW, SEQUENCE, UNITS, OVER_TIME, GRADIENTS, COMPARE]
seed_choice(SECTION, SECTIONS, STEP_VIEW)
section = st.segmented_control("View", SECTIONS, key=SECTION, label_visibility="collapsed") or STEP_VIEW

memo_key = (run.id, run.analysis_step, "gates", prepared.ids)
record = state.remember(memo_key, lambda: record_gates(inspected_model(run), prepared.ids))
read = prepared.in_reading_order(cfg.go_backwards)  # the pieces in the order of the recorded steps
if cfg.go_backwards and section in (STEP_VIEW, SEQUENCE, UNITS):
    st.caption("↩️ Reads backwards, as the lab's Keras `go_backwards = TRUE`: step 0 is the last token, and the text "
               "runs from the end to the start.")

if section in (STEP_VIEW, SEQUENCE):
    draw = render_step if section == STEP_VIEW else render_sequence
    render_stepper(record.n_pos, lambda t: draw(run, record, read, layer, memo_key, t))
    if section == STEP_VIEW:
        export_step(run, record, layer, memo_key)
    else:
        export_sequence(run, record, read, layer, memo_key)
        render_saturation(run, record, layer, memo_key)
elif section == UNITS:
    render_units(run, record, read, layer)
elif section == OVER_TIME:
    render_over_time(run, chosen)
elif section == GRADIENTS:
    render_gradients(run, chosen, layer)
else:
    render_compare(run, chosen)

st.caption(f"{CELL_NAMES[cfg.cell]} · {record.n_pos} tokens · {record.d_hidden} units per layer")
