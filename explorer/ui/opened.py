"""What Home shows once a ready-trained model is opened: what it reached, its curve, and the pages to look at it.

Home's asset buttons open a model without leaving the page; this panel says it worked and where to go next. Its
curve is also the session's first plotly figure, so the browser has loaded plotly before the first analysis page.
"""

from __future__ import annotations

import streamlit as st

from explorer.figures.training import training_curves
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.plain_text import md_escape
from explorer.ui.state import get_state

OPENED = "home.opened"  # the id of the run opened last from Home

_RECURRENT = (("views/lstm.py", "Inside the RNN", "🔁"), ("views/embeddings.py", "Embeddings", "🗺️"))
_TRANSFORMER = (("views/attention.py", "Attention", "👀"), ("views/circuits.py", "Circuits", "🔌"))
PAGES_FOR = {  # asset key prefix → the pages that show what it learned, first the one to start with
    "lecture_lstm": _RECURRENT,
    "long_gap": (("views/lstm.py", "Inside the RNN", "🔁"),),
    "gpt_reverse": (*_TRANSFORMER, ("views/forward.py", "Forward pass", "🧮")),
    "induction_lab": (("views/circuits.py", "Circuits", "🔌"), ("views/attention.py", "Attention", "👀")),
    "positions": (("views/positions.py", "Positions", "📍"), ("views/attention.py", "Attention", "👀")),
}


def remember_opened(runs: list[Run]) -> None:
    """``asset_button``'s ``on_open``: the last run opened is the one the panel describes."""
    if runs:
        st.session_state[OPENED] = runs[-1].id


def pages_for(run: Run) -> tuple[tuple[str, str, str], ...]:
    """(page file, title, icon) of the pages worth opening for a ready-trained run; () when it is not one."""
    key = run.source.removeprefix("asset:") if run.source.startswith("asset:") else ""
    return next((pages for prefix, pages in PAGES_FOR.items() if key.startswith(prefix)), ())


def summary(run: Run) -> str:
    """One line (Markdown, the name escaped): the run's name, its step and its last validation figures."""
    trainer = run.trainer
    last = trainer.val_history[-1] if trainer is not None and trainer.val_history else {}
    figures = [f"validation accuracy {last['val_accuracy']:.1%}"] if last.get("val_accuracy") is not None else []
    if last.get("val_loss") is not None:
        figures.append(f"loss {last['val_loss']:.3f}")
    step = trainer.step_count if trainer is not None else 0
    return f"Opened **{md_escape(run.name)}** at step {step:,}" + (f": {', '.join(figures)}." if figures else ".")


def render_opened() -> None:
    """The panel for the model opened last from Home, while it is still among this session's runs."""
    state = get_state()
    run = state.runs.get(st.session_state.get(OPENED))
    if run is None or run.trainer is None:
        return
    with st.container(border=True):
        st.success(summary(run), icon="✅")
        pages = pages_for(run)
        if pages:
            cols = st.columns([0.8] + [1] * len(pages))
            cols[0].markdown("**Look inside:**")
            for col, (page, title, icon) in zip(cols[1:], pages):
                col.page_link(page, label=title, icon=icon)
        if run.trainer.history:
            metric = "accuracy"  # every run records it (token accuracy for a language model)
            frame = state.remember((run.id, run.trainer.step_count, len(run.trainer.history), "metrics"),
                                   run.trainer.metrics_frame)
            fig = state.remember((run.id, run.trainer.step_count, len(run.trainer.history), "home", metric),
                                 lambda: training_curves({run.name: frame}, metric,
                                                         title=f"{metric.capitalize()} while it was trained")
                                 .update_layout(height=260, margin=dict(t=40, b=30)))
            show_figure(fig, "home.opened", f"{run.name} {metric}")
