"""Attention page: what fine-tuning changed in a fine-tuned run's heads, on held-out sentences and on the page's
input (which heads moved, as a layer × head grid; a clicked head before and after)."""

from __future__ import annotations

import streamlit as st

from explorer.ui.finetune_views import held_out_texts, render_head_changes
from explorer.ui.model_picker import Subject
from explorer.ui.widget_state import seed_choice

ON = "attention.finetune.on"
HELD_OUT, THIS_INPUT = "held-out sentences", "the input above"


def render_finetune(subject: Subject, text: str) -> None:
    run = subject.finetuned
    if run is None:
        st.info("Pick a fine-tuned run (🎯) in the model box above to see which of its heads fine-tuning moved. "
                "Fine-tune MiniLM on the Train page (🎯 Fine-tune a pretrained encoder) or on the 🎯 Fine-tuning page.")
        return
    seed_choice(ON, [HELD_OUT, THIS_INPUT])
    on = st.radio("Measured on", [HELD_OUT, THIS_INPUT], key=ON, horizontal=True)
    texts = held_out_texts(run, 32) if on == HELD_OUT else [text]
    what = f"{len(texts)} held-out sentences" if on == HELD_OUT else "this input"
    render_head_changes(run, texts, "attention.finetune", what)
