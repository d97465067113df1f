"""Seq2seq & attention: the bottleneck of a recurrent encoder–decoder, measured, and the alignment attention learns."""

import streamlit as st

from explorer.ui.seq2seq import alignment, experiment
from explorer.ui.widget_state import seed_choice

SECTION = "seq2seq.section"
BOTTLENECK, ALIGNMENT = "🍾 The bottleneck", "🧭 Alignment"

st.title("🔀 Seq2seq & attention")
st.caption("Before transformers: a recurrent encoder–decoder (Sutskever et al. 2014; Cho et al. 2014) and the "
           "attention that freed it from one context vector (Bahdanau et al. 2015; Luong et al. 2015).")
seed_choice(SECTION, [BOTTLENECK, ALIGNMENT], BOTTLENECK)
section = st.segmented_control("Section", [BOTTLENECK, ALIGNMENT], key=SECTION,
                               label_visibility="collapsed") or BOTTLENECK
if section == BOTTLENECK:
    experiment.render()
else:
    alignment.render()
