"""Section 5b of the Positions page: train the same transformer with none / sinusoidal / learned / rotary positions.

The four variants are ordinary runs of the session: the sidebar's live fragment trains them (whatever page is
open), they appear in the sidebar and on the Compare page. This section starts them and reads their results.
"""

from __future__ import annotations

import streamlit as st

from explorer.figures.positions.experiment import experiment_bars, experiment_curves, length_figure
from explorer.training.assets import POSITION_VARIANTS
from explorer.training.position_experiment import (
    ARCHITECTURES,
    MAX_SEQ_LEN,
    TASKS,
    VARIANTS,
    ExperimentSpec,
    experiment_task,
    group_runs,
    learning_curves,
    length_generalisation,
    make_runs,
    results,
)
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.quickstart import asset_button, run_button
from explorer.ui.state import NoRoom, get_state
from explorer.ui.widget_state import seed, seed_choice, seed_many

TASK = "positions.exp.task"
LENGTH = "positions.exp.length"
ARCH = "positions.exp.arch"
OFFSET = "positions.exp.offset"
STEPS = "positions.exp.steps"
SEED = "positions.exp.seed"
START = "positions.exp.start"
GROUP = "positions.exp.group"
METRIC = "positions.exp.metric"
LENGTHS = "positions.exp.lengths"
EVALUATE = "positions.exp.evaluate"
ARCH_HELP = ("Encoder-decoder: the encoder is bidirectional, so without positions it sees a bag of tokens. "
             "Decoder-only (GPT): the causal mask alone leaks position — a model can count the tokens before it — "
             "so 'none' partly learns order (Haviv et al. 2022).")


def _spec() -> ExperimentSpec | None:
    c1, c2, c3 = st.columns(3)
    seed_choice(TASK, TASKS)
    task = c1.selectbox("Task", TASKS, key=TASK, help="reverse and copy need order; sort needs only the tokens.")
    seed(LENGTH, 8)
    length = c2.slider("Sequence length", 4, 16, key=LENGTH)
    seed_choice(ARCH, ARCHITECTURES)
    arch = c3.radio("Architecture", ARCHITECTURES, key=ARCH, help=ARCH_HELP)
    c1, c2, c3 = st.columns(3)
    seed(OFFSET, 0)
    offset = c1.slider("Offset variant: up to this many filler tokens first", 0, 8, key=OFFSET,
                       help="0 = off. With k > 0 each source starts with 0…k '.' tokens, so the same sequence "
                            "sits at different absolute positions.")
    seed(STEPS, 600)
    steps = c2.number_input("Training steps", step=100, key=STEPS)
    seed(SEED, 0)
    seed_value = c3.number_input("Seed", step=1, key=SEED)
    try:
        return ExperimentSpec(task=task, seq_len=int(length), architecture=arch, max_offset=int(offset),
                              steps=int(steps), seed=int(seed_value))
    except ValueError as err:
        st.error(f"⚠️ {err}")
        return None


def _start(spec: ExperimentSpec) -> None:
    state = get_state()
    if problem := state.room_for(len(VARIANTS)):
        raise NoRoom(problem)
    runs = make_runs(spec, data=experiment_task(spec))
    for run in runs:
        run.name = state.unique_name(run.name)
        state.add_run(run, make_current=False)
        run.trainer.start()


def render() -> None:
    st.markdown("Does a model need positions? Train **the same small transformer** (d_model 32, 4 heads, 1 layer, "
                "same data, seed and steps) four times — with no positions, sinusoids, a learned table and rotary — "
                "on a task that needs order, and compare.")
    spec = _spec()
    if spec is not None:
        st.caption("Starts four runs that train in the background (sidebar, Compare page, 🗂️ Your runs). The four "
                   "together take roughly 2–3 minutes at 600 steps on a laptop CPU (longer on a busy server).")
        left, right = st.columns(2)
        with left:
            asset_button(POSITION_VARIANTS, f"{START}.asset", "⚡ Open the four trained (instant: reverse, length 8)")
        with right:
            run_button("▶️ Train the four variants", START, len(VARIANTS), on_click=_start, args=(spec,))
    groups = group_runs(list(get_state().runs.values()))
    if not groups:
        st.info("No experiment yet: press the button above. Reverse with an encoder-decoder is the clearest case.")
        return
    specs = list(groups)[::-1]
    seed_choice(GROUP, specs)
    chosen = st.selectbox("Experiment", specs, format_func=lambda s: s.title, key=GROUP) \
        if len(specs) > 1 else specs[0]
    _results(chosen)


def _results(spec: ExperimentSpec) -> None:
    group_now = group_runs(list(get_state().runs.values())).get(spec, {})
    running = any(r.trainer.is_running for r in group_now.values())

    @st.fragment(run_every=live_tick_s(2) if running else None)
    def live() -> None:
        group = group_runs(list(get_state().runs.values())).get(spec, {})
        if not group:
            st.info("The runs of this experiment were closed.")
            return
        table = results(group)
        for row in table.itertuples():
            st.progress(min(1.0, row.step / row.of), text=f"{row.positions}: step {row.step}/{row.of} · {row.status}")
        left, right = st.columns(2)
        with left:
            show_figure(experiment_bars(table, f"Validation accuracy · {spec.title}"), "positions.exp.bars",
                        "position_experiment_accuracy")
        with right:
            seed_choice(METRIC, ["val_sequence_accuracy", "val_accuracy"])
            metric = st.radio("Curve", ["val_sequence_accuracy", "val_accuracy"], horizontal=True, key=METRIC,
                              format_func=lambda m: "whole sequence" if m == "val_sequence_accuracy" else "token")
            show_figure(experiment_curves(learning_curves(group), metric), "positions.exp.curves",
                        "position_experiment_curves")
        if any(r.trainer.is_running for r in group.values()):
            st.caption("Training… the figures follow. Length generalisation is measured once the runs stop.")
        elif running:
            st.rerun(scope="app")  # training just finished: draw the length generalisation below

    live()
    if not running:
        _length_generalisation(spec)


def _length_generalisation(spec: ExperimentSpec) -> None:
    st.markdown("**Length generalisation** — the same task on sequences longer than those trained on.")
    options = list(range(2, min(3 * spec.seq_len, MAX_SEQ_LEN * 2) + 1))
    default = [n for n in (spec.seq_len, spec.seq_len + 2, spec.seq_len + 4, 2 * spec.seq_len, 2 * spec.seq_len + 2)
               if n in options]
    seed_many(f"{LENGTHS}.{spec.seq_len}", options, default)
    lengths = st.multiselect("Lengths", options, key=f"{LENGTHS}.{spec.seq_len}")
    if not lengths:
        st.info("Pick one or more lengths.")
        return
    group = group_runs(list(get_state().runs.values())).get(spec, {})
    key = ("positions.exp.lengths", tuple((r.id, r.step) for r in group.values()), tuple(sorted(lengths)))
    frame = get_state().remember(key, lambda: length_generalisation(group, spec, sorted(lengths)))
    metric = "sequence accuracy" if st.session_state.get(METRIC) == "val_sequence_accuracy" else "token accuracy"
    show_figure(length_figure(frame, spec.seq_len, metric), "positions.exp.lengths", "length_generalisation")
    notes = frame[frame["note"] != ""][["positions", "length", "note"]]
    if not notes.empty:
        st.dataframe(notes, hide_index=True, width="stretch")
    st.caption("A learned table has exactly n_ctx rows, sized for the training examples: past them there is no "
               "vector to add, so it is not evaluated (✕). Sinusoidal, rotary and no-position models can run on any "
               "length — whether they still get the answer right is what the curve shows.")
