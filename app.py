"""Sequence Model Explorer: page config, navigation over views/, and the shared sidebar. No logic here."""

import streamlit as st

from explorer.ui.runtime import configure_torch
from explorer.ui.sidebar import render_sidebar
from explorer.ui.umap_warmup import start_umap_warmup
from explorer.ui.widget_state import remember_widgets

configure_torch()
start_umap_warmup()
st.set_page_config(page_title="Sequence Model Explorer", page_icon="🔬", layout="wide")

PAGES = [
    st.Page("views/home.py", title="Home", icon="🏠", default=True),
    st.Page("views/train.py", title="Train", icon="🏋️"),
    st.Page("views/compare.py", title="Compare runs", icon="⚖️"),
    st.Page("views/lstm.py", title="Inside the RNN", icon="🔁"),
    st.Page("views/seq2seq.py", title="Seq2seq & attention", icon="🔀"),
    st.Page("views/attention.py", title="Attention", icon="👀"),
    st.Page("views/circuits.py", title="Circuits", icon="🔌"),
    st.Page("views/positions.py", title="Positions", icon="📍"),
    st.Page("views/embeddings.py", title="Embeddings", icon="🗺️"),
]

navigation = st.navigation(PAGES)
remember_widgets()
render_sidebar()
navigation.run()
