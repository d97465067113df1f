"""Sequence Model Explorer: page config, navigation over views/, and the shared sidebar. No logic here."""

import streamlit as st

from explorer.ui.links import capture_link
from explorer.ui.runtime import configure_allocator, configure_torch, start_training_backend
from explorer.ui.sidebar import render_notice, render_sidebar
from explorer.ui.state import drop_views_of_closed_tabs
from explorer.ui.umap_warmup import start_umap_warmup
from explorer.ui.widget_state import remember_widgets

configure_allocator()
configure_torch()
start_umap_warmup(at_startup=True)
start_training_backend()
drop_views_of_closed_tabs()
st.set_page_config(page_title="Sequence Model Explorer", page_icon="🔬", layout="wide")
# Less empty space above each page, so that controls and their figure share a 720-pixel projector screen.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>")

PAGES = {  # in the course's order; every page listed (expanded), none hidden behind "View more"
    "Start": [
        st.Page("views/home.py", title="Home", icon="🏠", default=True),
        st.Page("views/train.py", title="Train", icon="🏋️"),
        st.Page("views/runs.py", title="Your runs", icon="🗂️"),
        st.Page("views/compare.py", title="Compare runs", icon="⚖️"),
    ],
    "Recurrent networks": [
        st.Page("views/lstm.py", title="Inside the RNN", icon="🔁"),
        st.Page("views/seq2seq.py", title="Seq2seq & attention", icon="🔀"),
    ],
    "Transformers": [
        st.Page("views/tokens.py", title="Tokens", icon="🔤"),
        st.Page("views/forward.py", title="Forward pass", icon="🧮"),
        st.Page("views/attention.py", title="Attention", icon="👀"),
        st.Page("views/circuits.py", title="Circuits", icon="🔌"),
        st.Page("views/positions.py", title="Positions", icon="📍"),
    ],
    "Representations": [
        st.Page("views/embeddings.py", title="Embeddings", icon="🗺️"),
        st.Page("views/finetune.py", title="Fine-tuning", icon="🎯"),
    ],
}

navigation = st.navigation(PAGES, expanded=True)
remember_widgets()
capture_link(navigation.url_path)
render_sidebar()
render_notice()
navigation.run()
