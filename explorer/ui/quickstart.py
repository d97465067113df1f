"""One-click starts: a generated task and a preset, created, selected and training at once."""

from __future__ import annotations

import dataclasses

from explorer.data.tasks import TaskSpec
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run
from explorer.ui.loaders import generated_task
from explorer.ui.state import SessionState

QUICK_STARTS = {
    "lecture_lstm": ("Train the lecture's LSTM on balanced brackets", TaskSpec(name="brackets", seq_len=20),
                     "Lecture lab LSTM"),
    "gpt_reverse": ("Watch a tiny GPT learn to reverse a sequence", TaskSpec(name="reverse", seq_len=8),
                    "Tiny GPT 2 layers × 4 heads"),
    "long_gap": ("Remember the first token across 30 steps (LSTM)", TaskSpec(name="remember_first", seq_len=30),
                 "LSTM"),
}


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
    return create_preset_run(state, spec, preset)
