"""One-click starts: a generated task and a preset, created, selected and training at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import streamlit as st

from explorer.data.tasks import TaskSpec
from explorer.training.assets import ASSETS, is_available, open_asset
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run
from explorer.ui.loaders import generated_task
from explorer.ui.state import NoRoom, SessionState, get_state

QUICK_STARTS = {  # title, task, preset; each stops once it has learned (99 % on validation, twice in a row)
    "lecture_lstm": ("Train the lecture's LSTM", TaskSpec(name="brackets", seq_len=20), "Lecture lab LSTM"),
    "gpt_reverse": ("Train a tiny GPT to reverse", TaskSpec(name="reverse", seq_len=8),
                    "Tiny GPT 2 layers × 4 heads"),
    "long_gap": ("Train an LSTM on a 30-step gap", TaskSpec(name="remember_first", seq_len=30), "LSTM"),
}
LEARNED = {"stop_at_accuracy": 0.99}


def create_preset_run(state: SessionState, spec: TaskSpec, preset: str, start: bool = True,
                      train_overrides: dict | None = None) -> Run:
    """Generate the task, build the preset for it (``train_overrides`` change its training config), add the
    run to the session (current) and start it."""
    data = generated_task(spec)
    model_cfg, train_cfg = PRESETS[preset].build(data)
    if train_overrides:
        train_cfg = dataclasses.replace(train_cfg, **train_overrides)
    run = new_run(state.unique_name(f"{preset} · {data.name}"), data, model_cfg, train_cfg, preset=preset)
    state.add_run(run)
    if start:
        run.trainer.start()
    return run


def start_quick(state: SessionState, which: str) -> Run:
    """The run behind a home-page button."""
    _title, spec, preset = QUICK_STARTS[which]
    return create_preset_run(state, spec, preset, train_overrides=LEARNED)


def room_message(n_new: int) -> str | None:
    """What the session lacks to create ``n_new`` runs (None when they fit): shown before a button is pressed."""
    return get_state().room_for(n_new)


def run_button(label: str, key: str, n_new: int, on_click: Callable[..., Any], args: tuple = (),
               help: str | None = None, primary: bool = True) -> None:
    """A button that creates ``n_new`` runs: disabled, with the reason shown above it, when the session has no
    room (nothing is closed to make room), and saying how many runs it adds."""
    problem = room_message(n_new)
    if problem:
        st.warning(problem)
    extra = f" Adds {n_new} runs to this session." if n_new > 1 else ""
    st.button(label, key=key, type="primary" if primary else "secondary", on_click=_guarded, args=(on_click, args),
              disabled=problem is not None, help=(help or "") + extra or None, width="stretch")


def _guarded(on_click: Callable[..., Any], args: tuple) -> None:
    """Run a creating callback; a session that filled up meanwhile gets the message instead of a half-done job."""
    try:
        on_click(*args)
    except NoRoom as err:
        get_state().notice = str(err)


def open_assets(keys: tuple[str, ...] | list[str]) -> list[Run]:
    """Open ready-trained models (assets/) as runs of this session; the last one becomes current."""
    state = get_state()
    if problem := state.room_for(len(keys)):
        raise NoRoom(problem)
    runs = []
    for key in keys:
        run = open_asset(key)
        run.name = state.unique_name(run.name)
        run.source = f"asset:{key}"
        state.add_run(run)
        runs.append(run)
    return runs


def asset_button(keys: tuple[str, ...] | list[str], key: str, label: str = "⚡ Open a trained one (instant)",
                 on_open: Callable[[list[Run]], None] | None = None) -> None:
    """A button that opens ready-trained models, when they are installed (assets/ ships with the app)."""
    if not all(is_available(k) for k in keys):
        return

    def opened() -> None:
        runs = open_assets(keys)
        if on_open is not None:
            on_open(runs)

    about = " · ".join(ASSETS[k].title for k in keys)
    run_button(label, key, len(keys), on_click=opened,
               help=f"Ready-trained: {about}. Opens at once with its metrics and snapshots; it can train further.")
