"""Forward pass page, section "The walk": the whole pass as one diagram with the model's shapes, and the input's
tokens with their ids (the Tokens page shows how they were made)."""

from __future__ import annotations

import streamlit as st

from explorer.figures.forward.walk import walk_figure
from explorer.figures.tokenization import token_chips_html
from explorer.ui.figure import show_figure
from explorer.ui.forward.controls import Where
from explorer.ui.forward.head import steps_for
from explorer.ui.forward.subject import Walk, layer_record
from explorer.ui.state import get_state


def render_tokens(walk: Walk, stack: str = "blocks") -> None:
    tokens = walk.stack_tokens(stack)
    ids = (walk.decoder_tokens if stack == "blocks" and walk.decoder_tokens is not None else walk.tokens)[0].tolist()
    st.html(token_chips_html(tokens, ids))
    st.caption(f"T = {len(tokens)} tokens. How a text becomes tokens and ids, and how an id picks a row of W_E: "
               "the 🔤 Tokens page.")


def render_walk(walk: Walk, where: Where) -> None:
    record = layer_record(walk, where.layer, where.stack)
    steps = steps_for(walk, where)
    shape = record.anatomy
    fig = get_state().remember((*walk.key, "forward", "walk figure", where), lambda: walk_figure(
        shape, steps.n_tokens, where.layer, where.head, steps.kv_head, steps.scale,
        f"One forward pass of {walk.name}, with shapes (layer {where.layer}, head {where.head})"))
    show_figure(fig, "forward.walk", f"{walk.name}_forward_pass")
    st.caption("Every box is a real tensor of this model on your input (the numbers are its shapes); the sections "
               "above open each step: 🧠 one head's arithmetic, ➕ Add & Norm, 🔥 the feed-forward layer, 🔭 the "
               "logit lens, 🎲 the next-token distribution, 🧭 decoding.")
