"""Exploding gradients and clipping: one click trains two Elman RNNs whose W_hh starts with a spectral radius above
1, one without clipping and one with; their gradient norms and accuracy side by side."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.gradients import spectra
from explorer.figures.gradients import clipping_figure
from explorer.training.clipping_pair import CLIP, LR, SCALE, SPEC, STEPS, make_pair, pair_of, story
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.loaders import generated_task
from explorer.ui.state import NoRoom, get_state

START = "lstm.clip.start"


def _start() -> None:
    state = get_state()
    if problem := state.room_for(2):
        state.notice = problem
        return
    runs = make_pair(generated_task(SPEC), names={label: state.unique_name(label) for label in
                                                  ("Elman RNN · no clipping", f"Elman RNN · clipped at {CLIP:g}")})
    try:
        for run in runs:
            state.add_run(run, make_current=False)
            run.trainer.start()
    except NoRoom as err:
        state.notice = str(err)


def render_exploding() -> None:
    st.markdown("#### Exploding gradients and clipping")
    st.markdown(f"The deck: if W_hh's biggest |eigenvalue| is above 1 the gradient can **explode** — clip it. Two "
                f"Elman RNNs start with W_hh at {SCALE:g}× torch's initialisation; both use plain SGD at ε = {LR:g} "
                f"on 'remember the first token' across {SPEC.seq_len} digits; one clips ‖ĝ‖ to {CLIP:g} "
                "(ĝ ← ĝ · min(1, c/‖ĝ‖)), one does not.")
    state = get_state()
    problem = state.room_for(2)
    c1, c2 = st.columns([2, 3], vertical_alignment="center")
    c1.button("💥 Train the pair: explodes without clipping / recovers with it", key=START, on_click=_start,
              disabled=problem is not None, help=f"{STEPS} steps each, in the background (well under a minute).")
    c2.caption(problem or "Needs 2 runs of the session's 8.")
    pair = pair_of(list(state.runs.values()))
    if not pair:
        return
    radius = spectra(next(iter(pair.values())).trainer.load_snapshot(0)["rnn.weight_hh_l0"], "rnn")[0].radius
    running = any(r.trainer.is_running for r in pair.values())

    @st.fragment(run_every=live_tick_s(2) if running else None)
    def live() -> None:
        current = pair_of(list(get_state().runs.values()))
        frames = {label: run.trainer.metrics_frame() for label, run in current.items()}
        show_figure(clipping_figure(frames, CLIP), "lstm.clip.figure", "exploding gradients and clipping")
        st.caption(f"Both start from the same weights: ρ(W_hh) = {radius:.2f} at step 0. " + story(frames))

    live()
