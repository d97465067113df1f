"""Compare runs: overlay their curves, tabulate results, reproduce the lecture's sentiment comparison."""

import streamlit as st

from explorer.ui.compare.glove import render_glove_comparison
from explorer.ui.compare.lecture import render_lecture
from explorer.ui.compare.ngram import render_ngram
from explorer.ui.compare.runs import pick_runs, render_runs, select_runs, trained_runs

st.title("⚖️ Compare runs")
render_lecture(select_runs)

runs = trained_runs()
if not runs:
    st.info("No runs yet: train models on the Train page (or with the button above), then compare them here.")
    render_glove_comparison()  # its preset creates runs, so it shows in an empty session too
    st.stop()

render_runs(pick_runs(runs))
render_ngram()  # an n-gram model beside the neural language models
render_glove_comparison()  # random vs GloVe embeddings
