"""Which recurrent runs the "Inside the recurrent cell" page looks at, and the one-click long-gap trio.

The lecture's "I grew up in France … I speak fluent French": an Elman RNN, a GRU and an LSTM trained on the
same long-gap task (remember the first token across 40 random digits) show why gates help.

The LSTM preset starts its forget-gate bias at 1 (RecurrentConfig.forget_bias; Gers et al. 2000; Jozefowicz
et al. 2015). With torch's default (bias 0, so fₜ ≈ σ(0) = 0.5 at the start) the cell state halves at every
step, the LSTM's gradient vanishes almost like the Elman RNN's, and on this task it stalls near 50 % for
thousands of steps (measured here: 49 % after 2,500 steps; with forget bias 1, 100 % by step 500).
"""

from __future__ import annotations

import streamlit as st

from explorer.data.tasks import TaskSpec
from explorer.models import RecurrentModel
from explorer.training.assets import TRIO
from explorer.training.run import Run
from explorer.training.snapshots import model_at
from explorer.ui.frozen import frozen_model
from explorer.ui.quickstart import asset_button, create_preset_run, run_button
from explorer.ui.state import NoRoom, SessionState, get_state
from explorer.ui.widget_state import set_value

LONG_GAP = TaskSpec(name="remember_first", seq_len=40)
CELL_PRESETS = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}  # trained in this order; the LSTM ends current
CELL_NAMES = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}
FORGET_BIAS = 1.0
COMPARE_RUNS = "lstm.compare.runs"  # the Compare-cells multiselect (shown the trio once it is created)
TRIO_STEPS = 1000  # enough for the GRU and the forget-bias LSTM; the Elman RNN stays at chance


def train_long_gap_trio(state: SessionState) -> list[Run]:
    """Create and start an Elman RNN, a GRU and an LSTM (forget bias 1) on :data:`LONG_GAP`; the LSTM ends current
    and the page's comparison shows the three."""
    if problem := state.room_for(len(CELL_PRESETS)):
        raise NoRoom(problem)
    runs = []
    for preset in CELL_PRESETS.values():
        run = create_preset_run(state, LONG_GAP, preset, start=False)
        run.trainer.set_max_steps(TRIO_STEPS)
        run.trainer.start()
        runs.append(run)
    set_value(COMPARE_RUNS, [r.id for r in runs])
    return runs


def offer_long_gap_trio(key: str, primary: bool = False) -> None:
    """A button that trains the three cells on the long-gap task in one click."""
    label = (f"▶️ Train an Elman RNN, a GRU and an LSTM on 'remember the first token' "
             f"(gap of {LONG_GAP.seq_len})")
    help_text = (f"{TRIO_STEPS} steps each, trained together in the background. The LSTM starts with its forget "
                 f"gate's bias at {FORGET_BIAS:g} (fₜ ≈ 0.73, not 0.5), the usual remedy for a cell state that would "
                 "otherwise halve at every step.")
    left, right = st.columns(2)
    with left:
        asset_button(TRIO, f"{key}.asset", "⚡ Open the three trained (instant)",
                     on_open=lambda runs: set_value(COMPARE_RUNS, [r.id for r in runs]))
    with right:
        run_button(label, key, len(CELL_PRESETS), on_click=lambda: train_long_gap_trio(get_state()), help=help_text,
                   primary=primary)


def inspected_model(run: Run) -> RecurrentModel:
    """The frozen copy of the run's weights every analysis here reads (see explorer/ui/frozen.py)."""
    return frozen_model(run)


def model_at_step(run: Run, step: int | None) -> RecurrentModel:
    """The inspected model now (``step`` None) or at one of the trainer's snapshots (a memoized copy)."""
    if step is None:
        return inspected_model(run)
    return get_state().remember((run.id, step, "snapshot model"), lambda: model_at(run, step))

