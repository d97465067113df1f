"""Attention page, section "Compare": the same head on two inputs, or the same input through two models."""

from __future__ import annotations

import streamlit as st

from explorer.ui.attention.heads import ViewOptions, head_figures
from explorer.ui.attention.inputs import (
    EXAMPLE_TEXT_B,
    Recorded,
    default_run_texts,
    is_attention_run,
    record_subject,
)
from explorer.ui.figure import show_figure
from explorer.ui.model_picker import Subject, offered_pretrained
from explorer.ui.state import PRETRAINED_PREFIX, get_state
from explorer.ui.widget_state import seed, seed_choice

COMPARE_MODE = "attention.compare.mode"
COMPARE_TEXT = "attention.compare.text"
COMPARE_MODEL = "attention.compare.model"
COMPARE_LAYER = "attention.compare.layer"
COMPARE_HEAD = "attention.compare.head"
TWO_INPUTS, TWO_MODELS = "Same head, two inputs", "Same input, two models"


def _second_record(subject: Subject, text: str, target: str) -> tuple[Recorded | None, str | None]:
    try:
        return record_subject(subject, text, target)
    except ValueError as err:
        return None, str(err)


def _compare_figure(recorded: Recorded, layer: int, head: int, label: str):
    att = recorded.sets[0]
    layer, head = min(layer, att.n_layers - 1), min(head, att.n_heads - 1)
    n_q, n_k = min(len(att.q_tokens), 96), min(len(att.k_tokens), 96)
    options = ViewOptions((0, n_q), (0, n_k), False, (), ())
    fig, _ = head_figures(att, layer, head, options, label)
    return fig, (layer, head), n_q < len(att.q_tokens)


def render_compare(subject: Subject, recorded: Recorded, text: str, target: str, layer: int, head: int,
                   memo_key: tuple) -> None:
    """The same head on two inputs, or the same input through two models, side by side."""
    seed_choice(COMPARE_MODE, [TWO_INPUTS, TWO_MODELS])
    mode = st.radio("Compare", [TWO_INPUTS, TWO_MODELS], key=COMPARE_MODE, horizontal=True)
    state = get_state()
    if mode == TWO_INPUTS:
        default = default_run_texts(subject.run, index=1)[0] if subject.run else EXAMPLE_TEXT_B
        seed(f"{COMPARE_TEXT}.{subject.key}", default)
        second_text = st.text_area("Second input", key=f"{COMPARE_TEXT}.{subject.key}", height=80)
        if not second_text.strip():
            st.warning("The second input is empty: type something to compare with.")
            return
        other, error = _second_record(subject, second_text, target)
        pairs = [(recorded, "input 1"), (other, "input 2")]
        signature = second_text
    else:
        runs = [r for r in state.runs.values() if is_attention_run(r) and r.id != subject.key]
        choices = {r.id: f"🧪 {r.name}" for r in runs}
        choices.update({PRETRAINED_PREFIX + n: f"📦 {n}" for n in offered_pretrained() if
                        PRETRAINED_PREFIX + n != subject.key})
        if not choices:
            st.info("Train a transformer (Train page) or open a pretrained model to compare with.")
            return
        seed_choice(COMPARE_MODEL, list(choices))
        chosen = st.selectbox("Second model", list(choices), format_func=choices.get, key=COMPARE_MODEL)
        second = Subject(pretrained=chosen[len(PRETRAINED_PREFIX):]) if chosen.startswith(PRETRAINED_PREFIX) \
            else Subject(run=state.runs[chosen])
        c1, c2 = st.columns(2)
        seed(COMPARE_LAYER, min(layer, 64))
        seed(COMPARE_HEAD, min(head, 64))
        other_layer = int(c1.number_input("Its layer", 0, 64, key=COMPARE_LAYER))
        other_head = int(c2.number_input("Its head", 0, 64, key=COMPARE_HEAD))
        other, error = _second_record(second, text, target)
        pairs = [(recorded, recorded.model_name), (other, choices[chosen][2:])]
        signature = chosen + (f"@{second.run.step}" if second.run else "")
    if other is None:
        st.error(error or "The second model could not run on this input.")
        return
    for notice in other.notices:
        st.info(notice)
    columns = st.columns(2)
    for i, (column, (rec, label)) in enumerate(zip(columns, pairs)):
        want = (layer, head) if i == 0 or mode == TWO_INPUTS else (other_layer, other_head)
        fig, (used_layer, used_head), cut = state.remember(
            (*memo_key, "compare", mode, i, want, signature), lambda rec=rec, label=label, want=want:
            _compare_figure(rec, *want, label))
        with column:
            show_figure(fig, f"attention.compare.{i}", f"compare_{label}_L{used_layer}H{used_head}")
            if (used_layer, used_head) != want:
                st.caption(f"This model has no layer {want[0]} / head {want[1]}: showing L{used_layer}H{used_head}.")
            if cut:
                st.caption("The first 96 positions are shown.")
    st.caption("Each model reads the text with its own tokenizer, so the rows and columns can differ. Export both "
               "for a slide with their ⬇️ buttons.")
