"""Widget values that survive a visit to another page, kept in the session's state object.

Streamlit forgets the value of every widget that a script run does not draw, so a text pasted on the Attention
page, a chosen layer or section would be gone after a look at another page. Every page widget whose value a user
would expect back is *seeded* instead of given a default:

    seed(TEXT, EXAMPLE_TEXT)                       # before the widget is drawn
    st.text_area("Input", key=TEXT)                # no value=, index= or default= argument
    seed_choice(SECTION, SECTIONS, SECTIONS[0])    # the same, for a value that must be one of the options

``seed`` puts the value the widget had when its page was last shown (or the default, the first time) into
``st.session_state`` before the widget is created; :func:`remember_widgets`, called by app.py at the start of every
script run, copies the current values of the seeded widgets into :attr:`SessionState.widgets`. A widget drawn with
a value *and* a seeded key would make Streamlit log a warning with a stack trace, hence no defaults on the widget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from explorer.ui.state import MAX_WIDGETS, get_state


def seed(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> Any:
    """Make sure widget ``key`` has a value before it is drawn: its last value on this page, else ``default``.

    ``valid`` rejects a remembered value that no longer fits (e.g. a layer the current model does not have); the
    default is used then. Returns the value the widget will show.
    """
    state = get_state()
    state.widget_keys[key] = None
    state.widget_keys.move_to_end(key)
    while len(state.widget_keys) > MAX_WIDGETS:
        old, _ = state.widget_keys.popitem(last=False)
        state.widgets.pop(old, None)
    if key not in st.session_state:
        value = state.widgets.get(key, default)
        st.session_state[key] = value if valid is None or _is_valid(valid, value) else default
    elif valid is not None and not _is_valid(valid, st.session_state[key]):
        st.session_state[key] = default
    return st.session_state[key]


def seed_choice(key: str, options: Sequence[Any], default: Any = None) -> Any:
    """:func:`seed` for a selectbox, radio or segmented control: the value must be one of ``options``
    (``default`` None: the first option)."""
    options = list(options)
    fallback = default if default in options else (options[0] if options else None)
    return seed(key, fallback, valid=lambda value: value in options)


def seed_many(key: str, options: Sequence[Any], default: Sequence[Any]) -> list[Any]:
    """:func:`seed` for a multiselect: the options that are still there, else ``default``."""
    options = list(options)
    kept = [v for v in default if v in options]
    value = seed(key, kept, valid=lambda values: isinstance(values, list) and all(v in options for v in values))
    return list(value)


def forget(key: str) -> None:
    """Drop a widget's remembered value (e.g. after the run it described was closed)."""
    state = get_state()
    state.widgets.pop(key, None)
    state.widget_keys.pop(key, None)
    st.session_state.pop(key, None)


def set_value(key: str, value: Any) -> None:
    """Change a seeded widget's value from code (a callback, or before the widget is drawn in this run)."""
    get_state().widgets[key] = value
    st.session_state[key] = value


def follow_auto_name(key: str, automatic: str) -> None:
    """Seed a text box that shows ``automatic`` (e.g. a run name made of task and model) and follows it as it
    changes, until the user types something else; emptying the box gives the automatic value back."""
    state = get_state()
    auto_key = f"{key}.automatic"
    shown = seed(key, automatic)
    if shown != automatic and (not str(shown).strip() or shown == state.widgets.get(auto_key)):
        set_value(key, automatic)
    state.widgets[auto_key] = automatic


def remember_widgets() -> None:
    """Copy the values of the seeded widgets drawn in the last run into the session's state (app.py, every run)."""
    state = get_state()
    for key in state.widget_keys:
        if key in st.session_state:
            state.widgets[key] = st.session_state[key]


def _is_valid(valid: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(valid(value))
    except (TypeError, ValueError):
        return False
