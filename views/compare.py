"""Compare runs: overlay their curves, tabulate results, reproduce the lecture's sentiment comparison."""

import streamlit as st

from explorer.analysis.runs_table import results_table
from explorer.data.corpora import CORPORA, CorpusNotCached, corpus_status, fetch_corpus
from explorer.data.downloads import DownloadError
from explorer.figures.training import training_curves
from explorer.training.lecture import LECTURE_IMDB_ACCURACY, VOCAB, comparison_configs
from explorer.training.run import new_run
from explorer.ui import loaders
from explorer.ui.compare.glove import render_glove_comparison
from explorer.ui.compare.ngram import render_ngram
from explorer.ui.figure import show_figure
from explorer.ui.live import TICK_S
from explorer.ui.state import get_state

RUNS = "compare.runs"
METRIC = "compare.metric"
LECTURE_DATA = "compare.lecture_data"
LECTURE_START = "compare.lecture_start"

state = get_state()
st.title("⚖️ Compare runs")

with st.expander("🎓 The lecture's comparison: LSTM vs a small transformer on movie-review sentiment",
                 expanded=not state.runs):
    st.markdown(
        "The lecture shows IMDb test accuracy: **LSTM 81.99 %**, **simple transformer 87.49 %**, "
        "**RoBERTa 94.67 %** (a pretrained model). Train an LSTM and a small transformer classifier from scratch "
        "on the same reviews, with the same batch size and number of steps (each with the optimizer settings that suit "
        "it: Adam for the LSTM, AdamW with weight decay and dropout for the transformer), and compare their "
        "held-out accuracy. "
        "Expect lower numbers offline: Pang & Lee's 3,600 training sentences are far fewer than IMDb's 25,000 "
        "reviews, and with so little data a transformer trained from scratch does not yet beat the LSTM."
    )
    sources = {"movie_sentences": "Pang & Lee sentences (offline after one download)",
               "movie_reviews": "Pang & Lee full reviews (offline after one download)",
               "imdb": "IMDb (online; 10,000 reviews)"}
    source = st.radio("Data", list(sources), format_func=sources.get, key=LECTURE_DATA, horizontal=True)
    if st.button("▶️ Train both", key=LECTURE_START, type="primary"):
        try:
            if source == "imdb":
                data = loaders.hub_task("imdb", None, VOCAB, 200, 10_000)
            else:
                if not corpus_status(source).cached:
                    st.info(f"Downloading {CORPORA[source].title} once ({CORPORA[source].download_mb} MB)…")
                    fetch_corpus(source)
                data = loaders.corpus_task(source, "word", VOCAB, 200 if source == "movie_reviews" else 60, None)
            for label, (model_cfg, train_cfg) in comparison_configs(data).items():
                run = new_run(state.unique_name(f"{label} · {data.name}"), data, model_cfg, train_cfg, preset=label)
                state.add_run(run, make_current=label == "LSTM")
                run.trainer.start()
            st.rerun()
        except (DownloadError, CorpusNotCached, ValueError) as err:
            st.error(str(err))

runs = [r for r in state.runs.values() if r.trainer is not None]
if not runs:
    st.info("No runs yet: train models on the Train page (or with the button above), then compare them here.")
    render_glove_comparison()  # issue 18: its preset creates runs, so it shows in an empty session too
    st.stop()

default = [r.id for r in runs if state.current_run and r.data_name == state.current_run.data_name] or \
    [r.id for r in runs]
chosen_ids = st.multiselect("Runs", [r.id for r in runs], default=default, key=RUNS,
                            format_func=lambda i: state.runs[i].name)
chosen = [state.runs[i] for i in chosen_ids if i in state.runs]
if len({r.data_name for r in chosen}) > 1:
    st.warning("These runs use different data: their losses are not directly comparable.")


@st.fragment(run_every=TICK_S * 2 if any(r.trainer.is_running for r in chosen) else None)
def curves() -> None:
    metric = st.radio("Curve", ["loss", "accuracy"], key=METRIC, horizontal=True)
    frames = {r.name: r.trainer.metrics_frame() for r in chosen if r.id in get_state().runs}
    n = len(frames)
    show_figure(training_curves(frames, metric, title=f"{metric.capitalize()} of {n} run{'' if n == 1 else 's'}"),
                "compare.curves", f"comparison_{metric}")
    table = results_table(chosen)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"validation accuracy": st.column_config.NumberColumn(format="percent"),
                                "best validation accuracy": st.column_config.NumberColumn(format="percent"),
                                "tokens/s": st.column_config.NumberColumn(format="%.0f")})
    lecture = [r for r in chosen if r.preset in LECTURE_IMDB_ACCURACY]
    if lecture:
        st.markdown("**Beside the lecture's table** (held-out accuracy here: the validation split, never trained on)")
        rows = [{"model": name, "lecture (IMDb test)": f"{acc:.2%}",
                 "here": next((f"{r.trainer.val_history[-1]['val_accuracy']:.2%} on {r.data_name} at step {r.step}"
                               for r in lecture if r.preset == name and r.trainer.val_history), "—")}
                for name, acc in LECTURE_IMDB_ACCURACY.items()]
        st.table(rows)


curves()

render_ngram()  # issue 18: an n-gram model beside the neural language models
render_glove_comparison()  # issue 18: random vs GloVe embeddings
