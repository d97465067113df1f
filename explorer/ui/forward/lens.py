"""Forward pass page, section "Logit lens": each layer's residual stream read through the final norm and W_U.

For a run of the session it follows training (a fragment redraws it every few seconds while the run trains) or
shows any kept snapshot, so a student can watch the layers learn to predict.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer.analysis.forward.logit_lens import logit_lens
from explorer.analysis.forward.record import record_residuals
from explorer.figures.forward.lens import lens_grid, lens_probability_figure
from explorer.training.snapshots import model_at, snapshot_steps
from explorer.ui.figure import show_figure
from explorer.ui.forward.subject import Walk, residuals
from explorer.ui.frozen import frozen_model
from explorer.ui.live import live_tick_s
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

LENS_STEP = "forward.lens.step"
LENS_START = "forward.lens.start"
LENS_POSITION = "forward.lens.position"
LENS_WINDOW = 16  # positions in the grid at once (each cell shows a token)
NOW = "now"
FOLLOW_EVERY = 3  # live ticks between redraws while the run trains (3 s alone)


def _window(n: int) -> tuple[int, int]:
    if n <= LENS_WINDOW:
        return 0, n
    last = n - LENS_WINDOW
    seed(LENS_START, last, valid=lambda v: isinstance(v, int) and 0 <= v <= last)
    start = int(st.slider(f"First position in the grid ({LENS_WINDOW} at a time)", 0, last, key=LENS_START))
    return start, start + LENS_WINDOW


def _draw(walk: Walk, record, span: tuple[int, int], label: str, memo: tuple) -> None:
    tokens = record.str_tokens
    positions = list(range(*span))
    state = get_state()
    lens = state.remember((*memo, "lens", span), lambda: logit_lens(walk.model, record, positions))
    fig = state.remember((*memo, "grid", span), lambda: lens_grid(
        lens, tokens, walk.piece, f"Logit lens — {walk.name}{label}: the top next token after each layer"))
    show_figure(fig, "forward.lens", f"{walk.name}_logit_lens")
    options = positions
    seed(LENS_POSITION, options[-1], valid=lambda v: v in options)
    position = int(st.selectbox("Position for the curve", options, key=LENS_POSITION,
                                format_func=lambda i: f"{i}: {tokens[i]!r}"))
    column = positions.index(position)
    predicted = walk.piece(int(lens.final_ids[column]))
    fig = lens_probability_figure(lens, column, tokens[position], predicted,
                                  f"How sure each layer is of the final prediction {predicted!r}{label}")
    show_figure(fig, "forward.lens_curve", f"{walk.name}_lens_position_{position}")
    st.caption("Each row reads the residual stream after that layer as if it were the last: LN_final(x) W_U + b_U, "
               "softmax. The last row is exactly the model's own prediction; rows above show how early the layers "
               "settle on it (hover a cell for the top 5).")


def render_lens(walk: Walk) -> None:
    shape = residuals(walk).anatomy
    if not shape.decoder_lm:
        st.info("The logit lens reads a decoder's next-token predictions: pick a decoder language model — a tiny "
                "GPT of this session, SmolLM2 (`make smollm2`), or GPT-2 online. Encoders such as MiniLM predict no "
                "next token.")
        return
    n = len(walk.str_tokens)
    span = _window(n)
    run = walk.run
    if run is None or run.trainer is None:
        _draw(walk, residuals(walk), span, "", (*walk.key, "forward"))
        return
    steps = snapshot_steps(run)
    choices = [NOW, *reversed(steps)]
    seed(LENS_STEP, NOW, valid=lambda v: v in choices)
    chosen = st.select_slider("Weights", choices, key=LENS_STEP, format_func=lambda s: "now (follows training)"
                              if s == NOW else f"step {s}", help="Scrub through the snapshots kept while it trained")
    if chosen != NOW:
        model = get_state().remember((run.id, chosen, "snapshot model"), lambda: model_at(run, chosen))
        record = get_state().remember((run.id, chosen, "forward", walk.text, "residuals"), lambda: record_residuals(
            model, walk.tokens, walk.str_tokens, name=walk.name))
        _draw(_with_model(walk, model), record, span, f" at step {chosen}", (run.id, chosen, walk.text, "forward"))
        return

    @st.fragment(run_every=live_tick_s(FOLLOW_EVERY) if run.trainer.is_running else None)
    def follow() -> None:
        model = frozen_model(run)
        step = run.analysis_step
        record = get_state().remember((run.id, step, "forward", walk.text, "residuals"), lambda: record_residuals(
            model, walk.tokens, walk.str_tokens, name=walk.name))
        _draw(_with_model(walk, model), record, span, f" at step {step}", (run.id, step, walk.text, "forward"))

    follow()


def _with_model(walk: Walk, model) -> Walk:
    return replace(walk, model=model)
