"""Attention page: choosing the model (session transformers and pretrained checkpoints) and opening new ones."""

from __future__ import annotations

import streamlit as st

from explorer.data.names import plain_markdown
from explorer.data.tasks import TaskSpec
from explorer.models.pretrained import PRETRAINED_MODELS, SUPPORTED, packaged_name
from explorer.ui.attention.inputs import is_attention_run
from explorer.ui.model_picker import Subject, offer_training, offered_pretrained, pick_subject
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.state import PRETRAINED_PREFIX, get_state
from explorer.ui.widget_state import seed, set_value

MODEL = "attention.model"
HUB_ID = "attention.hub_id"
HUB_OPEN = "attention.hub_open"
TRAIN_GPT = "attention.train_gpt"


def choose_model() -> Subject | None:
    """The model the page inspects; pretrained models shown here join the sidebar's list."""
    return pick_subject(MODEL, is_attention_run, offered_pretrained(), label="Model")


def render_opener() -> None:
    """Optional and hub models: what is installed, how to add the rest, and a box for any hub id."""
    state = get_state()
    with st.expander("📦 More pretrained models"):
        for spec in PRETRAINED_MODELS.values():
            if spec.installed():
                st.markdown(f"✅ **{spec.title}** — {spec.note}.")
            else:
                st.markdown(f"➕ **{spec.title}** — optional, not installed. Install it with `{spec.install}` and "
                            f"restart the app ({spec.note}).")
        if not state.limits.hub_downloads:
            st.info("Hugging Face downloads are switched off on this class server.")
            return
        st.markdown(f"**Any Hugging Face model** (online only): {SUPPORTED}. Downloaded once into the cache.")
        c1, c2 = st.columns([4, 1])
        seed(HUB_ID, "")
        hub_id = c1.text_input("Hugging Face model id", key=HUB_ID, placeholder="gpt2, bert-base-uncased, "
                               "distilbert-base-uncased, roberta-base…", label_visibility="collapsed")
        if c2.button("Open", key=HUB_OPEN, width="stretch"):
            name = packaged_name(hub_id) or hub_id.strip()  # "SmolLM2-135M" -> "SmolLM2-135M-Instruct"
            if not name:
                st.warning("Type a model id first, e.g. gpt2.")
                return
            model, error = get_pretrained(name)
            if model is None:
                st.error(plain_markdown(error))
                return
            state.open_pretrained(name)
            set_value(MODEL, PRETRAINED_PREFIX + name)  # this page shows it; the sidebar's model stays
            st.rerun()


def offer_small_run() -> None:
    """When the session has no transformer yet: one click trains a tiny GPT to compare with pretrained heads."""
    if not any(is_attention_run(r) for r in get_state().runs.values()):
        offer_training(TRAIN_GPT, "Train a tiny GPT (2 layers × 4 heads) on the reverse task",
                       TaskSpec(name="reverse", seq_len=8), "Tiny GPT 2 layers × 4 heads",
                       "No transformer trained in this session yet: its heads start random and specialise as it "
                       "learns. Train one and come back to compare, or open one trained already.",
                       assets=("gpt_reverse",))
