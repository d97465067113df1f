"""§ 1 of the Seq2seq page: one click trains a GRU encoder–decoder without attention, with additive and with
location-aware attention, and a transformer on reverse (lengths 4–12); one figure of exact match against input length
follows them while they train."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.figures.seq2seq import length_figure
from explorer.training.bottleneck import (
    ADDITIVE,
    LOCATION,
    NONE,
    SPEC,
    STEPS,
    TRAINED,
    VARIANTS,
    accuracy_by_length,
    latest_group,
    make_runs,
)
from explorer.training.run import Run, describe_model
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.live import live_tick_s
from explorer.ui.loaders import generated_task
from explorer.ui.state import NoRoom, get_state
from explorer.ui.widget_state import seed_choice

START = "seq2seq.start"
METRIC = "seq2seq.metric"
METRICS = ("exact match", "token accuracy")


def start_experiment() -> str | None:
    """Create and start the four runs (callback). Returns why not, when the session has no room."""
    state = get_state()
    if problem := state.room_for(len(VARIANTS)):
        state.notice = problem
        return problem
    data = generated_task(SPEC)
    runs = make_runs(data, names={v: state.unique_name(f"{v} · reverse 4–12") for v in VARIANTS})
    try:
        for run in runs:
            state.add_run(run, make_current=run.name.startswith(LOCATION))
            run.trainer.start()
    except NoRoom as err:  # cannot happen after room_for, unless another tab added runs meanwhile
        state.notice = str(err)
        return str(err)
    return None


def render() -> None:
    st.markdown(
        "A recurrent encoder squeezes the whole input into its last state; the decoder has to write the answer from "
        "that one vector. **Attention** (Bahdanau et al. 2015) lets the decoder look back at every encoder state "
        "at every step; *location-aware* attention (Chorowski et al. 2015) also sees where it looked the step "
        "before. The experiment trains four models on the same *reverse* task, with inputs of "
        f"{TRAINED[0]}–{TRAINED[1]} symbols, then tests them on every length up to 24 — beyond what they saw.")
    group = latest_group(list(get_state().runs.values()))
    state = get_state()
    problem = state.room_for(len(VARIANTS))
    label = "▶️ Train the four models" if not group else "▶️ Train a new set of four"
    help_text = (f"{STEPS} steps each, trained together in the background (a few minutes on a laptop; the "
                 "figure updates as they learn). The three GRUs read the input both ways and have 64 hidden units; "
                 "only attention differs.")
    c1, c2 = st.columns([2, 3], vertical_alignment="center")
    c1.button(label, key=START, type="primary" if not group else "secondary", help=help_text,
              on_click=start_experiment, disabled=problem is not None)
    c2.caption(problem or f"Needs {len(VARIANTS)} runs of the session's 8 (nothing is closed to make room).")
    if not group:
        st.info("No experiment yet: press the button. The figure appears at once and fills in while they train.")
        return
    _live(group)


def _live(group: dict[str, Run]) -> None:
    running = any(r.trainer is not None and r.trainer.is_running for r in group.values())
    seed_choice(METRIC, METRICS, METRICS[0])

    @st.fragment(run_every=live_tick_s(2) if running else None)
    def live() -> None:
        current = latest_group(list(get_state().runs.values()))
        if not current:
            st.info("The runs of the experiment were closed.")
            return
        for variant in VARIANTS:
            if (run := current.get(variant)) is not None and run.trainer is not None:
                st.progress(min(1.0, run.step / run.trainer.config.max_steps),
                            text=f"{variant}: step {run.step}/{run.trainer.config.max_steps} · {run.status}")
        metric = st.radio("Measure", METRICS, key=METRIC, horizontal=True,
                          help="exact match: every output token right; token accuracy: the share of right tokens "
                               "(teacher-forced, so one early mistake does not spoil the rest)")
        frames = {variant: _by_length(run) for variant, run in current.items()}
        show_figure(length_figure(frames, TRAINED, metric, title=f"{metric.capitalize()} by input length · reverse"),
                    "seq2seq.lengths", "bottleneck_accuracy_by_length")
        st.caption(_reading(frames))
        st.dataframe(_table(current, frames), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="percent")
                                    for c in ("length 8", "length 12", "length 16", "length 20")})
        if running and not any(r.trainer.is_running for r in current.values() if r.trainer is not None):
            st.rerun(scope="app")

    live()


def _by_length(run: Run) -> pd.DataFrame:
    return get_state().remember((run.id, run.analysis_step, "accuracy by length"),
                                lambda: accuracy_by_length(frozen_model(run)))


def _table(group: dict[str, Run], frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for variant, run in group.items():
        at = frames[variant].set_index("length")["exact match"]
        rows.append({"model": variant, "run": run.name, "step": run.step, "architecture": describe_model(run.config),
                     **{f"length {n}": at.get(n) for n in (8, 12, 16, 20)}})
    return pd.DataFrame(rows)


def _reading(frames: dict[str, pd.DataFrame]) -> str:
    """What the figure shows now, in words (true of the current numbers, whatever they are)."""
    text = ("Each point: fresh examples of that length (128), exact match measured with one teacher-forced pass, "
            "which is what greedy decoding gets right. ")
    exact = {variant: frame.set_index("length")["exact match"] for variant, frame in frames.items()}
    if NONE in exact and ADDITIVE in exact:
        none, attention = exact[NONE].get(TRAINED[1], 0), exact[ADDITIVE].get(TRAINED[1], 0)
        text += (f"At length {TRAINED[1]} (still a trained length) additive attention is ahead of the bottlenecked "
                 f"GRU by {attention - none:+.0%} ({attention:.0%} vs {none:.0%}). ")
    text += "At length 20: " + ", ".join(f"{variant} {at.get(20, 0):.0%}" for variant, at in exact.items()) + ". "
    holds = {variant for variant, at in exact.items() if at.get(20, 0) >= 0.5}
    if LOCATION in holds and ADDITIVE not in holds:
        text += ("Additive attention finds the mirrored position by matching counts it learned on lengths up to "
                 f"{TRAINED[1]}; location-aware attention, whose score also sees where the previous step looked, "
                 "keeps its place beyond them.")
    elif not holds:
        text += ("Past the trained lengths every model meets positions and counts it never saw, so all fall: "
                 "attention removes the bottleneck, not the need to have seen such lengths.")
    return text
