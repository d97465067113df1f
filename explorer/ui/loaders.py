"""Cached loaders for read-only data shared by every session (generated tasks, corpora, uploads).

``TaskData`` is never modified after it is built (trainers format their own tensors from it), so one
copy per distinct request serves the whole server. The caches are bounded in entries and time: a generated task is
at most MAX_TASK_TOKENS tokens (tens of MB), a corpus task a few tens of MB, uploads in a cache bounded in bytes.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from explorer.data.corpora import load_corpus
from explorer.data.dataset import TaskData
from explorer.data.glove import load_glove
from explorer.data.hub_datasets import load_hf_dataset
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.uploads import read_csv_upload, read_text_upload
from explorer.ui.shared_cache import CACHES, shared


@st.cache_resource(max_entries=8, ttl=3600, show_spinner="Generating the task…")
def generated_task(spec: TaskSpec) -> TaskData:
    return make_task(spec)


@st.cache_resource(max_entries=4, ttl=3600, show_spinner="Reading the corpus…")
def corpus_task(name: str, mode: str | None, max_vocab: int, max_len: int, max_chars: int | None,
                as_text: bool = False) -> TaskData:
    return load_corpus(name, mode=mode, max_vocab=max_vocab, max_len=max_len, max_chars=max_chars, as_text=as_text)


@st.cache_resource(max_entries=4, ttl=3600, show_spinner="Loading the dataset…")
def hub_task(name: str, mode: str | None, max_vocab: int, max_len: int, max_examples: int | None) -> TaskData:
    return load_hf_dataset(name, mode=mode, max_vocab=max_vocab, max_len=max_len, max_examples=max_examples)


UPLOADS_MAX_MB = 96  # a 10 MB text read by characters is a task of 80 MB (int64 ids): one of those, or many small


def _upload_key(filename: str, data: bytes, *settings: str | int | None) -> tuple:
    return filename, hashlib.sha256(data).hexdigest(), *settings


@shared(max_mb=UPLOADS_MAX_MB, key=_upload_key)
def _read_upload(filename: str, data: bytes, mode: str, text_column: str | None, label_column: str | None,
                 max_vocab: int) -> TaskData:
    if filename.lower().endswith(".csv"):
        return read_csv_upload(filename, data, text_column=text_column, label_column=label_column, mode=mode,
                               max_vocab=max_vocab)
    return read_text_upload(filename, data, mode=mode, max_vocab=max_vocab)


UPLOADS = CACHES[_read_upload.__qualname__]


def upload_task(filename: str, data: bytes, mode: str, text_column: str | None, label_column: str | None,
                max_vocab: int) -> TaskData:
    """The task an upload makes, kept for the server in a cache bounded in bytes (UPLOADS_MAX_MB, 30 minutes after
    its last use): counted in entries, eight students' 10 MB texts would have kept 640 MB."""
    with st.spinner("Reading the upload…"):  # shown only when reading takes more than half a second
        return _read_upload(filename, data, mode, text_column, label_column, max_vocab)


@st.cache_resource(max_entries=1, show_spinner="Loading the 400,000 GloVe vectors…")
def glove_table() -> tuple[list[str], object]:
    """GloVe 6B-50d's words and vectors ``[400000, 50]`` (raises GloveNotCached before the download)."""
    return load_glove()
