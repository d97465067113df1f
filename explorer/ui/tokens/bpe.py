"""Tokens page, section "BPE, live": merges learned from the corpus in order, and the text's token count falling."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.tokenization import Tokenized, bpe_by_hand, count_curve, merges_table, with_bpe
from explorer.data.bpe import TrainedBPE, train_bpe
from explorer.figures.tokenization import bpe_curve_figure, token_strip
from explorer.ui.figure import show_figure
from explorer.ui.state import get_state
from explorer.ui.tokens.corpus import THIS_TEXT, Corpus, corpus_text
from explorer.ui.widget_state import seed

VOCAB = "tokens.bpe.vocab"
MAX_SIZE = {THIS_TEXT: 600}  # a single text has few repeated pairs
DEFAULT_MAX = 4000


@st.cache_resource(max_entries=4, show_spinner="Learning BPE merges from the corpus…")
def _shared_bpe(key: str, text: str, size: int) -> TrainedBPE:
    return train_bpe([text], size)


def trained(corpus: Corpus, text: str) -> TrainedBPE:
    """One training at the largest size; every smaller vocabulary is a prefix of it."""
    size = MAX_SIZE.get(corpus.key, DEFAULT_MAX)
    source = corpus_text(corpus, text)
    if corpus.key == THIS_TEXT or corpus.run is not None:
        return get_state().remember(("tokens", "bpe", corpus.key, source if corpus.key == THIS_TEXT else "", size),
                                    lambda: train_bpe([source], size, min_frequency=1 if corpus.key == THIS_TEXT
                                                      else 2))
    return _shared_bpe(corpus.key, source, size)


def pick_vocab(bpe: TrainedBPE) -> int:
    low, high = bpe.alphabet_size, max(bpe.alphabet_size + 1, bpe.vocab_size)
    seed(VOCAB, min(high, low + 200), valid=lambda v: isinstance(v, int) and low <= v <= high)
    return int(st.slider("Vocabulary size (characters + merges)", low, high, key=VOCAB,
                         help="Drag to the left: fewer merges, more tokens. Every size is the same training stopped "
                              "earlier."))


def render_bpe(corpus: Corpus, text: str) -> Tokenized | None:
    """The live BPE section; returns its reading of the text (for the side-by-side view)."""
    try:
        bpe = trained(corpus, text)
    except ValueError as err:
        st.error(str(err))
        return None
    size = pick_vocab(bpe)
    n = bpe.n_merges(size)
    reading = with_bpe(bpe, size, text, f"BPE learned here ({size:,} tokens)")
    state = get_state()
    fig = state.remember(("tokens", "bpe strip", corpus.key, text, size),
                         lambda: token_strip(reading, f"The text in BPE with {size:,} tokens ({n:,} merges): "
                                                      f"T = {len(reading)}"))
    show_figure(fig, "tokens.bpe_strip", f"bpe_{size}")
    left, right = st.columns([3, 2])
    with left:
        curve = state.remember(("tokens", "bpe curve", corpus.key, text), lambda: count_curve(bpe, text))
        show_figure(bpe_curve_figure(curve, size, len(text), "Tokens in the text as the vocabulary grows"),
                    "tokens.bpe_curve", "bpe_token_count")
    with right:
        st.caption(f"The {n:,} merges of this vocabulary, in the order they were learned (most frequent pair first)")
        st.dataframe(merges_table(bpe, n), hide_index=True, width="stretch", height=320)
    same = bpe_by_hand(bpe, text, n) == reading.pieces
    st.caption(f"Learned from {bpe.corpus_chars:,} characters of {corpus.title}: {bpe.alphabet_size} characters "
               f"(and [UNK]) to start, then {len(bpe.merges):,} merges at most. Applying the merges by hand, in order "
               f"inside each word, gives {'exactly' if same else 'NOT'} the pieces Hugging Face's tokenizers "
               "encodes. Characters the corpus never had are [UNK].")
    return reading


def with_bpe_reading(corpus: Corpus, text: str) -> Tokenized | None:
    """The live BPE's reading at the slider's vocabulary size (for the side-by-side view), or None."""
    try:
        bpe = trained(corpus, text)
    except ValueError:
        return None
    default = min(bpe.vocab_size, bpe.alphabet_size + 200)
    size = st.session_state.get(VOCAB, get_state().widgets.get(VOCAB, default))
    size = max(bpe.alphabet_size, min(int(size), bpe.vocab_size))
    return with_bpe(bpe, size, text, f"BPE learned here ({size:,} tokens)")
