"""Section 3 of the Positions page: learned position tables (a trained run's W_pos, MiniLM's 512 × 384)."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.positions.sinusoidal import cosine_similarity, pca
from explorer.analysis.positions.tables import learned_formation, learned_table_at, position_table, positions_used
from explorer.figures.positions.sinusoidal import similarity_heatmap, table_heatmap
from explorer.figures.positions.tables import formation_figure, projection_figure
from explorer.training.run import Run
from explorer.training.snapshots import snapshot_steps
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.positions.common import MINILM, Chosen, choose, installed_pretrained, offer_gpt
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

MODEL = "positions.learned.model"
ROWS = "positions.learned.rows"
DIMS = "positions.learned.dims"
STEP = "positions.learned.step"
TRAIN = "positions.learned.train"
FAR = 8


def is_learned(run: Run) -> bool:
    return run.is_transformer and run.config.positional == "learned"


def render() -> None:
    st.markdown("A learned table gives every position its own trained vector (GPT-2, BERT). Nothing forces it to be "
                "smooth, bounded or shift-friendly — yet trained tables often are: neighbours end up alike and the "
                "positions trace a smooth curve.")
    chosen = choose(MODEL, is_learned, installed_pretrained(MINILM), "Model with a learned table")
    if chosen is None:
        offer_gpt(TRAIN, "learned", "No run with learned positions in this session. Train one and watch its table "
                                    "form here.")
        return
    table = position_table(chosen.model)  # [n_ctx, d_model]
    n_rows = table.shape[0]
    n_used = positions_used(chosen.run) if chosen.run is not None else n_rows
    if chosen.run is not None and n_used < n_rows:
        st.caption(f"The training data fills positions 0–{n_used - 1} of the {n_rows} rows: the others never "
                   "receive a gradient and keep their random start.")
    seed(f"{ROWS}.{chosen.label}", min(n_rows, max(n_used, 2) if chosen.run else n_rows),
         valid=lambda v: 2 <= v <= n_rows)
    shown = st.slider("Positions shown", 2, n_rows, key=f"{ROWS}.{chosen.label}")
    state = get_state()
    sub = table[:shown]
    left, right = st.columns(2)
    with left:
        fig = state.remember(("positions.learned.heat", *chosen.key, shown), lambda: table_heatmap(
            sub, f"W_pos: {shown} positions × {table.shape[1]} dimensions",
            n_trained=n_used if chosen.run is not None else None))
        show_figure(fig, "positions.learned.table", "learned_table")
    with right:
        fig = state.remember(("positions.learned.sim", *chosen.key, shown), lambda: similarity_heatmap(
            cosine_similarity(sub), "Cosine similarity of learned positions"))
        show_figure(fig, "positions.learned.similarity", "learned_similarity")
    seed_choice(DIMS, ["2D", "3D"])
    dims = st.radio("Projection", ["2D", "3D"], horizontal=True, key=DIMS)
    n_comp = 3 if dims == "3D" else 2
    projection = state.remember(("positions.learned.pca", *chosen.key, min(shown, n_used), n_comp),
                                lambda: pca(table[:min(shown, n_used)], n_comp))
    show_figure(projection_figure(projection.coords, projection.explained, f"Learned positions of {chosen.label}"),
                "positions.learned.projection", "learned_projection")
    st.caption("Consecutive positions are joined by a line. A smooth curve means each position is a small step "
               "from the previous one — the model learned an ordering without being told. Only positions seen in "
               "training are projected.")
    if chosen.run is not None and chosen.run.trainer is not None:
        _formation(chosen, n_used)


def _formation(chosen: Chosen, n_used: int) -> None:
    run = chosen.run
    st.subheader("How the table forms during training")
    training = run.trainer.is_running

    @st.fragment(run_every=live_tick_s(4) if training else None)
    def formation() -> None:
        steps = snapshot_steps(run)
        state = get_state()
        frame = state.remember(("positions.learned.formation", run.id, tuple(steps)),
                               lambda: learned_formation(run, n_used, FAR))
        show_figure(formation_figure(frame, f"Neighbouring positions grow alike ({run.name})"),
                    "positions.learned.formation", "learned_formation")
        if len(steps) < 2:
            st.caption("Snapshots appear as the run trains.")
            return
        seed_choice(f"{STEP}.{run.id}", steps, steps[-1])
        step = st.select_slider("Snapshot (training step)", steps, key=f"{STEP}.{run.id}")
        fig = state.remember(("positions.learned.snap", run.id, step), lambda: similarity_heatmap(
            cosine_similarity(learned_table_at(run, step)[:n_used]), f"Cosine similarity at step {step}"))
        show_figure(fig, "positions.learned.snapshot", f"learned_similarity_step{step}")
        st.caption("At step 0 the rows are random (similarities near 0 off the diagonal); training pulls neighbours "
                   "together, which shows as a bright band along the diagonal.")

    formation()
