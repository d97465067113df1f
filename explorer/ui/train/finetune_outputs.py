"""The Train page's 'what the model does now' for a fine-tuning run: validation texts with their predicted
probabilities, and the confusion matrix."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.finetune_predictions import finetune_confusion, finetune_examples
from explorer.figures.training import confusion_matrix_figure
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.state import get_state


def render_finetune_outputs(run: Run) -> None:
    state = get_state()
    data = run.data
    step = run.analysis_step
    table = state.remember((run.id, step, "examples"), lambda: finetune_examples(frozen_model(run), data))
    matrix = state.remember((run.id, step, "confusion"), lambda: finetune_confusion(frozen_model(run), data))
    left, right = st.columns([3, 2])
    with left:
        st.caption("Validation texts (never trained on) and the predicted probability of each class")
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"p(predicted)": st.column_config.ProgressColumn(min_value=0, max_value=1),
                                    "p(true)": st.column_config.ProgressColumn(min_value=0, max_value=1)})
    with right:
        fig = state.remember((run.id, step, "confusion figure"),
                             lambda: confusion_matrix_figure(matrix, data.class_names))
        show_figure(fig, f"confusion.{run.id}", f"{run.name} confusion matrix")
        st.caption(f"Validation accuracy over {int(matrix.sum())} texts: {matrix.trace() / max(matrix.sum(), 1):.1%}")
