"""Tokens page, section "Side by side": the same text through every tokenizer the app has."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.tokenization import (
    Tokenized,
    lengths_frame,
    unknown_pieces,
    with_app_tokenizer,
    with_pretrained_tokenizer,
)
from explorer.figures.tokenization import lengths_figure, token_strip
from explorer.models.pretrained import MINILM, PRETRAINED_MODELS, SMOLLM2, PretrainedError
from explorer.models.pretrained.tokenizer_loading import load_tokenizer
from explorer.ui.figure import show_figure
from explorer.ui.plain_text import md_escape
from explorer.ui.state import get_state
from explorer.ui.tokens.corpus import Corpus, app_tokenizers

TITLES = {"char": "Characters (the app's char tokenizer)", "word": "Words (the app's word tokenizer)",
          MINILM: "MiniLM's WordPiece (BERT's, 30,522 pieces)", SMOLLM2: "SmolLM2's byte-level BPE (49,152 pieces)"}


@st.cache_resource(max_entries=2, show_spinner="Loading the tokenizer…")
def packaged_tokenizer(name: str):
    return load_tokenizer(name)


def readings(corpus: Corpus, text: str, extra: Tokenized | None = None) -> tuple[list[Tokenized], list[str]]:
    """Every tokenizer's reading of ``text`` (the live BPE's as ``extra``), and notes on those unavailable."""
    out, notes = [], []
    for mode, tokenizer in app_tokenizers(corpus, text).items():
        out.append(with_app_tokenizer(tokenizer, text, TITLES[mode]))
    for name in (MINILM, SMOLLM2):
        spec = PRETRAINED_MODELS[name]
        if not spec.installed():
            notes.append(f"{TITLES[name]}: not installed (`{spec.install}`).")
            continue
        try:
            out.append(with_pretrained_tokenizer(packaged_tokenizer(name), text, TITLES[name]))
        except (PretrainedError, OSError, ValueError) as err:
            notes.append(f"{TITLES[name]}: {err}")
    if extra is not None:
        out.append(extra)
    return out, notes


def render_compare(corpus: Corpus, text: str, bpe_reading: Tokenized | None) -> None:
    state = get_state()
    found, notes = state.remember(("tokens", "readings", corpus.key, text, bpe_reading and bpe_reading.vocab_size),
                                  lambda: readings(corpus, text, bpe_reading))
    frame = lengths_frame(found)
    show_figure(lengths_figure(frame), "tokens.lengths", "token_counts")
    for note in notes:
        st.caption(note)
    for reading in found:
        fig = state.remember(("tokens", "strip", corpus.key, text, reading.name, reading.vocab_size),
                             lambda reading=reading: token_strip(reading, f"{reading.name}: T = {len(reading)}"))
        show_figure(fig, f"tokens.strip.{reading.name[:12]}", f"tokens_{reading.name}")
        unknown = unknown_pieces(reading)
        specials = ", ".join(f"{md_escape(k)} {v}" for k, v in list(reading.specials.items())[:8])
        line = f"Vocabulary {reading.vocab_size:,} · specials it knows: {specials}"
        if unknown:
            line += " · unknown: " + ", ".join(md_escape(repr(u)) for u in unknown[:8])
        st.caption(line)
        with st.expander(f"{reading.name}: every piece with its id"):
            st.dataframe(reading.table(), hide_index=True, width="stretch", height=240)
    st.caption("Orange cells are special tokens the tokenizer adds for its model ([CLS] … [SEP] for BERT-style "
               "encoders), red ones unknown pieces (read as <unk> or [UNK]). Byte-level BPE (SmolLM2, GPT-2) never "
               "has unknowns: any character is a few bytes, each a token. \"##\" marks a WordPiece that continues a "
               "word; \"Ġ\" and \"▁\" a piece that starts with a space.")
