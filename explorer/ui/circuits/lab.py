"""Circuits page, section "Induction-head lab": one click trains a 2-layer attention-only model; the page follows
the phase change live (loss on each copy, head scores, K-composition, the best head's pattern), then scrubs
through the run's snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
import torch

from explorer.analysis.circuits import composition_scores, random_composition_baseline
from explorer.analysis.induction import InductionMeasurement, RepeatedTokens, measure_induction
from explorer.data.dataset import TaskData
from explorer.figures.circuits import (
    composition_heatmap,
    copy_loss_curves,
    paired_head_scores,
    pattern_heatmap,
    score_curves,
)
from explorer.training.induction_lab import LabSpec, create_lab_run, is_lab_run, lab_task, probe_for
from explorer.training.run import Run
from explorer.training.snapshots import model_at, snapshot_steps
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.live import live_tick_s
from explorer.ui.quickstart import asset_button, run_button
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice, set_value

START = "circuits.lab.start"
RUN = "circuits.lab.run"
STEP = "circuits.lab.step"
PAUSE = "circuits.lab.pause"
RESUME = "circuits.lab.resume"
PATTERN_HEIGHT = 640  # px: 33 × 33 cells stay square-ish and every token label readable


@st.cache_resource(show_spinner="Generating 20,000 repeated random sequences…")
def _lab_data() -> TaskData:
    return lab_task(LabSpec())  # read-only, shared: every lab run formats its own tensors from it


def _start_lab() -> None:
    state = get_state()
    n_lab = sum(is_lab_run(r) for r in state.runs.values())
    run = create_lab_run(state.unique_name("Induction lab"), data=_lab_data(), seed=n_lab)
    state.add_run(run)
    run.trainer.start()
    set_value(RUN, run.id)


@dataclass
class LabState:
    """What the lab shows for one model state."""

    step: int
    measured: InductionMeasurement
    k_composition: torch.Tensor  # [n_heads (layer 0), n_heads (layer 1)]


def _measure(run: Run, model, step: int, probe: RepeatedTokens) -> LabState:
    measured = measure_induction(model, probe)
    k_comp = composition_scores(model, "K")[0, :, 1, :] if run.config.n_layers > 1 else torch.zeros(1, 1)
    return LabState(step, measured, k_comp)


def _history(run: Run, probe: RepeatedTokens) -> dict[int, tuple[int, LabState]]:
    """Measurements of every kept snapshot, filled in incrementally: {step: (snapshot identity, state)}."""
    history = get_state().remember((run.id, "circuits.lab.history"), dict)
    snapshots = run.trainer.snapshots
    for step in list(history):
        if step not in snapshots or history[step][0] != id(snapshots[step]):
            del history[step]  # thinned out of the ring, or the run was reset
    for step in snapshot_steps(run):
        if step not in history:
            history[step] = (id(snapshots[step]), _measure(run, model_at(run, step), step, probe))
    return history


def _frame(states: list[LabState]) -> pd.DataFrame:
    rows = []
    for s in sorted(states, key=lambda s: s.step):
        m = s.measured
        rows.append({"step": s.step, "loss_first": m.loss_first, "loss_second": m.loss_second,
                     "prev_token": float(m.prev_token[0].max()),
                     "induction": float(m.induction[1:].max()) if m.induction.shape[0] > 1 else float("nan"),
                     "k_composition": float(s.k_composition.max())})
    return pd.DataFrame(rows)


def render_lab() -> None:
    state = get_state()
    st.markdown(
        "Train a **2-layer, attention-only transformer** on sequences in which a random stretch of symbols appears "
        "twice. The first copy is pure noise; the second can be predicted only in context: find where the current "
        "symbol appeared before and copy what came next. Two heads do it together — a *previous-token head* in "
        "layer 0 and an *induction head* in layer 1 that reads it through **K-composition**. Watch the loss on "
        "the repeat fall suddenly (the phase change) as the induction head appears.")
    lab_runs = [r for r in state.runs.values() if is_lab_run(r)]
    c1, c2 = st.columns([2, 3])
    with c1:
        if not lab_runs:
            asset_button(("induction_lab",), f"{START}.asset", "⚡ Open a trained lab model (instant)",
                         on_open=lambda runs: set_value(RUN, runs[-1].id))
        run_button("▶️ Train the induction lab model" if not lab_runs else "➕ Start another lab run", START, 1,
                   on_click=_start_lab, primary=not lab_runs)
    c2.caption("2 layers × 4 heads, d_model 64, no MLPs, learned positions · 30 symbols, repeats of 4-16 symbols "
               "at random places · Adam 3e-3, batch 64, 2,000 steps (a few minutes on a laptop CPU; the phase change "
               "comes after about 500 steps, within the first minute).")
    if not lab_runs:
        return
    ids = [r.id for r in lab_runs]
    seed_choice(RUN, ids, state.current if state.current in ids else ids[-1])
    if len(ids) > 1:
        st.selectbox("Lab run", ids, key=RUN, format_func=lambda i: state.runs[i].name)
    run = state.runs[st.session_state[RUN]]
    _live(run)


def _live(run: Run) -> None:
    _controls(run)
    interval = live_tick_s(2) if run.trainer.is_running else None

    @st.fragment(run_every=interval)
    def live() -> None:
        current = get_state().runs.get(run.id)
        if current is None:
            st.info("This lab run was closed.")
            return
        _draw(current)

    live()


def _controls(run: Run) -> None:
    """Pause / resume (outside the live fragment: they change what ticks, so the whole page reruns)."""
    trainer = run.trainer
    c1, c2 = st.columns([1, 5])
    if trainer.is_running:
        c1.button("⏸️ Pause", key=PAUSE, on_click=trainer.pause, width="stretch")
        c2.caption("🟢 Training in the sidebar's loop (it goes on while you visit other pages); the figures follow "
                   "every second. Pause to scrub through the snapshots.")
    else:
        c1.button("▶️ Resume", key=RESUME, on_click=trainer.start, width="stretch",
                  disabled=trainer.status in ("done", "diverged"))
        if trainer.status == "diverged":
            c2.error(trainer.message)
        else:
            c2.caption("Scrub through the snapshots kept during training with the slider below.")


def _draw(run: Run) -> None:
    trainer = run.trainer
    st.progress(min(1.0, trainer.step_count / trainer.config.max_steps),
                text=f"Step {trainer.step_count:,} of {trainer.config.max_steps:,}")
    probe = probe_for(run)
    state = get_state()
    history = _history(run, probe)
    now = state.remember((run.id, run.step, "circuits.lab.now"),
                         lambda: _measure(run, frozen_model(run, exact=True), run.step, probe))
    states = {step: s for step, (_, s) in history.items()} | {now.step: now}
    steps = sorted(states)
    chosen = now.step
    if not run.trainer.is_running and len(steps) > 1:
        seed_choice(STEP, steps, steps[-1])
        chosen = st.select_slider("Training step (snapshots)", steps, key=STEP)
    shown = states[chosen]
    frame = _frame(list(states.values()))
    marker = chosen if chosen != steps[-1] else None
    left, right = st.columns(2)
    with left:
        show_figure(copy_loss_curves(frame, marker), "circuits.lab.losses", f"{run.name}_loss_per_copy")
    with right:
        show_figure(score_curves(frame, marker), "circuits.lab.scores", f"{run.name}_head_scores_over_training")
    _state_panels(run, shown, probe)


def _state_panels(run: Run, shown: LabState, probe: RepeatedTokens) -> None:
    m = shown.measured
    layer, head = m.best_induction_head
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Loss, first copy", f"{m.loss_first:.2f}", help="Random symbols: about ln(30) = 3.40 at best")
    c2.metric("Loss, repeat", f"{m.loss_second:.2f}", delta=f"{m.loss_second - m.loss_first:+.2f} vs first copy",
              delta_color="inverse")
    c3.metric("Best induction head · score", f"L{layer}H{head} · {float(m.induction[layer, head]):.2f}",
              help="Mean attention from each symbol of the repeat to the symbol after its first occurrence")
    p_layer, p_head = m.best_prev_token_head
    c4.metric("Best previous-token head · score", f"L{p_layer}H{p_head} · {float(m.prev_token[p_layer, p_head]):.2f}",
              help="Mean attention to the position just before")
    left, right = st.columns(2)
    with left:
        show_figure(paired_head_scores(m.prev_token, m.induction, ("previous-token score", "induction score"),
                                       f"Every head at step {shown.step}"),
                    "circuits.lab.detectors", f"{run.name}_step{shown.step}_head_scores")
    with right:
        scores = torch.full((2, run.config.n_heads, 2, run.config.n_heads), float("nan"))
        scores[0, :, 1, :] = shown.k_composition
        baseline = random_composition_baseline(run.config.d_model, run.config.d_head, "K")
        show_figure(composition_heatmap(scores, "K", baseline,
                                        title=f"K-composition, layer 0 → layer 1, step {shown.step}"),
                    "circuits.lab.k_comp", f"{run.name}_step{shown.step}_K_composition")
    tokens = run.tokenizer.to_str_tokens(probe.tokens[0].tolist())
    show_figure(pattern_heatmap(m.example_patterns[layer, head], tokens,
                                f"Attention of L{layer}H{head} on a repeated sequence (step {shown.step})",
                                stripe=(probe.start + probe.half_len, probe.half_len - 1)),
                "circuits.lab.pattern", f"{run.name}_step{shown.step}_L{layer}H{head}_pattern", height=PATTERN_HEIGHT)
    st.caption("Squares: where a perfect induction head attends — from each symbol of the repeat to the symbol that "
               "followed it the first time. Before the phase change the head looks at the <bos> token or nearby "
               "positions; after it, the stripe lights up.")
