"""Forward pass page, section "One head": X → Q, K, V → QKᵀ → ÷√d_k → mask → softmax → A·V → concat → W_O → + residual,
each matrix with its real numbers and shape; the no-projection switch and the database-lookup reading."""

from __future__ import annotations

import streamlit as st
import torch

from explorer.analysis.attention import downsample
from explorer.analysis.forward.head import HeadSteps, head_steps, no_projection
from explorer.analysis.forward.lookup import FRUIT_KEYS, fruit_lookup
from explorer.figures.attention import pattern_heatmap, scores_heatmap
from explorer.figures.forward.matrices import comparison_patterns, lookup_figure, matrix_heatmap, query_row_figure
from explorer.ui.figure import show_figure
from explorer.ui.forward.controls import Where, pick_position, position_window
from explorer.ui.forward.subject import Walk, layer_record
from explorer.ui.plain_text import html_text, md_escape
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

NO_PROJECTION = "forward.no_projection"
OVERVIEW = "forward.overview"
LOOKUP_WANTED = "forward.lookup.wanted"
LOOKUP_OTHER = "forward.lookup.other"
LOOKUP_BLEND = "forward.lookup.blend"
LOOKUP_SHARP = "forward.lookup.sharpness"


def steps_for(walk: Walk, where: Where) -> HeadSteps:
    record = layer_record(walk, where.layer, where.stack)
    return get_state().remember((*walk.key, "forward", "head", where), lambda: head_steps(walk.model, record,
                                                                                        where.head))


def _arrow(text: str) -> None:
    """An arrow between two matrices, labelled with the operation (escaped: it may quote a token)."""
    st.html(f"<div style='text-align:center;color:#555;font-size:1.05rem;margin:0.3rem 0'>⬇ {html_text(text)}</div>")


def render_head(walk: Walk, where: Where) -> None:
    """The head's arithmetic on the input, matrix by matrix."""
    steps = steps_for(walk, where)
    shape = walk_shape(walk, where)
    tokens = walk.stack_tokens(where.stack)
    n = steps.n_tokens
    c1, c2 = st.columns([3, 1])
    span = position_window(n, where=c1)
    query = pick_position(tokens, span, where=c2)
    rows = slice(*span)
    shown = tokens[rows]
    dh, d, h = shape.d_head, shape.d_model, shape.n_heads
    label = f"L{where.layer}H{where.head}"
    memo = (*walk.key, "forward", "head figures", where, span, query)
    state = get_state()
    window_note = f" — positions {span[0]}…{span[1] - 1} of {n}" if span != (0, n) else ""

    x_in = "resid_pre" if shape.post_ln or shape.norm == "none" else "LN1(resid_pre)"
    fig = state.remember((*memo, "x"), lambda: matrix_heatmap(
        steps.x[rows], shown, f"X = {x_in}: what layer {where.layer} reads  [T × d_model] = [{n} × {d}]{window_note}",
        first_row=span[0]))
    show_figure(fig, "forward.x", f"{walk.name}_{label}_X")
    kv = f" (key/value head {steps.kv_head}, shared by {shape.group_size} query heads)" if shape.group_size > 1 else ""
    _arrow(f"Q = X W_Q + b_Q,  K = X W_K + b_K,  V = X W_V + b_V:  [{n} × {d}] · [{d} × {dh}] → [{n} × {dh}]{kv}")
    columns = st.columns(3)
    for column, (name, values) in zip(columns, (("Q", steps.q), ("K", steps.k), ("V", steps.v))):
        with column:
            what = f"{name} [T × d_head] = [{n} × {dh}]" + (kv if name != "Q" and kv else "")
            fig = state.remember((*memo, name), lambda values=values, what=what: matrix_heatmap(
                values[rows], shown, what, first_row=span[0]))
            show_figure(fig, f"forward.{name.lower()}", f"{walk.name}_{label}_{name}")
    if steps.q_rot is not None:
        _arrow("rotary positions: each pair of Q's and K's dimensions is rotated by an angle that grows with the "
               "position (RoPE), so Q Kᵀ depends on the offset between tokens")
        columns = st.columns(2)
        for column, (name, values) in zip(columns, (("rotated Q", steps.q_rot), ("rotated K", steps.k_rot))):
            with column:
                fig = state.remember((*memo, name), lambda values=values, name=name: matrix_heatmap(
                    values[rows], shown, f"{name} [{n} × {dh}]", first_row=span[0]))
                show_figure(fig, f"forward.{name.replace(' ', '_')}", f"{walk.name}_{label}_{name}")
    mask = " (a decoder's query i sees keys 0…i)" if not bool(steps.allowed.all()) else " (none: an encoder sees all)"
    _arrow(f"S = Q Kᵀ: [{n} × {dh}] · [{dh} × {n}] → [{n} × {n}], then ÷ √d_k (× {steps.scale:.4g}), then the mask"
           + mask)
    columns = st.columns(3)
    with columns[0]:
        fig = state.remember((*memo, "S"), lambda: scores_heatmap(
            steps.scores[rows, rows], shown, shown, title=f"S = Q Kᵀ  [{n} × {n}]{window_note}"))
        show_figure(fig, "forward.scores", f"{walk.name}_{label}_QKt")
    with columns[1]:
        fig = state.remember((*memo, "masked"), lambda: scores_heatmap(
            steps.masked[rows, rows], shown, shown, title=f"S / √d_k, masked (−∞: empty)  [{n} × {n}]"))
        show_figure(fig, "forward.masked", f"{walk.name}_{label}_scaled_masked")
    with columns[2]:
        fig = state.remember((*memo, "A"), lambda: pattern_heatmap(
            steps.pattern[rows, rows], shown, shown, steps.allowed[rows, rows],
            title=f"A = softmax(S / √d_k), row by row  [{n} × {n}]"))
        show_figure(fig, "forward.pattern", f"{walk.name}_{label}_pattern")
    if span != (0, n):
        _overview(steps, walk, label)
    _arrow(f"one row of A: query {query} ({tokens[query]!r}) — its scores, then its probabilities")
    fig = state.remember((*memo, "row"), lambda: query_row_figure(
        steps.scaled[query, rows], steps.pattern[query, rows], steps.allowed[query, rows], shown, query, tokens[query],
        f"Query {query}: softmax over the keys it may see — {walk.name}, {label}"))
    show_figure(fig, "forward.query_row", f"{walk.name}_{label}_row_{query}")
    outside = 1.0 - float(steps.pattern[query, rows].sum())
    top = steps.pattern[query].topk(min(3, n))
    best = ", ".join(f"{md_escape(repr(tokens[int(k)]))} ({w:.2f})"
                     for w, k in zip(top.values.tolist(), top.indices.tolist()))
    st.caption(f"As a lookup: query {query} matches the keys best at {best}; its output H[{query}] is the mix "
               f"Σⱼ Aᵢⱼ V[j] of their values." + (f" Keys outside the window hold {outside:.1%} of its weight."
                                                  if outside > 1e-4 else ""))
    _arrow(f"H = A V: [{n} × {n}] · [{n} × {dh}] → [{n} × {dh}] (the head's output, hook_z)")
    columns = st.columns([1, 2])
    with columns[0]:
        fig = state.remember((*memo, "H"), lambda: matrix_heatmap(steps.z[rows], shown, f"H = A V  [{n} × {dh}]",
                                                                  first_row=span[0]))
        show_figure(fig, "forward.h", f"{walk.name}_{label}_H")
    with columns[1]:
        cols = [f"H{k}·{j}" for k in range(h) for j in range(dh)] if h * dh <= 256 else None
        fig = state.remember((*memo, "concat"), lambda: matrix_heatmap(
            steps.concat[rows], shown, f"Z = Concat(H_0 … H_{h - 1})  [T × n_heads·d_head] = [{n} × {h * dh}] "
            f"(head {where.head}: columns {where.head * dh}…{(where.head + 1) * dh - 1})", first_row=span[0],
            col_title="head · dimension", col_labels=cols))
        show_figure(fig, "forward.concat", f"{walk.name}_L{where.layer}_concat")
    _arrow(f"Z W_O + b_O: [{n} × {h * dh}] · [{h * dh} × {d}] → [{n} × {d}], then added to the residual stream")
    columns = st.columns(2)
    with columns[0]:
        fig = state.remember((*memo, "out"), lambda: matrix_heatmap(
            steps.attn_out[rows], shown, f"Z W_O + b_O: the layer's attention output  [{n} × {d}]",
            first_row=span[0]))
        show_figure(fig, "forward.attn_out", f"{walk.name}_L{where.layer}_attn_out")
    with columns[1]:
        fig = state.remember((*memo, "mid"), lambda: matrix_heatmap(
            steps.resid_mid[rows], shown, f"resid_mid = resid_pre + Z W_O + b_O  [{n} × {d}]", first_row=span[0]))
        show_figure(fig, "forward.resid_mid", f"{walk.name}_L{where.layer}_resid_mid")
    st.caption(f"Recomputed here from the weights and X; the largest difference from the model's own resid_mid "
               f"(hook_resid_mid) is {steps.max_error():.1e}. Hover any cell for its value.")
    if shape.group_size > 1:
        sharing = [q for q in range(h) if q // shape.group_size == steps.kv_head]
        st.info(f"Grouped-query attention: {h} query heads share {shape.n_kv_heads} key/value heads. Head "
                f"{where.head} reads K and V of key/value head {steps.kv_head}, as query heads "
                f"{', '.join(map(str, sharing))} do: same K and V, different Q, so different patterns.")
    _render_no_projection(walk, steps, shown, rows, label)
    _render_lookup()


def walk_shape(walk: Walk, where: Where):
    return layer_record(walk, where.layer, where.stack).anatomy


def _overview(steps: HeadSteps, walk: Walk, label: str) -> None:
    seed(OVERVIEW, False)
    if st.toggle("Show the whole pattern, downsampled", key=OVERVIEW,
                 help="Every query and key, in 64 blocks of positions (keys summed, queries averaged)"):
        n = steps.n_tokens
        cells = 64
        small = downsample(steps.pattern, cells)
        blocks = [f"{int(g[0])}–{int(g[-1])}" for g in torch.arange(n).tensor_split(min(cells, n))]
        fig = pattern_heatmap(small, blocks, blocks, title=f"A, all {n} positions in {len(blocks)} blocks")
        show_figure(fig, "forward.pattern_overview", f"{walk.name}_{label}_pattern_overview")


def _render_no_projection(walk: Walk, steps: HeadSteps, shown: list[str], rows: slice, label: str) -> None:
    seed(NO_PROJECTION, False)
    if not st.toggle("No projections: Q = K = V = X", key=NO_PROJECTION,
                     help="What would attention do without learned W_Q, W_K, W_V? (the question of deck 002)"):
        return
    plain = no_projection(steps)
    fig = comparison_patterns(steps.pattern[rows, rows], plain.pattern[rows, rows], shown, steps.allowed[rows, rows],
                              f"Learned projections vs none — {walk.name}, {label}")
    show_figure(fig, "forward.no_projection", f"{walk.name}_{label}_no_projection")
    st.markdown(
        f"Without projections a token gives itself **{plain.self_share:.0%}** of its attention on average here "
        f"(the learned head: **{plain.learned_self_share:.0%}**). The scores x_i·x_j are symmetric (largest "
        f"|S − Sᵀ| = {plain.symmetric_gap:.1e}) and a vector is usually most similar to itself, so each token mostly "
        "looks at itself and at tokens like it. Such a head has nothing to learn: no parameter decides *what to look "
        "for* (a query) or *what to offer* (a key, a value). W_Q, W_K and W_V give the head those choices — and "
        "training something to choose.")


def _render_lookup() -> None:
    with st.expander("🗄️ Attention as a database lookup, on a worked example"):
        st.markdown("A database returns the value stored under the key equal to the query. Attention softens all "
                    "three steps: it scores the query against **every** key, turns the scores into weights that sum "
                    "to 1, and returns the weighted mix of the values. Here the keys are fruits (directions in a "
                    "2-D space), the values their prices.")
        fruits = list(FRUIT_KEYS)
        c1, c2, c3, c4 = st.columns(4)
        seed_choice(LOOKUP_WANTED, fruits, "apple")
        wanted = c1.selectbox("The query asks for", fruits, key=LOOKUP_WANTED)
        others = ["(nothing else)", *[f for f in fruits if f != wanted]]
        seed_choice(LOOKUP_OTHER, others, others[0])
        other = c2.selectbox("… mixed with", others, key=LOOKUP_OTHER)
        seed(LOOKUP_BLEND, 0.5)
        blend = c3.slider("Mix", 0.0, 1.0, step=0.05, key=LOOKUP_BLEND, disabled=other == others[0])
        seed(LOOKUP_SHARP, 4.0)
        sharpness = c4.slider("Query length ‖q‖ (sharpness)", 0.0, 20.0, step=0.5, key=LOOKUP_SHARP,
                              help="Longer queries make the softmax peakier: a hard lookup in the limit")
        lookup = fruit_lookup(wanted, None if other == others[0] else other, blend if other != others[0] else 0.0,
                              sharpness)
        fig = lookup_figure(lookup.keys, lookup.values.tolist(), lookup.scores.tolist(), lookup.weights.tolist(),
                            lookup.answer, f"The price of {wanted}" + (f" and {other}" if other != others[0] else ""))
        show_figure(fig, "forward.lookup", "attention_as_lookup")
        exact = dict(zip(lookup.keys, lookup.values.tolist()))[wanted]
        st.caption(f"Answer {lookup.answer:.2f} (the database's: {exact:.2f}). A long query pointing at one key "
                   "returns almost exactly its value; a short one, or one between two keys, returns a blend. In the "
                   "model, each row of A above is such a lookup: query i scores every key, and H[i] mixes the values.")
