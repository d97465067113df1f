"""Forward pass: one input through a transformer, step by step, from its tokens to the next-token probabilities."""

import streamlit as st

from explorer.ui.forward.controls import pick_where
from explorer.ui.forward.decoding import render_decoding
from explorer.ui.forward.head import render_head
from explorer.ui.forward.lens import render_lens
from explorer.ui.forward.neurons import render_neurons
from explorer.ui.forward.next_token import render_next_token
from explorer.ui.forward.norm import render_norm
from explorer.ui.forward.subject import choose_input, choose_model, describe, residuals
from explorer.ui.forward.walk import render_tokens, render_walk
from explorer.ui.widget_state import seed_choice

SECTION = "forward.section"
WALK, HEAD, NORM, FFN, LENS, NEXT, DECODE = ("🗺️ The walk", "🧠 One head", "➕ Add & Norm", "🔥 Feed-forward",
                                             "🔭 Logit lens", "🎲 Next token", "🧭 Decoding")
SECTIONS = [WALK, HEAD, NORM, FFN, LENS, NEXT, DECODE]
TRANSFORMER_ONLY = {WALK, HEAD, NORM, FFN, LENS}

st.title("🧮 One forward pass, step by step")
st.caption("Type a sentence and follow it through the model: tokens, one head's Q, K, V and softmax with every "
           "shape, Add & Norm, the feed-forward neurons, what each layer would predict, and the next-token "
           "probabilities with temperature, top-k, top-p and beam search. Every figure exports for a slide.")

subject = choose_model()
walk = choose_input(subject) if subject is not None else None
if walk is None:
    st.stop()
st.caption(describe(walk))
for notice in walk.notices:
    st.info(notice)

seed_choice(SECTION, SECTIONS, WALK)
section = st.segmented_control("Step", SECTIONS, key=SECTION, required=True, label_visibility="collapsed")
if section in TRANSFORMER_ONLY and not walk.is_transformer:
    st.info("A recurrent model has no attention heads, LayerNorm or logit lens: see its gates on the 🔁 Inside the "
            "RNN page. Its next-token probabilities and decoding are here, under 🎲 and 🧭.")
    st.stop()

if section in (WALK, HEAD, NORM, FFN):
    shape = residuals(walk).anatomy
    where = pick_where(shape, with_head=section in (WALK, HEAD))
    render_tokens(walk, where.stack)
    {WALK: render_walk, HEAD: render_head, NORM: render_norm, FFN: render_neurons}[section](walk, where)
elif section == LENS:
    render_tokens(walk)
    render_lens(walk)
elif section == NEXT:
    render_tokens(walk)
    render_next_token(walk)
else:
    render_decoding(walk)
