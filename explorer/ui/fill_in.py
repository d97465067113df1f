"""Fill in a [MASK]: the top tokens of a masked language model (one trained here, or a hub checkpoint) for a text
the user types; shared by the Train page (a masked-LM run's outputs) and the Fine-tuning page."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.fill_mask import fill_mask_here, fill_mask_pretrained
from explorer.figures.finetune import fill_mask_figure
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

DEFAULT_TEXT = "the film was [MASK] , and the actors were [MASK] ."
TOP_K = 8


def render_fill_in(prefix: str, run: Run | None = None, pretrained: PretrainedModel | None = None) -> None:
    """A text box and, for each [MASK] in it, the model's most likely tokens with their probabilities."""
    key = f"{prefix}.fill_text"
    seed(key, DEFAULT_TEXT)
    text = st.text_input("A sentence with [MASK] where a word is missing", key=key)
    name = run.name if run is not None else pretrained.config.name
    step = run.analysis_step if run is not None else 0
    try:
        if run is not None:
            table = get_state().remember((run.id, step, "fill mask", text), lambda: fill_mask_here(
                frozen_model(run), run.tokenizer, text, TOP_K))
        else:
            table = fill_mask_pretrained(pretrained, text, TOP_K)
    except ValueError as err:
        st.warning(str(err))
        return
    if run is not None:
        _, pieces, unknown = run.tokenizer.encode_marked(text.replace("[MASK]", " "))
        missing = sorted({p for p, u in zip(pieces, unknown) if u})[:10]
        if missing:
            st.caption("Not in this model's vocabulary (read as <unk>): " + ", ".join(repr(m) for m in missing))
    show_figure(fill_mask_figure(table, f"{name}: the likeliest tokens for each [MASK]"), f"{prefix}.fill",
                f"{name}_fill_mask")
    st.caption("p(token) = softmax of the model's logits at the [MASK] position, over its whole vocabulary (special "
               "tokens left out). The model reads the words on both sides of the blank.")
