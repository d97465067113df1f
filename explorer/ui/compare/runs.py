"""Compare page: which runs to compare (a seeded multiselect), their overlaid curves and the results table."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.pretraining_gain import gain_table
from explorer.analysis.runs_table import results_table
from explorer.figures.training import training_curves
from explorer.training.run import Run
from explorer.ui.compare.lecture import render_lecture_table
from explorer.ui.figure import show_figure
from explorer.ui.finetuned import COMPARE_RUNS
from explorer.ui.live import live_tick_s
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed_choice, seed_many, set_value

RUNS = COMPARE_RUNS  # other pages select runs here with explorer.ui.finetuned.select_for_compare
METRIC = "compare.metric"
METRICS = ["loss", "accuracy"]


def select_runs(run_ids: list[str]) -> None:
    """Show exactly these runs (e.g. those a button just created) the next time the picker is drawn."""
    set_value(RUNS, list(run_ids))  # as explorer.ui.finetuned.select_for_compare


def trained_runs() -> list[Run]:
    return [r for r in get_state().runs.values() if r.trainer is not None]


def pick_runs(runs: list[Run]) -> list[Run]:
    """The multiselect over the session's runs; by default those on the current run's data (else all)."""
    state = get_state()
    ids = [r.id for r in runs]
    current = state.current_run
    default = [r.id for r in runs if current and r.data_name == current.data_name] or ids
    seed_many(RUNS, ids, default)
    chosen_ids = st.multiselect("Runs", ids, key=RUNS, format_func=lambda i: state.runs[i].name)
    chosen = [state.runs[i] for i in chosen_ids if i in state.runs]
    if len({r.data_name for r in chosen}) > 1:
        st.warning("These runs use different data: their losses are not directly comparable.")
    return chosen


def render_runs(chosen: list[Run]) -> None:
    """Curves and tables, redrawn while any of the chosen runs trains."""

    @st.fragment(run_every=live_tick_s(2) if any(r.trainer.is_running for r in chosen) else None)
    def curves() -> None:
        present = [r for r in chosen if r.id in get_state().runs]
        seed_choice(METRIC, METRICS)
        metric = st.radio("Curve", METRICS, key=METRIC, horizontal=True)
        frames = {r.name: r.trainer.metrics_frame() for r in present}
        n = len(frames)
        show_figure(training_curves(frames, metric, title=f"{metric.capitalize()} of {n} run{'' if n == 1 else 's'}"),
                    "compare.curves", f"comparison_{metric}")
        st.dataframe(results_table(present), hide_index=True, width="stretch",
                     column_config={"validation accuracy": st.column_config.NumberColumn(format="percent"),
                                    "best validation accuracy": st.column_config.NumberColumn(format="percent"),
                                    "tokens/s": st.column_config.NumberColumn(format="%.0f")})
        render_lecture_table(present)
        gains = gain_table(present)
        if not gains.empty:
            st.markdown("**The pre-training gain** (each classifier fine-tuned from a model pre-trained here, beside "
                        "the same model trained from scratch; best held-out accuracy and its step)")
            st.dataframe(gains, hide_index=True, width="stretch")

    curves()
