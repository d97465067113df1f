"""Tokens: how a text becomes token ids — the same text through several tokenizers, a BPE learned live, and the
id as a row of the embedding table."""

import streamlit as st

from explorer.analysis.tokenization import MAX_TEXT_CHARS
from explorer.ui.tokens.bpe import render_bpe, with_bpe_reading
from explorer.ui.tokens.compare import render_compare
from explorer.ui.tokens.corpus import choose_corpus
from explorer.ui.tokens.embedding import render_embedding
from explorer.ui.widget_state import seed, seed_choice

TEXT = "tokens.text"
SECTION = "tokens.section"
EXAMPLE = "Tokenizers split unbelievably long words into pieces; an emoji 🤖 may be unknown."
SIDE_BY_SIDE, BPE, ONE_HOT = "🔤 Side by side", "🧩 BPE, live", "🔢 One-hot × W_E"

st.title("🔤 From text to tokens")
st.caption("A model never sees characters: the text is split into pieces, each piece becomes an integer id, and "
           "the model adds its own special tokens. Compare the app's character and word tokenizers with MiniLM's "
           "WordPiece and SmolLM2's BPE, learn a BPE vocabulary live, and see the id pick a row of W_E.")

seed(TEXT, EXAMPLE)
text = st.text_area("Text", key=TEXT, height=80)
if not text.strip():
    st.warning("The text is empty: showing the example instead.")
    text = EXAMPLE
if len(text) > MAX_TEXT_CHARS:
    st.info(f"The text has {len(text):,} characters; the first {MAX_TEXT_CHARS:,} are tokenized here.")
    text = text[:MAX_TEXT_CHARS]

SECTIONS = [SIDE_BY_SIDE, BPE, ONE_HOT]
seed_choice(SECTION, SECTIONS, SIDE_BY_SIDE)
section = st.segmented_control("Show", SECTIONS, key=SECTION, required=True, label_visibility="collapsed")
if section == ONE_HOT:
    render_embedding(text)
    st.stop()
corpus = choose_corpus()
if section == BPE:
    render_bpe(corpus, text)
else:
    render_compare(corpus, text, with_bpe_reading(corpus, text))
