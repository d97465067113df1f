"""Fine-tuning page: pre-train an encoder of this app on raw text (masked LM, or next token on the same model size),
then fine-tune it on sentiment against the same model from scratch, and read the pre-training gain."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.pretraining_gain import gain_table
from explorer.training.presets import MLM_PRESET, NEXT_TOKEN_PRESET, PRESETS
from explorer.training.pretraining import can_be_fine_tuned, fine_tune_pair
from explorer.training.run import Run, new_run
from explorer.ui.finetune.data import pang_lee_ready, reviews_as_text, sentences
from explorer.ui.finetuned import select_for_compare
from explorer.ui.state import NoRoom, get_state
from explorer.ui.widget_state import seed_choice

PRETRAINED = "finetune.pretrain.model"
PAIR = "finetune.pretrain.pair"
OBJECTIVES = {"mlm": MLM_PRESET, "next": NEXT_TOKEN_PRESET}


def is_masked_lm(run: Run) -> bool:
    return run.is_transformer and run.config.head == "mlm"


def _pretrain(objective: str) -> None:
    state = get_state()
    if problem := state.room_for(1):
        state.notice = problem
        return
    data = reviews_as_text()
    preset = OBJECTIVES[objective]
    model_cfg, train_cfg = PRESETS[preset].build(data)
    try:
        run = new_run(state.unique_name(f"{preset.split(' (')[0]} · {data.name}"), data, model_cfg, train_cfg,
                      preset=preset)
        state.add_run(run)
    except (ValueError, NoRoom) as err:
        state.notice = f"Could not start the run: {err}"
        return
    run.trainer.start()


def start_pretraining(key: str, objective: str) -> None:
    """A button that pre-trains the objective's preset on the Pang & Lee reviews read as raw text."""
    if pang_lee_ready(key):
        label = "masked-LM encoder" if objective == "mlm" else "next-token model of the same size"
        st.button(f"▶️ Pre-train a {label} on the 1,500 movie reviews (as text)", key=f"{key}.{objective}",
                  on_click=_pretrain, args=(objective,), type="primary" if objective == "mlm" else "secondary")


def _fine_tune(run_id: str) -> None:
    state = get_state()
    pretrained = state.runs.get(run_id)
    if pretrained is None:
        return
    if problem := state.room_for(2):
        state.notice = problem
        return
    try:
        tuned, scratch = fine_tune_pair(pretrained, sentences(), (
            state.unique_name(f"{pretrained.name} → fine-tuned"),
            state.unique_name(f"{pretrained.name} → from scratch")))
        pretrained.trainer.pause()  # its weights were copied; the CPU goes to the pair
        state.add_run(tuned)
        state.add_run(scratch, make_current=False)
    except (ValueError, NoRoom) as err:
        state.notice = f"Could not start the runs: {err}"
        return
    tuned.trainer.start()
    scratch.trainer.start()
    select_for_compare([tuned.id, scratch.id])


def render_pretrain() -> None:
    st.markdown(
        "BERT and GPT learned language from raw text before they saw a task: **masked LM** hides 15 % of the "
        "tokens and predicts them from both sides; **next token** predicts every token from the ones before. "
        "Do it here at the app's scale: pre-train the encoder classifier's model (2 layers, 4 heads, d_model 64) "
        "on the 1,500 full movie reviews read as text, then fine-tune it on the 4,000 review *sentences* (another "
        "source: no sentence it is tested on was read during pre-training) against the same model from scratch.")
    st.caption("Masked LM learns from the 15 % of positions it chose; next-token prediction gets a loss at every "
               "position — more learning signal per batch, the argument for GPT-style pre-training — but each token "
               "sees only its left side.")
    state = get_state()
    c1, c2 = st.columns(2)
    with c1:
        start_pretraining("finetune.pretrain", "mlm")
    with c2:
        start_pretraining("finetune.pretrain", "next")
    candidates = [r for r in state.runs.values() if can_be_fine_tuned(r) and r.trainer is not None]
    if not candidates:
        return
    ids = [r.id for r in candidates]
    seed_choice(PRETRAINED, ids, ids[-1])
    chosen = st.selectbox("Pre-trained model", ids, key=PRETRAINED,
                          format_func=lambda i: f"{state.runs[i].name} · step {state.runs[i].step} · "
                                                f"{state.runs[i].status}")
    run = state.runs[chosen]
    last = run.trainer.val_history[-1] if run.trainer.val_history else None
    if last:
        what = "masked tokens" if is_masked_lm(run) else "next tokens"
        st.caption(f"Held-out loss {last['val_loss']:.3f}, {last['val_accuracy']:.1%} of the {what} right "
                   f"(step {last['step']}).")
    if pang_lee_ready(PAIR):
        st.button("🎯 Fine-tune this model on sentiment, against a from-scratch twin", key=PAIR, type="primary",
                  on_click=_fine_tune, args=(chosen,))
    table = gain_table(list(state.runs.values()))
    if not table.empty:
        st.dataframe(table, hide_index=True, width="stretch")
        st.page_link("views/compare.py", label="Overlay their curves on the Compare page", icon="⚖️")
