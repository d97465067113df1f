"""Fine-tuning: what adapting a pretrained model changes, filling in a [MASK], pre-training here then fine-tuning."""

import streamlit as st

from explorer.ui.finetune.changes import render_changes
from explorer.ui.finetune.fill import render_fill
from explorer.ui.finetune.pretrain import render_pretrain
from explorer.ui.widget_state import seed_choice

SECTION = "finetune.section"
CHANGES, FILL, PRETRAIN = "🔍 What fine-tuning changed", "🧩 Fill in [MASK]", "🏗️ Pre-train, then fine-tune"

st.title("🎯 Pre-train, then fine-tune")
st.caption("Pre-train once on raw text, then adapt cheaply to a task: BitFit trains only the biases, LoRA adds "
           "W + (α/r)·B·A to a few matrices (Hu et al. 2021), full fine-tuning moves everything. See what each one "
           "changed, and measure what pre-training is worth.")
seed_choice(SECTION, [CHANGES, FILL, PRETRAIN])
section = st.segmented_control("Section", [CHANGES, FILL, PRETRAIN], key=SECTION, required=True,
                               label_visibility="collapsed") or CHANGES
if section == CHANGES:
    render_changes()
elif section == FILL:
    render_fill()
else:
    render_pretrain()
