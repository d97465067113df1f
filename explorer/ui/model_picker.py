"""Which model an analysis page looks at, and a one-click offer when the session has none that fits.

Each analysis page calls :func:`pick_subject` with what it can show (e.g. recurrent runs only, or
transformers and pretrained models). The choice follows the sidebar's selection when it fits, and
choosing here updates the sidebar, so the whole app agrees on "the current model".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from explorer.data.tasks import TaskSpec
from explorer.training.run import Run
from explorer.ui.quickstart import create_preset_run
from explorer.ui.state import PRETRAINED_PREFIX, get_state


@dataclass
class Subject:
    """What a page inspects: a run of this session, or a pretrained model by name."""

    run: Run | None = None
    pretrained: str | None = None

    @property
    def key(self) -> str:
        return self.run.id if self.run else PRETRAINED_PREFIX + str(self.pretrained)


def pick_subject(key: str, accept: Callable[[Run], bool], pretrained: Sequence[str] = (),
                 label: str = "Model to inspect") -> Subject | None:
    """A selector over the session's runs that ``accept`` and the given pretrained model names.

    Returns None when there is nothing to choose (the page then offers to train one).
    """
    state = get_state()
    options = [r.id for r in state.runs.values() if accept(r)]
    options += [PRETRAINED_PREFIX + name for name in pretrained]
    if not options:
        return None
    labels = {r.id: f"🧪 {r.name}" for r in state.runs.values()}
    labels.update({PRETRAINED_PREFIX + n: f"📦 {n} (pretrained)" for n in pretrained})
    if state.current in options:  # follow the sidebar when its model fits this page
        st.session_state[key] = state.current
    elif st.session_state.get(key) not in options:
        st.session_state[key] = options[0]

    def sync() -> None:  # and lead it when the user picks here
        chosen = st.session_state[key]
        if chosen.startswith(PRETRAINED_PREFIX) and chosen[len(PRETRAINED_PREFIX):] not in state.pretrained:
            state.pretrained.append(chosen[len(PRETRAINED_PREFIX):])
        state.current = chosen

    choice = st.selectbox(label, options, format_func=labels.get, key=key, on_change=sync)
    if choice.startswith(PRETRAINED_PREFIX):
        return Subject(pretrained=choice[len(PRETRAINED_PREFIX):])
    return Subject(run=state.runs[choice])


def offer_training(key: str, title: str, spec: TaskSpec, preset: str, why: str,
                   train_overrides: dict | None = None) -> None:
    """An info box and a button that creates and starts a suitable run (instead of an error)."""
    st.info(why)
    if st.button(title, key=key, type="primary"):
        create_preset_run(get_state(), spec, preset, train_overrides=train_overrides)
        st.rerun()
