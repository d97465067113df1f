"""Circuits page: what fine-tuning changed in each head's QK circuit (where it looks) and OV circuit (what it moves),
and for LoRA the rank of its updates."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.finetune_diff import circuit_change
from explorer.figures.finetune import head_change_grid
from explorer.ui.circuits.subject import CircuitModel
from explorer.ui.figure import show_figure
from explorer.ui.finetune_views import models, render_lora_spectra
from explorer.ui.state import get_state


def render_finetune(subject: CircuitModel) -> None:
    run = subject.finetuned
    if run is None:
        st.info("Pick a fine-tuned run (🎯) in the model box to see how fine-tuning changed its circuits. Fine-tune "
                "MiniLM on the Train page (🎯 Fine-tune a pretrained encoder) or on the 🎯 Fine-tuning page.")
        return
    pair = models(run)
    if pair is None:
        return
    qk, ov = get_state().remember((run.id, run.analysis_step, "circuit change"), lambda: circuit_change(*pair))
    left, right = st.columns(2)
    with left:
        show_figure(head_change_grid(qk, "QK circuits: ‖ΔW_QK‖ / ‖W_QK‖"), "circuits.finetune.qk",
                    f"{run.name}_qk_change")
    with right:
        show_figure(head_change_grid(ov, "OV circuits: ‖ΔW_OV‖ / ‖W_OV‖"), "circuits.finetune.ov",
                    f"{run.name}_ov_change")
    st.caption("Relative change of each head's W_QK = W_Q W_Kᵀ (where it looks) and W_OV = W_V W_O (what it writes), "
               "Frobenius norms, from the factors (biases aside). A LoRA run on W_Q and W_V changes QK through W_Q "
               "and OV through W_V only; BitFit changes neither (only biases); a probe or a head-only run, nothing.")
    st.subheader("LoRA's updates")
    render_lora_spectra(run, "circuits.finetune")
