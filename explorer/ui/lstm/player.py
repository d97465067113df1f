"""Stepping through time: a slider, step buttons and a play switch, in a fragment.

Moving the slider reruns only this fragment. While "play" is on, the fragment reruns every PLAY_TICK_S
seconds and advances one step; at the last step it switches itself off. Whatever ``body(t)`` draws is
redrawn for the new step from the recorded gates (nothing is recomputed).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from explorer.ui.widget_state import seed, seed_choice, set_value

STEP = "lstm.step"
PLAY = "lstm.play"
FIRST, BACK, FORWARD, LAST = "lstm.first", "lstm.back", "lstm.forward", "lstm.last"
PLAY_TICK_S = 0.8


def _move(delta: int | None, last: int, to: int | None = None) -> None:
    current = int(st.session_state.get(STEP, 0))
    set_value(STEP, min(max(to if to is not None else current + (delta or 0), 0), last))
    set_value(PLAY, False)


def render_stepper(n_pos: int, body: Callable[[int], None]) -> None:
    """Controls for t in 0 .. n_pos − 1, then ``body(t)``; ``n_pos`` ≥ 1."""
    seed(STEP, 0)
    seed(PLAY, False)
    playing_now = bool(st.session_state.get(PLAY, False))

    @st.fragment(run_every=PLAY_TICK_S if playing_now else None)
    def stepper() -> None:
        last = n_pos - 1
        t = min(max(int(st.session_state.get(STEP, 0)), 0), last)
        if st.session_state.get(PLAY, False):
            t = min(t + 1, last)
            if t == last:
                st.session_state[PLAY] = False  # the end: stop playing
        st.session_state[STEP] = t
        c_slider, c_first, c_back, c_forward, c_last, c_play = st.columns([7.5, 1, 1, 1, 1, 2],
                                                                           vertical_alignment="bottom")
        if last > 0:
            t = int(c_slider.slider("Step t", 0, last, key=STEP, help="Move through the input one token at a time"))
        else:
            c_slider.caption("The input has one token: step t = 0.")
        c_first.button("⇤", key=FIRST, on_click=_move, args=(None, last, 0), disabled=t == 0, width="stretch",
                       help="First step")
        c_back.button("←", key=BACK, on_click=_move, args=(-1, last), disabled=t == 0, width="stretch",
                      help="Previous step")
        c_forward.button("→", key=FORWARD, on_click=_move, args=(1, last), disabled=t == last, width="stretch",
                         help="Next step")
        c_last.button("⇥", key=LAST, on_click=_move, args=(None, last, last), disabled=t == last, width="stretch",
                      help="Last step")
        c_play.toggle("▶️ Play", key=PLAY, help=f"Advance one step every {PLAY_TICK_S:g} s",
                      disabled=t == last and last > 0)
        if bool(st.session_state.get(PLAY, False)) != playing_now:
            st.rerun()  # the whole page, so that the fragment's timer starts or stops
        body(t)

    stepper()


def keep_choice(key: str, options: list, default) -> None:
    """Seed a choice widget: its value from the last visit while it is among today's options (another model or
    input may change them), else ``default``."""
    seed_choice(key, options, default)
