"""Circuits: each head as a QK circuit (where it looks) and an OV circuit (what it moves), heads composing across
layers, and a lab in which a 2-layer attention-only model grows induction heads (Elhage et al. 2021)."""

import streamlit as st

from explorer.training.induction_lab import is_lab_run
from explorer.ui.circuits.finetune import render_finetune
from explorer.ui.circuits.head import HEAD as HEAD_KEY
from explorer.ui.circuits.head import LAYER, render_head
from explorer.ui.circuits.lab import render_lab
from explorer.ui.circuits.subject import MODEL, choose_model
from explorer.ui.circuits.whole_model import render_map
from explorer.ui.links import apply_link, link_button
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice

SECTION = "circuits.section"
HEAD, MAP, LAB, FINETUNE = "🔬 One head", "🗺️ Whole model", "🧲 Induction-head lab", "🎯 Fine-tuning"

LINK_NAMES = {"section": SECTION, "layer": LAYER, "head": HEAD_KEY}
apply_link("circuits", LINK_NAMES, subject_key=MODEL)
st.title("🔌 QK/OV circuits")
st.caption("A head reads the residual stream twice. Its **QK circuit** W_QK = W_Q W_Kᵀ scores every query against "
           "every key: where to look. Its **OV circuit** W_OV = W_V W_O says what the attended position writes back: "
           "what to move. Heads in later layers read what earlier heads wrote, through their queries, keys or values "
           "(composition). All of it is computed from the weights, kept as thin factors.")

runs = get_state().runs.values()  # first visit: one head when there is a transformer of one's own, else the lab
seed_choice(SECTION, [HEAD, MAP, LAB, FINETUNE],
            HEAD if any(r.is_transformer and not is_lab_run(r) for r in runs) else LAB)
section = st.segmented_control("Section", [HEAD, MAP, LAB, FINETUNE], key=SECTION, label_visibility="collapsed") or LAB

if section == LAB:
    render_lab()
    st.stop()

subject = choose_model()
if subject is None:
    st.info("No transformer to read yet: start the induction-head lab above, or train a transformer on the Train "
            "page.")
    st.stop()
top = st.columns([5, 1.3], vertical_alignment="center")
top[0].caption(subject.description)
with top[1]:
    link_button("circuits", LINK_NAMES, run=subject.run, pretrained=subject.pretrained)
if section == HEAD:
    render_head(subject)
elif section == FINETUNE:
    render_finetune(subject)
else:
    render_map(subject)
