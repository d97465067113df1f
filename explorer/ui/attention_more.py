"""Attention page, sections "bertviz", "Compare" and "Why √d_k"."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.attention import AttentionSet, sqrt_dk_demo, sqrt_dk_example
from explorer.analysis.bertviz_offline import MAX_TOKENS, BertvizUnavailable, bertviz_html
from explorer.figures.attention import sqrt_dk_example_figure, sqrt_dk_figure
from explorer.ui.attention_heads import ViewOptions, head_figures
from explorer.ui.attention_inputs import (
    EXAMPLE_TEXT_B,
    Recorded,
    default_run_texts,
    is_attention_run,
    offered_pretrained,
    record_subject,
)
from explorer.ui.figure import show_figure
from explorer.ui.model_picker import Subject
from explorer.ui.state import PRETRAINED_PREFIX, get_state

BERTVIZ_VIEW = "attention.bertviz.view"
BERTVIZ_START = "attention.bertviz.start"
COMPARE_MODE = "attention.compare.mode"
COMPARE_TEXT = "attention.compare.text"
COMPARE_MODEL = "attention.compare.model"
COMPARE_LAYER = "attention.compare.layer"
COMPARE_HEAD = "attention.compare.head"
SQRT_KEYS = "attention.sqrt.n_keys"
SQRT_DK = "attention.sqrt.d_k"
TWO_INPUTS, TWO_MODELS = "Same head, two inputs", "Same input, two models"


def render_bertviz(sets: list[AttentionSet], layers: tuple[int, ...], memo_key: tuple) -> None:
    """bertviz's head view or model view, with d3 and jQuery inlined (works offline)."""
    c1, c2 = st.columns([2, 1])
    view = c1.radio("bertviz view", ["head", "model"], key=BERTVIZ_VIEW, horizontal=True,
                    format_func={"head": "Head view (one layer, lines per head)",
                                 "model": "Model view (every layer × head)"}.get)
    n = max(len(s.q_tokens) for s in sets)
    start = 0
    if n > MAX_TOKENS and sets[0].kind != "encoder":
        start = int(c2.number_input(f"First token drawn (of {n})", 0, n - 1, 0, step=MAX_TOKENS // 2,
                                    key=BERTVIZ_START))
    try:
        html, note = get_state().remember((*memo_key, "bertviz", view, start, layers),
                                          lambda: bertviz_html(sets, view, start, list(layers)))
    except BertvizUnavailable as err:
        st.error(str(err))
        return
    if note:
        st.info(note)
    n_drawn = min(n, MAX_TOKENS)
    height = 180 + 22 * n_drawn if view == "head" else 140 + 125 * len(layers)
    st.iframe(html, height=min(height, 2400))
    st.caption("bertviz (Vig 2019), drawn from the patterns above: in the head view hover a token to see where it "
               "looks, click a colour to show one head, double-click to show only it. Cross-attention appears as "
               "an extra view for encoder-decoder models. Runs fully offline.")


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
    mode = st.radio("Compare", [TWO_INPUTS, TWO_MODELS], key=COMPARE_MODE, horizontal=True)
    state = get_state()
    if mode == TWO_INPUTS:
        default = default_run_texts(subject.run)[0] if subject.run else EXAMPLE_TEXT_B
        if subject.run and subject.run.data is not None and not subject.run.data.is_stream \
                and len(subject.run.data.val.sources) > 1:
            tok, val = subject.run.tokenizer, subject.run.data.val
            default = tok.decode(val.sources[1], skip_special=False) if not val.targets else \
                tok.decode([*val.sources[1], tok.id_of("<sep>"), *val.targets[1]], skip_special=False)
        second_text = st.text_area("Second input", default, key=f"{COMPARE_TEXT}.{subject.key}", height=80)
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
        chosen = st.selectbox("Second model", list(choices), format_func=choices.get, key=COMPARE_MODEL)
        second = Subject(pretrained=chosen[len(PRETRAINED_PREFIX):]) if chosen.startswith(PRETRAINED_PREFIX) \
            else Subject(run=state.runs[chosen])
        c1, c2 = st.columns(2)
        other_layer = int(c1.number_input("Its layer", 0, 64, min(layer, 64), key=COMPARE_LAYER))
        other_head = int(c2.number_input("Its head", 0, 64, min(head, 64), key=COMPARE_HEAD))
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


def render_sqrt_dk() -> None:
    """The lecture's poll question: why divide the scores by √d_k?"""
    st.markdown(
        "For random queries and keys with independent unit-variance entries, the dot product q·k = Σᵢ qᵢkᵢ has "
        "variance d_k. Large scores push the softmax towards a one-hot vector, where its gradient "
        "diag(A) − AAᵀ is almost zero: learning stalls. Dividing by √d_k brings the variance back to 1.")
    c1, c2 = st.columns(2)
    n_keys = c1.slider("Keys per query", 2, 64, 16, key=SQRT_KEYS)
    d_k = c2.select_slider("d_k for the example", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], 256, key=SQRT_DK)
    state = get_state()
    curves = state.remember(("attention", "sqrt_dk", n_keys), lambda: sqrt_dk_figure(sqrt_dk_demo(n_keys=n_keys)))
    show_figure(curves, "attention.sqrt_dk", f"why_sqrt_dk_{n_keys}_keys")
    unscaled, scaled = sqrt_dk_example(d_k, n_keys=min(n_keys, 16))
    example = state.remember(("attention", "sqrt_example", d_k, n_keys),
                             lambda: sqrt_dk_example_figure(unscaled, scaled, d_k))
    show_figure(example, "attention.sqrt_example", f"sqrt_dk_example_{d_k}")
    st.caption(f"Averages over 512 random queries against {n_keys} keys each. Unscaled, the largest weight tends to "
               "1 and the gradient to 0 as d_k grows; scaled, both stay where they are for every d_k.")

