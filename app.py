"""Sequence Model Explorer: page config, navigation over views/, and the shared sidebar. No logic here."""

import streamlit as st

from explorer.ui.runtime import configure_torch
from explorer.ui.sidebar import render_sidebar

configure_torch()
st.set_page_config(page_title="Sequence Model Explorer", page_icon="🔬", layout="wide")

PAGES = [
    st.Page("views/home.py", title="Home", icon="🏠", default=True),
    st.Page("views/train.py", title="Train", icon="🏋️"),
    st.Page("views/compare.py", title="Compare runs", icon="⚖️"),
]

navigation = st.navigation(PAGES)
render_sidebar()
navigation.run()
