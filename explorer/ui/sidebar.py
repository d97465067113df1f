"""The sidebar every page shares: which model is selected, its training status, the slide-theme switch."""

from __future__ import annotations

import streamlit as st

from explorer.ui import keys
from explorer.ui.live import render_status
from explorer.ui.state import get_state, model_choices


def _select_model() -> None:
    get_state().current = st.session_state[keys.SIDEBAR_MODEL]


def _toggle_slides() -> None:
    get_state().slide_theme = st.session_state[keys.SIDEBAR_SLIDE_THEME]


def render_sidebar() -> None:
    state = get_state()
    with st.sidebar:
        choices = model_choices(state)
        if choices:
            if state.current not in choices:
                state.current = next(iter(choices))
            st.session_state[keys.SIDEBAR_MODEL] = state.current
            st.selectbox("Model", options=list(choices), format_func=choices.get, key=keys.SIDEBAR_MODEL,
                         on_change=_select_model, help="Runs of this session (🧪) and pretrained models (📦)")
        render_status()
        st.divider()
        st.session_state[keys.SIDEBAR_SLIDE_THEME] = state.slide_theme
        st.toggle("Slide theme for figures", key=keys.SIDEBAR_SLIDE_THEME, on_change=_toggle_slides,
                  help="Large type, high contrast, 16:9 exports (1600×900)")
