"""The vocabulary size of word-level tokenizers, as a field of the Train page's data picker."""

from __future__ import annotations

import streamlit as st

from explorer.ui.widget_state import seed

DEFAULT_VOCAB = 10_000
MIN_VOCAB, MAX_VOCAB = 100, 60_000
KEY = "data.vocab_size"


def vocab_size(mode: str, where=None) -> int:
    """The number of tokens a word tokenizer keeps (the most frequent words, specials included); the rest are read
    as <unk>. Character tokenizers keep every character: the default is returned without a field."""
    if mode != "word":
        return DEFAULT_VOCAB
    where = where or st
    seed(KEY, DEFAULT_VOCAB)
    return int(where.number_input(
        "Vocabulary size (words)", MIN_VOCAB, MAX_VOCAB, step=1000, key=KEY,
        help="The most frequent words of the training text are kept; rarer ones become <unk>. Small vocabularies "
             "train faster and overfit less; large ones know more words."))
