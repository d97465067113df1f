"""Forward pass page, section "Feed-forward": the neurons of one block — which fire for which tokens."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.forward.neurons import neurons, strongest_neurons, top_neurons_per_token, top_tokens_per_neuron
from explorer.figures.forward.neurons import neuron_heatmap, token_neurons_figure
from explorer.ui.figure import show_figure
from explorer.ui.forward.controls import Where, pick_position, position_window
from explorer.ui.forward.subject import Walk, layer_record
from explorer.ui.state import get_state

N_NEURONS = 16


def render_neurons(walk: Walk, where: Where) -> None:
    record = layer_record(walk, where.layer, where.stack)
    shape = record.anatomy
    if shape.d_mlp is None:
        st.info("This model is attention-only: its blocks have no feed-forward layer (the induction-head lab's "
                "models are built this way). Pick a model with MLPs to see neurons.")
        return
    layer = neurons(walk.model, record)
    tokens = walk.stack_tokens(where.stack)
    n = len(tokens)
    st.markdown(f"**{layer.formula}**, at every position separately: [T × d_model] = [{n} × {shape.d_model}] → "
                f"[{n} × {shape.d_mlp}] hidden neurons → [{n} × {shape.d_model}], added to the residual stream. "
                "A neuron is one column of the hidden layer; its row of W₂ is what it writes when it fires.")
    c1, c2 = st.columns([3, 1])
    span = position_window(n, where=c1)
    position = pick_position(tokens, span, label="Token", where=c2)
    rows = slice(*span)
    state = get_state()
    memo = (*walk.key, "forward", "neurons", where.stack, where.layer, span, position)
    strongest = strongest_neurons(layer.post[rows], N_NEURONS)
    fig = state.remember((*memo, "heatmap"), lambda: neuron_heatmap(
        layer.post[rows], tokens[rows], strongest, f"The {len(strongest)} most active neurons of layer {where.layer} "
        f"on this input — {walk.name}", first_row=span[0]))
    show_figure(fig, "forward.neurons", f"{walk.name}_L{where.layer}_neurons")
    left, right = st.columns([3, 2])
    with left:
        table = top_tokens_per_neuron(layer.post[rows], tokens[rows], strongest[:8], k=5)
        table["position"] += span[0]
        st.caption("Top-activating tokens per neuron (in the positions drawn)")
        st.dataframe(table, hide_index=True, width="stretch", height=320)
    with right:
        frame = top_neurons_per_token(layer.post, position, k=10)
        fig = state.remember((*memo, "token"), lambda: token_neurons_figure(
            frame, tokens[position], position, f"Top neurons at position {position}"))
        show_figure(fig, "forward.token_neurons", f"{walk.name}_L{where.layer}_neurons_at_{position}")
    error = float((layer.out - layer.recorded_out).abs().max())
    st.caption(f"The hidden layer is the model's own (mlp.hook_post); its output recomputed as hidden · W₂ + b₂ "
               f"differs from the model's hook_mlp_out by at most {error:.1e}.")
