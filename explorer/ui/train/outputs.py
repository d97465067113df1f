"""'What the model does now': sampled text for language models, predictions for seq2seq and classifiers."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.predictions import confusion_matrix, sample_text, validation_examples
from explorer.data.examples import prompt_text
from explorer.figures.text import generated_html
from explorer.figures.training import confusion_matrix_figure
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.fill_in import render_fill_in
from explorer.ui.frozen import frozen_model
from explorer.ui.live import live_tick_s
from explorer.ui.state import get_state
from explorer.ui.train.finetune_outputs import render_finetune_outputs
from explorer.ui.widget_state import seed

PROMPT = "outputs.prompt"
TEMPERATURE = "outputs.temperature"
LENGTH = "outputs.length"
GENERATE = "outputs.generate"
MAX_PROMPT_TOKENS = 2000
OUTPUTS_EVERY = 3  # while training, the predictions refresh every 3 live ticks (3 s alone; slower on a busy server)


def render_outputs(run: Run) -> None:
    """Predictions of the current weights; a fragment that follows training every few seconds."""
    interval = live_tick_s(OUTPUTS_EVERY) if run.trainer is not None and run.trainer.is_running else None

    @st.fragment(run_every=interval)
    def outputs() -> None:
        current = get_state().runs.get(run.id)
        if current is not None:
            _render(current)

    outputs()


def _render(run: Run) -> None:
    data = run.data
    if data is None:
        st.caption("The data of this checkpoint is not available, so there are no validation examples to show.")
        return
    if run.is_finetune:
        render_finetune_outputs(run)
    elif run.is_transformer and run.config.head == "mlm":
        render_fill_in("outputs", run=run)
    elif data.kind == "lm":
        _sampling(run)
    elif data.kind == "seq2seq":
        table = get_state().remember((run.id, run.analysis_step, "examples"),
                                     lambda: validation_examples(frozen_model(run), data))
        if not table.empty:
            st.caption(f"Greedy decoding of validation examples: {table['correct'].mean():.0%} fully correct.")
            st.dataframe(table, hide_index=True, width="stretch")
    else:
        _classifier(run)




def _sampling(run: Run) -> None:
    tok = run.tokenizer
    c1, c2, c3 = st.columns([3, 1, 1])
    seed(f"{PROMPT}.{run.id}", prompt_text(run.data))
    prompt = c1.text_area("Prompt", key=f"{PROMPT}.{run.id}", height=80)
    seed(f"{TEMPERATURE}.{run.id}", 0.8 if run.data.is_stream else 0.0)
    temperature = c2.slider("Temperature", 0.0, 2.0, step=0.1, key=f"{TEMPERATURE}.{run.id}",
                            help="0: always the most likely token; higher: more random")
    seed(f"{LENGTH}.{run.id}", 200 if run.data.is_stream else 20)
    length = c3.number_input("Tokens", 1, 500, key=f"{LENGTH}.{run.id}")
    ids, pieces, unknown = tok.encode_marked(prompt)
    if len(ids) > MAX_PROMPT_TOKENS:
        st.warning(f"The prompt has {len(ids):,} tokens; only the last {MAX_PROMPT_TOKENS:,} are used.")
        prompt = tok.decode(ids[-MAX_PROMPT_TOKENS:], skip_special=False)
    if any(unknown):
        missing = sorted({p for p, u in zip(pieces, unknown) if u})[:10]
        st.caption(f"Not in the vocabulary (read as <unk>): {', '.join(repr(m) for m in missing)}")
    key = (run.id, run.step, "sample", prompt, temperature, int(length))
    state = get_state()
    if st.button("✍️ Generate", key=GENERATE) or key in state.memo:
        text = state.remember(key, lambda: sample_text(frozen_model(run), tok, prompt, int(length), temperature))
        st.html(generated_html(prompt[-200:], text, tok.mode != "char"))


def _classifier(run: Run) -> None:
    state = get_state()
    data = run.data
    step = run.analysis_step
    table = state.remember((run.id, step, "examples"), lambda: validation_examples(frozen_model(run), data))
    matrix = state.remember((run.id, step, "confusion"), lambda: confusion_matrix(frozen_model(run), data))
    left, right = st.columns([3, 2])
    with left:
        st.caption("Validation examples and the predicted probability of each class; ‹words› in angle quotes "
                   "are not in the model's vocabulary (it reads them as <unk>).")
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"p(predicted)": st.column_config.ProgressColumn(min_value=0, max_value=1),
                                    "p(true)": st.column_config.ProgressColumn(min_value=0, max_value=1)})
    with right:
        if data.n_classes <= 30:
            fig = state.remember((run.id, step, "confusion figure"),
                                 lambda: confusion_matrix_figure(matrix, data.class_names))
            show_figure(fig, f"confusion.{run.id}", f"{run.name} confusion matrix")
        accuracy = matrix.trace() / max(matrix.sum(), 1)
        st.caption(f"Validation accuracy over {int(matrix.sum())} examples: {accuracy:.1%}")
