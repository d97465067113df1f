"""Embeddings: token, word and contextual embeddings projected with PCA, UMAP or t-SNE."""

import streamlit as st

from explorer.models.pretrained import MINILM
from explorer.ui.embeddings.context import render_context_section, render_sentences_section
from explorer.ui.embeddings.trained import render_trained_section
from explorer.ui.embeddings.words import render_words_section
from explorer.ui.links import apply_link, link_button
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice

SECTION = "emb.section"
SECTIONS = {
    "trained": "🧪 Your model's embeddings",
    "words": "📖 Word vectors",
    "context": "🏦 Words in context",
    "sentences": "🎬 Sentence embeddings",
}
ABOUT = {
    "trained": "The embedding table W_E of a model you train here (one learned vector per token) and its hidden "
               "states, at every kept training step. Scrub or press ▶ to watch them organise as the loss falls.",
    "words": "Static word vectors, one per word whatever the sentence: GloVe (learned from co-occurrence counts) and "
             "MiniLM's input embeddings. Find neighbours, solve analogies, project word lists.",
    "context": "A transformer gives a word a different vector in every sentence. Follow one word through MiniLM's "
               "layers and watch its senses separate.",
    "sentences": "Average MiniLM's last-layer vectors over a sentence and you get a sentence embedding. Do "
                 "movie-review sentences fall apart by sentiment, though the model never saw these labels?",
}

apply_link("embeddings", {"section": SECTION})
state = get_state()
st.title("🗺️ Embeddings")
st.markdown("A model reads tokens as vectors: **W**: tokens → ℝⁿ. Similar tokens end up with similar vectors — "
            "if the task rewards it. Project them to 2-D or 3-D and look.")
seed_choice(SECTION, list(SECTIONS), "context" if state.current_pretrained == MINILM else "trained")
controls = st.columns([5, 1.3], vertical_alignment="center")
section = controls[0].segmented_control("Section", list(SECTIONS), format_func=SECTIONS.get, key=SECTION,
                                        label_visibility="collapsed") or "trained"
with controls[1]:
    link_button("embeddings", {"section": SECTION}, run=state.current_run, pretrained=state.current_pretrained)
st.caption(ABOUT[section])
{"trained": render_trained_section, "words": render_words_section, "context": render_context_section,
 "sentences": render_sentences_section}[section]()
