"""Which model an analysis page looks at, and a one-click offer when the session has none that fits.

Two notions, kept apart:
- the *current model* is the sidebar's choice (``SessionState.current``): the Train page trains it, and a new run
  becomes it;
- each analysis page keeps *its own* choice (a seeded widget, so it survives a visit elsewhere). A page follows
  the sidebar when the sidebar's model changes and fits the page; choosing on a page never changes the sidebar.
The sidebar says which model the page on screen is showing when it differs from the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from explorer.data.tasks import TaskSpec
from explorer.models.pretrained import PRETRAINED_MODELS
from explorer.training.run import Run
from explorer.ui.quickstart import asset_button, create_preset_run, room_message
from explorer.ui.sidebar import show_page_subject
from explorer.ui.state import PRETRAINED_PREFIX, get_state
from explorer.ui.widget_state import seed_choice, set_value


@dataclass
class Subject:
    """What a page inspects: a run of this session, a pretrained model by name, or a fine-tuning run of this
    session, which pages read as its base pretrained model with the fine-tuned weights (explorer/ui/finetuned.py)."""

    run: Run | None = None
    pretrained: str | None = None
    finetuned: Run | None = None

    @property
    def key(self) -> str:
        if self.finetuned is not None:
            return self.finetuned.id
        return self.run.id if self.run else PRETRAINED_PREFIX + str(self.pretrained)

    @property
    def step(self) -> int:
        """The step the subject's weights are from: a run's current step, a fine-tuning run's analysis step."""
        if self.finetuned is not None:
            return self.finetuned.analysis_step
        return self.run.step if self.run else 0


def subject_labels(runs: Sequence[Run], pretrained: Sequence[str]) -> dict[str, str]:
    labels = {r.id: f"🧪 {r.name}" for r in runs}
    labels.update({PRETRAINED_PREFIX + n: f"📦 {n} (pretrained)" for n in pretrained})
    return labels


def offered_pretrained() -> list[str]:
    """Pretrained models a picker offers: the installed packaged ones, then those opened in this session."""
    names = [name for name, spec in PRETRAINED_MODELS.items() if spec.installed()]
    return names + [n for n in get_state().pretrained if n not in names]


def pick_subject(key: str, accept: Callable[[Run], bool], pretrained: Sequence[str] = (),
                 label: str = "Model to inspect") -> Subject | None:
    """A selector over the session's runs that ``accept`` and the given pretrained model names, and the session's
    fine-tuning runs of those pretrained models (offered where their base is).

    Returns None when there is nothing to choose (the page then offers to train one).
    """
    state = get_state()
    finetuned = {r.id: r for r in state.runs.values() if r.is_finetune and r.config.base in pretrained}
    runs = [r for r in state.runs.values() if not r.is_finetune and accept(r)]
    options = [r.id for r in runs] + [PRETRAINED_PREFIX + name for name in pretrained] + list(finetuned)
    if not options:
        return None
    fits = state.current in options
    newest = max(runs, key=lambda r: r.created).id if runs else options[0]
    followed = state.followed.get(key)
    if fits and followed != state.current_serial:  # the sidebar's model changed since this page was drawn
        set_value(key, state.current)
    state.followed[key] = state.current_serial
    seed_choice(key, options, state.current if fits else newest)
    labels = subject_labels(state.runs.values(), pretrained)
    labels.update({i: f"🎯 {r.name} (fine-tuned {r.config.base})" for i, r in finetuned.items()})
    choice = st.selectbox(label, options, format_func=labels.get, key=key,
                          help="This page's own choice: the sidebar's model is the one the Train page trains. The "
                               "page switches when you pick another model in the sidebar or start a new run.")
    if choice != state.current:
        show_page_subject(labels[choice])
    if choice in finetuned:
        return Subject(finetuned=finetuned[choice])
    if choice.startswith(PRETRAINED_PREFIX):
        state.open_pretrained(choice[len(PRETRAINED_PREFIX):])  # the sidebar lists it from the next rerun on
        return Subject(pretrained=choice[len(PRETRAINED_PREFIX):])
    return Subject(run=state.runs[choice])


def offer_training(key: str, title: str, spec: TaskSpec, preset: str, why: str,
                   train_overrides: dict | None = None, assets: tuple[str, ...] = ()) -> None:
    """An info box, a button that opens a ready-trained model (instant) and one that trains it yourself."""
    st.info(why)
    if problem := room_message(1):
        st.warning(problem)
    left, right = st.columns(2)
    with left:
        if assets:
            asset_button(assets, f"{key}.asset")
    if right.button(title, key=key, type="secondary" if assets else "primary", disabled=problem is not None,
                    width="stretch"):
        create_preset_run(get_state(), spec, preset, train_overrides=train_overrides)
        st.rerun()
