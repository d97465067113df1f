"""Circuits page, section "Whole model": copying scores, Q/K/V composition, head detectors, residual stream."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.attribution import decomposition_problem
from explorer.analysis.circuits import random_composition_baseline
from explorer.figures.circuits import (
    attribution_heatmap,
    composition_heatmap,
    head_scores_heatmap,
    logit_attribution_bars,
    paired_head_scores,
)
from explorer.ui.circuits.subject import CircuitModel, spinner_for
from explorer.ui.figure import show_figure
from explorer.ui.widget_state import seed, seed_choice

KIND = "circuits.map.kind"
DLA_TEXT = "circuits.map.dla_text"
DLA_POS = "circuits.map.dla_pos"
MAX_BARS = 40  # beyond this many components the bar chart keeps the largest

KIND_HELP = {
    "Q": "the earlier head's output feeds the later head's **queries** (where it looks from)",
    "K": "the earlier head's output feeds the later head's **keys** (what it looks for) — induction heads read a "
         "previous-token head this way",
    "V": "the earlier head's output feeds the later head's **values** (what it moves): a virtual head made of two",
}


def render_map(subject: CircuitModel) -> None:
    _copying(subject)
    _composition(subject)
    _head_detectors(subject)
    _decomposition(subject)


def _copying(subject: CircuitModel) -> None:
    st.subheader("Copying score of every head")
    if getattr(subject.model, "W_U", None) is None:
        st.info("This model is a classifier (no unembedding W_U): copying scores need token logits.")
        return
    with spinner_for(subject, "copying scores"):
        scores = subject.result("copying")
    show_figure(head_scores_heatmap(scores, f"{subject.name}: copying score Σλ / Σ|λ| of W_E W_OV W_U",
                                    "copying", signed=True), "circuits.map.copying", f"{subject.name}_copying_scores")
    st.caption("Elhage et al.'s copying score from the eigenvalues λ of each head's full OV circuit: +1 when "
               "attending to a token always raises that token's own logit, −1 when it lowers it. Computed from a "
               "d_head × d_head product per head, never from the vocab × vocab matrix.")


def _composition(subject: CircuitModel) -> None:
    st.subheader("How heads compose across layers")
    cfg = subject.config
    if cfg.n_layers < 2:
        st.info("Composition needs at least two layers: this model has one.")
        return
    seed_choice(KIND, ["Q", "K", "V"], "K")
    kind = st.segmented_control("Composition through", ["Q", "K", "V"], key=KIND,
                                format_func=lambda k: {"Q": "Q (queries)", "K": "K (keys)", "V": "V (values)"}[k])
    kind = kind or "K"
    with spinner_for(subject, f"{kind}-composition"):
        scores = subject.result("composition", kind)
    baseline = random_composition_baseline(cfg.d_model, cfg.d_head, kind)
    rows = (cfg.n_layers - 1) * cfg.n_heads
    show_figure(composition_heatmap(scores, kind, baseline), f"circuits.map.composition.{kind}",
                f"{subject.name}_{kind}_composition", height=min(1100, max(450, 12 * rows + 200)))
    st.caption(f"{kind}-composition: {KIND_HELP[kind]}. Score ‖W_OVᵃ·M‖ / (‖W_OVᵃ‖‖M‖) with M = W_QK (Q), W_QKᵀ (K) "
               f"or W_OV (V) of the later head: higher the more the later head reads the directions the earlier one "
               f"writes, 0 when it reads an orthogonal subspace (it reaches 1 only for rank-1 maps that line up "
               f"exactly, so heads of rank d_head score well below 1 even when they compose). Heads with random "
               f"weights score about {baseline:.2f} here (d_model {cfg.d_model}): compare with that, not with 0.")


def _head_detectors(subject: CircuitModel) -> None:
    st.subheader("Previous-token and induction heads")
    if problem := subject.can_run_tokens():
        st.info(problem)
        return
    low, high = subject.random_token_range()
    bos = subject.first_token()
    half_len = max(2, min(20, (subject.config.n_ctx - (bos is not None)) // 2))
    with spinner_for(subject, "attention on repeated random tokens"):
        measured = subject.result("induction", low, high, half_len, bos)
    show_figure(paired_head_scores(measured.prev_token, measured.induction,
                                   ("previous-token score", "induction score"),
                                   f"{subject.name}: heads on a random sequence of {half_len} tokens shown twice"),
                "circuits.map.detectors", f"{subject.name}_prev_token_and_induction_scores")
    layer, head = measured.best_induction_head
    st.caption(f"Sixteen random sequences of {half_len} tokens, each repeated. Previous-token score: mean attention "
               "to the position just before. Induction score: mean attention from each token of the repeat to the "
               f"token that followed it the first time. Highest induction score: L{layer}H{head} "
               f"({float(measured.induction[layer, head]):.2f}).")


def _decomposition(subject: CircuitModel) -> None:
    st.subheader("The residual stream as a sum of heads")
    if problem := decomposition_problem(subject.model) or subject.can_run_tokens():
        st.info(problem)
        return
    if getattr(subject.model, "W_U", None) is None:
        st.info("This model is a classifier: direct logit attribution needs a language-model head (W_U).")
        return
    seed(f"{DLA_TEXT}.{subject.key}", subject.example_text())
    text = st.text_input("Input", key=f"{DLA_TEXT}.{subject.key}")
    ids, notes = subject.encode(text)
    for note in notes:
        st.caption(f"⚠️ {note}")
    if len(ids) < 2:
        st.warning("Type at least two tokens: each position is scored on the token that follows it.")
        return
    all_kinds, attribution = subject.result("attribution", tuple(ids))
    names = subject.token_names(ids)
    positions = list(range(len(ids) - 1))
    seed_choice(DLA_POS, positions, positions[-1])  # the last position: the prediction a reader cares about
    pos = st.select_slider("Position", positions, key=DLA_POS,
                           format_func=lambda p: f"{p}: {names[p]} → {names[p + 1]}")
    values = attribution.per_component[:, pos]
    labels, kinds = attribution.labels, all_kinds
    if len(labels) > MAX_BARS:
        keep = values.abs().topk(MAX_BARS).indices.sort().values.tolist()
        labels, kinds, values = [labels[i] for i in keep], [kinds[i] for i in keep], values[keep]
    title = (f"Direct logit attribution to '{names[pos + 1]}' at position {pos} "
             f"(logit {float(attribution.logits[pos]):.2f})")
    show_figure(logit_attribution_bars(labels, kinds, values, float(attribution.constant[pos]), title),
                "circuits.map.dla_bars", f"{subject.name}_logit_attribution")
    st.caption("Each bar is what one component wrote into the residual stream, read through the final LayerNorm "
               "(its scale frozen for this input) and the unembedding: the bars add up to the logit of the next "
               "token." + (f" The {MAX_BARS} largest of {len(attribution.labels)} components are shown."
                           if len(attribution.labels) > MAX_BARS else ""))
    heads = [i for i, k in enumerate(all_kinds) if k == "head"]
    position_labels = [f"{p}:{names[p]}→{names[p + 1]}" for p in positions]
    show_figure(attribution_heatmap(attribution.per_component[heads], [attribution.labels[i] for i in heads],
                                    position_labels, "Every head's direct contribution to the next token"),
                "circuits.map.dla_heatmap", f"{subject.name}_logit_attribution_by_head")
