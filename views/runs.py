"""Your runs: every run of this session, with rename, save, download and close, and the saved checkpoints."""

import streamlit as st

from explorer.ui.checkpoints import render_saved, render_upload
from explorer.ui.runs.manager import render_runs, render_summary
from explorer.ui.state import get_state

st.title("🗂️ Your runs")
render_summary()
render_runs()
st.subheader("Saved checkpoints")
if not get_state().saved:
    st.caption("None yet: 💾 Save keeps a run's weights, metrics and data settings here.")
render_saved()
render_upload()
