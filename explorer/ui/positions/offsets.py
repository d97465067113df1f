"""Section 5a of the Positions page: attention by relative offset, and the heads that look a fixed distance away."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.positions.offsets import offset_profiles, positional_heads, self_attention_patterns
from explorer.figures.positions.experiment import offset_heatmap, offset_profile_figure
from explorer.ui.figure import show_figure
from explorer.ui.positions.common import (
    MINILM,
    SMOLLM2,
    choose,
    installed_pretrained,
    is_transformer,
    model_inputs,
    offer_gpt,
)
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

MODEL = "positions.offsets.model"
TEXT = "positions.offsets.text"
LAYER = "positions.offsets.layer"
MAX_OFFSET = "positions.offsets.max"
TRAIN = "positions.offsets.train"
EXAMPLE_TEXT = ("The river rose after three days of rain, and the village by the old bridge watched the water climb "
                "the stone steps one by one until it reached the market square.")


def render() -> None:
    st.markdown("For every head: the mean attention a query gives to the key **δ = key position − query position** "
                "away (δ = −1 is the previous token), averaged over every query that has such a key. A head that "
                "puts most of its attention at one δ, whatever the tokens, reads position rather than content: a "
                "**positional head**.")
    chosen = choose(MODEL, is_transformer, installed_pretrained(MINILM, SMOLLM2), "Model")
    if chosen is None:
        offer_gpt(TRAIN, "learned", "No transformer in this session yet. Train one and look for its positional "
                                    "heads here (a tiny GPT on reverse usually grows one within a few hundred steps).")
        return
    found = model_inputs(chosen, TEXT, EXAMPLE_TEXT, max_tokens=128)
    if found is None:
        return
    inputs, input_key = found
    seed(MAX_OFFSET, 12)
    max_offset = st.slider("Largest |offset| shown", 2, 64, key=MAX_OFFSET)
    state = get_state()

    def compute():
        patterns = self_attention_patterns(chosen.model, *inputs.args)
        profiles = offset_profiles(patterns, inputs.masks, max_offset)
        return profiles, positional_heads(profiles)

    profiles, heads = state.remember(("positions.offsets", *input_key, max_offset), compute)
    where = (f"{inputs.n_examples} validation examples of {chosen.run.data_name}" if chosen.run is not None
             else "the text above")
    st.caption(f"Averaged over {where}.")
    n_heads = len(heads)
    show_figure(offset_heatmap(profiles), "positions.offsets.heatmap", "attention_by_offset_all_heads",
                height=max(420, 14 * n_heads + 160))  # one readable row per head (MiniLM has 72)
    left, right = st.columns([3, 2])
    with left:
        layers = list(dict.fromkeys(profiles["layer"]))
        seed_choice(f"{LAYER}.{chosen.label}", layers)
        layer = st.selectbox("Layer", layers, key=f"{LAYER}.{chosen.label}")
        show_figure(offset_profile_figure(profiles, layer), "positions.offsets.layer", f"offsets_{layer}")
    with right:
        n_positional = int(heads["positional"].sum())
        st.metric("Positional heads", f"{n_positional} of {len(heads)}",
                  help="Mean attention of at least 50 % at one offset.")
        st.dataframe(heads.head(12).round(3), hide_index=True, width="stretch")
    st.caption("A causal layer never looks ahead, so its offsets stop at 0; an encoder's go both ways. Attention to "
               "the first token (a common 'resting place' for heads with nothing to do) is not an offset: it spreads "
               "over many δ.")
