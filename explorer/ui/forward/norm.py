"""Forward pass page, section "Add & Norm": the residual addition, LayerNorm on one token's vector, LayerNorm's axis
beside BatchNorm's, and where the norm sits (pre-LN or post-LN, the option the Train page offers)."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.forward.norm import following_norm, norm_axes, norm_steps
from explorer.figures.forward.norm import norm_axes_figure, norm_steps_figure
from explorer.ui.figure import show_figure
from explorer.ui.forward.controls import Where, pick_position, position_window
from explorer.ui.forward.subject import Walk, layer_record
from explorer.ui.state import get_state

PRE_POST = (
    "**Where the norm sits.** Post-LN (the original transformer and BERT, as the decks draw it): "
    "x ← LN(x + Attn(x)), then x ← LN(x + FFN(x)) — the stream itself is normalised after every addition. Pre-LN "
    "(GPT-2, SmolLM2, this app's default): x ← x + Attn(LN(x)), x ← x + FFN(LN(x)), one final LN before W_U — the "
    "stream keeps the plain sum and each sub-layer reads a normalised copy, which trains more stably in deep models "
    "(Xiong et al. 2020). Train both on the Train page (Hyperparameters → LayerNorm position) and overlay their "
    "curves on the Compare page.")


def render_norm(walk: Walk, where: Where) -> None:
    record = layer_record(walk, where.layer, where.stack)
    shape = record.anatomy
    st.markdown(PRE_POST)
    params, name, recorded = following_norm(walk.model, record)
    if params is None:
        st.info("This model has no LayerNorm (switched off when it was built): resid_mid goes on as it is.")
        return
    tokens = walk.stack_tokens(where.stack)
    n = len(tokens)
    c1, c2 = st.columns([3, 1])
    span = position_window(n, where=c1)
    position = pick_position(tokens, span, label="Token", where=c2)
    x = record["hook_resid_mid"]  # [T, d_model]: the "Add": resid_pre + attention output
    steps = norm_steps(params, x[position], name, None if recorded is None else recorded[position])
    kind = "RMSNorm" if params.kind == "rmsnorm" else "LayerNorm"
    st.markdown(f"**Add:** resid_mid = resid_pre + Attn(…) — then **Norm:** {name}, on each token's vector of "
                f"d_model = {shape.d_model} features.")
    state = get_state()
    memo = (*walk.key, "forward", "norm", where.stack, where.layer, position, span)
    fig = state.remember((*memo, "steps"), lambda: norm_steps_figure(
        steps, tokens[position], f"{kind} on one token — {walk.name}, layer {where.layer}, position {position}"))
    show_figure(fig, "forward.norm_steps", f"{walk.name}_L{where.layer}_norm_{position}")
    if recorded is not None:
        error = float((steps.output - recorded[position]).abs().max())
        st.caption(f"Computed by hand here: μ = {steps.mean:.4f}, σ² = {steps.variance:.4f}, ε = {steps.eps:g}; the "
                   f"largest difference from the model's own output (hook_normalized, open circles) is {error:.1e}.")
    rows = slice(*span)
    axes = norm_axes(x[rows])
    fig = state.remember((*memo, "axes"), lambda: norm_axes_figure(
        axes, tokens[rows], f"Per token, not per batch — resid_mid of layer {where.layer}", first_row=span[0]))
    show_figure(fig, "forward.norm_axes", f"{walk.name}_L{where.layer}_norm_axes")
    st.caption("LayerNorm standardises each row: one token's features, with that token's own μ and σ (right), so "
               "it works the same on one token, one sentence or a batch. BatchNorm would standardise each column: one "
               "feature across all the tokens of a batch (below), so a token's result would depend on the other "
               "examples in its batch — awkward for sequences of varying length and for generating one token at a "
               "time.")
