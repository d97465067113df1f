"""The sidebar every page shares: the current model, what the page on screen shows, training status, the
session's runs, and the slide-theme switch."""

from __future__ import annotations

import os

import streamlit as st

from explorer.ui import keys
from explorer.ui.class_mode import render_banner
from explorer.ui.live import render_status
from explorer.ui.state import get_state, model_choices, pop_notice

PAGE_SLOT = "sidebar.page_slot"  # st.session_state: a placeholder a page fills with the model it shows


def _select_model() -> None:
    get_state().set_current(st.session_state[keys.SIDEBAR_MODEL])


def _toggle_slides() -> None:
    get_state().slide_theme = st.session_state[keys.SIDEBAR_SLIDE_THEME]


def render_sidebar() -> None:
    state = get_state()
    with st.sidebar:
        choices = model_choices(state)
        if choices:
            if state.current is None:  # the sidebar's first model (a page just opened one): not a change of
                state.current = next(iter(choices))  # model that pages should follow, overriding their own pick
            elif state.current not in choices:
                state.set_current(next(iter(choices)))
            st.session_state[keys.SIDEBAR_MODEL] = state.current
            st.selectbox("Current model", options=list(choices), format_func=choices.get, key=keys.SIDEBAR_MODEL,
                         on_change=_select_model,
                         help="The model the Train page trains; pages show it unless you pick another on the page. "
                              "Runs of this session (🧪) and pretrained models (📦).")
        st.session_state[PAGE_SLOT] = st.empty()
        render_status()
        st.page_link("views/runs.py", label=f"Your runs: {len(state.runs)} of {state.limits.max_runs}", icon="🗂️")
        st.divider()
        render_banner()
        if replica := os.environ.get("EXPLORER_REPLICA"):  # set by deploy/replicas.sh
            st.caption(f"Server: {replica}")
        st.session_state[keys.SIDEBAR_SLIDE_THEME] = state.slide_theme
        st.toggle("Slide theme for figures", key=keys.SIDEBAR_SLIDE_THEME, on_change=_toggle_slides,
                  help="Large type, high contrast, 16:9 exports (1600×900)")


def render_notice() -> None:
    """The session's one pending message (a run that could not start, a link that could not open…), shown at the
    top of whatever page comes next, once."""
    if notice := pop_notice(get_state()):
        st.warning(notice)


def show_page_subject(label: str) -> None:
    """Say in the sidebar which model the page on screen shows (when it is not the current model)."""
    slot = st.session_state.get(PAGE_SLOT)
    if slot is not None:
        slot.caption(f"👁️ This page shows {label}")
