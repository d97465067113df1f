"""Positions: what sinusoidal, learned and rotary encodings look like, why they work, and what they change."""

import streamlit as st

from explorer.ui.links import apply_link, link_button
from explorer.ui.positions import experiment, learned, offsets, rotary, sinusoid, tokens
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice

SECTION = "positions.section"
FIRST = "1 · Sinusoidal"
SECTIONS = {
    "1 · Sinusoidal": sinusoid.render,
    "2 · Adding to tokens": tokens.render,
    "3 · Learned": learned.render,
    "4 · Rotary": rotary.render,
    "5 · What positions do": None,
}

apply_link("positions", {"section": SECTION})
st.title("📍 Positional encodings")
st.caption("Attention alone cannot tell a sequence from any shuffle of it: every position is treated alike. "
           "What must a position encoding give it — and do the sinusoids, a learned table and rotary give it?")

seed_choice(SECTION, list(SECTIONS), FIRST)
controls = st.columns([5, 1.3], vertical_alignment="center")
section = controls[0].segmented_control("Section", list(SECTIONS), key=SECTION, label_visibility="collapsed")
with controls[1]:
    current = get_state()
    link_button("positions", {"section": SECTION}, run=current.current_run, pretrained=current.current_pretrained)
if section is None:  # clicking the selected segment again clears it: keep showing the first
    section = FIRST

if section == "5 · What positions do":
    st.subheader("Heads that read position")
    offsets.render()
    st.divider()
    st.subheader("Train with and without positions")
    experiment.render()
else:
    SECTIONS[section]()
