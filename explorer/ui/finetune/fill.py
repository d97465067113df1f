"""Fine-tuning page: fill in a [MASK] with a masked-LM model pre-trained here, or with a hub checkpoint that has a
masked-LM head (online); a one-click start when the session has no masked-LM run."""

from __future__ import annotations

import streamlit as st

from explorer.models.pretrained import MINILM
from explorer.ui.fill_in import render_fill_in
from explorer.ui.finetune.pretrain import is_masked_lm, start_pretraining
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.state import PRETRAINED_PREFIX, get_state
from explorer.ui.widget_state import seed_choice

MODEL = "finetune.fill.model"


def render_fill() -> None:
    state = get_state()
    runs = [r for r in state.runs.values() if is_masked_lm(r)]
    hub = [n for n in state.pretrained if n != MINILM]
    options = [r.id for r in runs] + [PRETRAINED_PREFIX + n for n in hub]
    if not runs:
        st.info("No masked-LM model in this session yet: pre-train one (a minute or two gives it something to say), "
                f"or open a masked-LM checkpoint such as bert-base-uncased on the Attention page (online). {MINILM} "
                "cannot fill in blanks: it ships without its masked-LM head.")
        start_pretraining("finetune.fill", "mlm")
    if not options:
        return
    labels = {r.id: f"🧪 {r.name} · step {r.step}" for r in runs} | {PRETRAINED_PREFIX + n: f"📦 {n}" for n in hub}
    seed_choice(MODEL, options)
    choice = st.selectbox("Masked language model", options, key=MODEL, format_func=labels.get)
    if choice.startswith(PRETRAINED_PREFIX):
        model, error = get_pretrained(choice[len(PRETRAINED_PREFIX):])
        if model is None:
            st.error(error)
            return
        render_fill_in("finetune.fill", pretrained=model)
    else:
        render_fill_in("finetune.fill", run=state.runs[choice])
