"""Attention: every layer and head of the session's transformers and of pretrained checkpoints."""

import streamlit as st

from explorer.ui.attention.bertviz import render_bertviz
from explorer.ui.attention.compare import render_compare
from explorer.ui.attention.finetune import render_finetune
from explorer.ui.attention.heads import (
    HEAD,
    HEADS_SECTION,
    LAYER,
    SECTION,
    pick_options,
    render_grid,
    render_heads,
)
from explorer.ui.attention.inputs import EXAMPLE_TEXT, default_run_texts, describe_subject, record_subject
from explorer.ui.attention.models import MODEL, choose_model, offer_small_run, render_opener
from explorer.ui.attention.sqrt_dk import render_sqrt_dk
from explorer.ui.links import apply_link, link_button, link_value
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

TEXT = "attention.text"
TARGET = "attention.target"
KIND = "attention.kind"
GRID, BERTVIZ, COMPARE, SQRT_DK = "🧩 Grid", "🕸️ bertviz", "⚖️ Compare", "√ Why √d_k"
FINETUNE = "🎯 Fine-tuning"

LINK_NAMES = {"section": SECTION, "layer": LAYER, "head": HEAD, "kind": KIND}
apply_link("attention", LINK_NAMES, subject_key=MODEL)
state = get_state()
st.title("👀 Attention heads")
st.caption("Each head computes A = softmax(QKᵀ/√d_k) over the tokens it may see, then mixes their values. Paste a "
           "text, find what each head does from the summaries, open a head, compare it, export it for a slide.")

top = st.columns([2, 3])
with top[0]:
    subject = choose_model()
with top[1]:
    render_opener()
if subject is None:
    offer_small_run()
    st.stop()
st.caption(describe_subject(subject))

run = subject.run
default_text, default_target = default_run_texts(run) if run else (EXAMPLE_TEXT, "")
default_text = str(link_value("attention", "text") or default_text)
default_target = str(link_value("attention", "target") or default_target)
seed(f"{TEXT}.{subject.key}", default_text)
text = st.text_area("Input" if not (run and run.config.encoder_decoder) else "Source (encoder input)",
                    key=f"{TEXT}.{subject.key}", height=90,
                    help="Up to 512 tokens are shown (MiniLM's context); longer texts are cut with a notice."
                    + (" Type <sep>, <bos>… for special tokens." if run else ""))
target = ""
if run and run.config.encoder_decoder:
    seed(f"{TARGET}.{subject.key}", default_target)
    target = st.text_area("Target (decoder input, after <bos>)", key=f"{TARGET}.{subject.key}", height=68)
last_good = ("attention", "last_text", subject.key)
if not text.strip():
    text, target = state.memo.get(last_good, (default_text, default_target))
    st.warning("The input is empty: showing the last text instead. Type or paste something to look at.")
recorded, error = record_subject(subject, text, target)
if recorded is None:
    st.error(error)
    st.stop()
state.memo[last_good] = (text, target)
for notice in recorded.notices:
    st.info(notice)

SECTIONS = [HEADS_SECTION, GRID, BERTVIZ, COMPARE, SQRT_DK, FINETUNE]
seed_choice(SECTION, SECTIONS, HEADS_SECTION)
controls = st.columns([5, 1.3], vertical_alignment="center")
section = controls[0].segmented_control("Show", SECTIONS, key=SECTION, required=True, label_visibility="collapsed")
with controls[1]:
    link_button("attention", {**LINK_NAMES, "text": f"{TEXT}.{subject.key}", "target": f"{TARGET}.{subject.key}"},
                run=run, pretrained=subject.pretrained)
if section == SQRT_DK:
    render_sqrt_dk()
    st.stop()
if section == FINETUNE:
    render_finetune(subject, text)
    st.stop()

sets = recorded.sets
if len(sets) > 1 and section != BERTVIZ:
    titles = {s.kind: s.title for s in sets}
    seed_choice(KIND, list(titles))
    kind = st.radio("Attention", list(titles), format_func=titles.get, key=KIND, horizontal=True)
    att = next(s for s in sets if s.kind == kind)
else:
    att = sets[0]
memo_key = ("attention", subject.key, subject.step, text, target, att.kind)
name = recorded.model_name

if section == COMPARE:
    layer = min(st.session_state.get(LAYER, 0) or 0, att.n_layers - 1)
    head = min(st.session_state.get(HEAD, 0) or 0, att.n_heads - 1)
    render_compare(subject, recorded, text, target, layer, head, memo_key)
    st.stop()

options = pick_options(att, subword=run is None, scope=(subject.key,))
if section == HEADS_SECTION:
    render_heads(att, options, memo_key, name)
elif section == GRID:
    render_grid(att, options, memo_key, name)
else:
    render_bertviz(sets, options.layers, memo_key)
