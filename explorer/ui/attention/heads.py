"""Attention page, sections "Heads" and "Grid": per-head summaries, the opened head, the layer × head grid.

Clicking a head in the summary or the grid opens it: the click's callback sets the layer and head selectors
(widget state changed in callbacks, before the widgets are drawn again).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.analysis.attention import (
    METRICS,
    AttentionSet,
    downsample,
    group_labels,
    merge_pattern,
    strongest_heads,
    window,
    word_groups,
)
from explorer.figures.attention import head_grid, pattern_heatmap, scores_heatmap, summary_figure
from explorer.ui.figure import show_figure
from explorer.ui.state import get_state
from explorer.ui.widget_state import forget, seed, seed_choice, seed_many, set_value

LAYER = "attention.layer"
HEAD = "attention.head"
SECTION = "attention.section"
Q_WINDOW = "attention.q_window"
K_WINDOW = "attention.k_window"
MERGE = "attention.merge_words"
LAYERS = "attention.layers"
HEADS = "attention.heads"
SUMMARY_FIG = "attention.summary"
GRID_FIG = "attention.grid"
HEADS_SECTION = "🔎 Heads"
FROM_GRID = "attention.from_grid"  # st.session_state: the head was just opened from the grid
SCOPE = ("attention", "options scope")  # session memo entry: what the filters were set for
DEFAULT_WINDOW = 128  # positions shown at once in a head's heatmap by default (long inputs)


@dataclass(frozen=True)
class ViewOptions:
    """What part of the attention to show: windows of positions, words or tokens, which layers and heads."""

    q_range: tuple[int, int]
    k_range: tuple[int, int]
    merge: bool
    layers: tuple[int, ...]
    heads: tuple[int, ...]


def _layer_head(custom) -> tuple[int, int] | None:
    """(layer, head) from a clicked point's customdata (a list, or a dict keyed by position)."""
    if isinstance(custom, dict):
        custom = [custom.get(k, custom.get(str(k))) for k in range(2)]
    try:
        return int(custom[0]), int(custom[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def _open_clicked(figure_key: str, switch_section: bool) -> None:
    """Callback of a clickable figure: open the clicked (layer, head)."""
    event = st.session_state.get(f"fig.{figure_key}") or {}
    for point in event.get("selection", {}).get("points", []):
        found = _layer_head(point.get("customdata"))
        if found is not None:
            set_value(LAYER, found[0])
            set_value(HEAD, found[1])
            if switch_section:
                set_value(SECTION, HEADS_SECTION)
                st.session_state[FROM_GRID] = True  # show the opened head at the top, where the click was
            return


def _fit_range(key: str, n: int, default: tuple[int, int]) -> None:
    seed(key, default, valid=lambda v: isinstance(v, tuple | list) and len(v) == 2 and 0 <= v[0] < v[1] <= n)


def _reset_when_scope_changes(scope: tuple) -> None:
    """A new model or kind of attention starts with every layer and head and the default windows."""
    state = get_state()
    if state.memo.get(SCOPE) != scope:
        for key in (LAYERS, HEADS, Q_WINDOW, K_WINDOW):
            forget(key)
        state.memo[SCOPE] = scope


def pick_options(att: AttentionSet, subword: bool, scope: tuple = ()) -> ViewOptions:
    """The window, word merging and layer/head filters (their widgets), for one attention set.

    ``scope`` names what is shown (model, kind of attention): when it changes, the filters start afresh.
    """
    _reset_when_scope_changes((*scope, att.kind, att.n_layers, att.n_heads))
    n_q, n_k = len(att.q_tokens), len(att.k_tokens)
    layers_all, heads_all = list(range(att.n_layers)), list(range(att.n_heads))
    seed_many(LAYERS, layers_all, layers_all)
    seed_many(HEADS, heads_all, heads_all)
    seed(MERGE, False)
    left, right = st.columns([1, 3])
    merge = left.toggle("Merge sub-words into words", key=MERGE, disabled=not subword,
                        help="Attention to a word is the sum over its tokens (keys); from a word, the mean over its "
                             "tokens (queries). Rows still add up to 1." if subword else
                             "This model's tokens are already whole symbols.")
    shown = f"{len(st.session_state[LAYERS])} of {att.n_layers} layers, {len(st.session_state[HEADS])} of " \
            f"{att.n_heads} heads"
    with right.expander(f"Layers and heads shown: {shown}"):
        layers = st.multiselect("Layers", layers_all, key=LAYERS, format_func=lambda v: f"L{v}",
                                help="Filters the summaries, the grid and bertviz")
        heads = st.multiselect("Heads", heads_all, key=HEADS, format_func=lambda v: f"H{v}")
    q_range, k_range = (0, n_q), (0, n_k)
    if max(n_q, n_k) > DEFAULT_WINDOW:
        _fit_range(Q_WINDOW, n_q, (0, min(n_q, DEFAULT_WINDOW)))
        _fit_range(K_WINDOW, n_k, (0, min(n_k, DEFAULT_WINDOW)))
        w1, w2 = st.columns(2)
        q_range = tuple(w1.slider("Query positions shown", 0, n_q, key=Q_WINDOW,
                                  help="A window keeps long inputs readable and the page fast"))
        k_range = tuple(w2.slider("Key positions shown", 0, n_k, key=K_WINDOW))
        if q_range[1] <= q_range[0] or k_range[1] <= k_range[0]:
            st.warning("An empty window: showing the first positions instead.")
            q_range, k_range = (0, min(n_q, DEFAULT_WINDOW)), (0, min(n_k, DEFAULT_WINDOW))
    return ViewOptions(q_range, k_range, bool(merge and subword), tuple(layers or layers_all),
                       tuple(heads or heads_all))


def pick_head(att: AttentionSet) -> tuple[int, int]:
    seed_choice(LAYER, list(range(att.n_layers)), 0)
    seed_choice(HEAD, list(range(att.n_heads)), 0)
    c1, c2 = st.columns(2)
    layer = c1.selectbox("Layer", list(range(att.n_layers)), key=LAYER)
    head = c2.selectbox("Head", list(range(att.n_heads)), key=HEAD)
    return layer, head


def head_figures(att: AttentionSet, layer: int, head: int, options: ViewOptions, model_name: str):
    """(pattern figure, scores figure or None) of one head in the chosen window."""
    q_tokens = att.q_tokens[slice(*options.q_range)]
    k_tokens = att.k_tokens[slice(*options.k_range)]
    pattern = window(att.patterns[layer, head], options.q_range, options.k_range)
    allowed = window(att.allowed(), options.q_range, options.k_range)
    kind = "" if att.kind == "self" else f" ({att.kind})"
    where = f"layer {layer}, head {head}{kind} — {model_name}"
    if options.merge:
        q_groups, k_groups = word_groups(q_tokens), word_groups(k_tokens)
        merged = merge_pattern(pattern, q_groups, k_groups)
        fig = pattern_heatmap(merged, group_labels(q_tokens, q_groups), group_labels(k_tokens, k_groups),
                              title=f"Words, {where}")
        return fig, None
    fig = pattern_heatmap(pattern, q_tokens, k_tokens, allowed, title=f"Pattern, {where}")
    scores = scores_heatmap(window(att.scores[layer, head], options.q_range, options.k_range), q_tokens, k_tokens,
                            title=f"Scores QKᵀ/√d_k, layer {layer}, head {head}{kind}")
    return fig, scores


def render_heads(att: AttentionSet, options: ViewOptions, memo_key: tuple, model_name: str) -> None:
    """Summary heatmaps (click a head), the strongest heads per metric, then the opened head (first, when it was
    just opened from the grid: the head appears where the user clicked, not a screen below)."""
    from_grid = st.session_state.pop(FROM_GRID, False)
    if from_grid:
        _render_one_head(att, options, memo_key, model_name)
        st.divider()
    _render_summaries(att, options, memo_key, model_name)
    if not from_grid:
        _render_one_head(att, options, memo_key, model_name)


def _render_summaries(att: AttentionSet, options: ViewOptions, memo_key: tuple, model_name: str) -> None:
    state = get_state()
    summaries = att.summaries[att.summaries["layer"].isin(options.layers) & att.summaries["head"].isin(options.heads)]
    fig = state.remember((*memo_key, "summary", options.layers, options.heads),
                         lambda: summary_figure(summaries, title=f"What each head does — {model_name}"))
    show_figure(fig, SUMMARY_FIG, f"{model_name}_head_summaries",
                on_select=lambda: _open_clicked(SUMMARY_FIG, switch_section=False))
    with st.expander("What the summaries measure, and the strongest heads"):
        rows = []
        for metric, (label, meaning) in METRICS.items():
            top = strongest_heads(summaries, metric)
            best = ", ".join(f"L{r.layer}H{r.head} ({getattr(r, metric):.2f})" for r in top.itertuples())
            rows.append({"summary": label, "meaning": meaning, "strongest heads": best or "—"})
        st.dataframe(rows, hide_index=True, width="stretch")


def _render_one_head(att: AttentionSet, options: ViewOptions, memo_key: tuple, model_name: str) -> None:
    state = get_state()
    st.subheader("One head")
    st.caption("Click a cell of the summaries (or a tile in the Grid) to open a head, or choose it here.")
    layer, head = pick_head(att)
    pattern_fig, scores_fig = state.remember((*memo_key, "head", layer, head, options),
                                             lambda: head_figures(att, layer, head, options, model_name))
    name = f"{model_name}_L{layer}H{head}"
    if scores_fig is None:
        show_figure(pattern_fig, "attention.pattern", f"{name}_words")
        st.caption("Words: rows are query words (mean over their sub-word tokens), columns key words (sum over "
                   "their tokens). Raw scores are per token: switch Words off to see them.")
        return
    left, right = st.columns(2)
    with left:
        show_figure(pattern_fig, "attention.pattern", f"{name}_pattern")
    with right:
        show_figure(scores_fig, "attention.scores", f"{name}_scores")
    note = " Grey cells are masked: a decoder's query cannot see later keys." if att.causal else ""
    st.caption("Left: A = softmax(QKᵀ/√d_k), each row sums to 1 over the keys it may see. Right: the scaled scores "
               f"QKᵀ/√d_k the softmax turns into those weights.{note}")


def render_grid(att: AttentionSet, options: ViewOptions, memo_key: tuple, model_name: str) -> None:
    """All chosen heads as small patterns of the current window; click one to open it in "Heads"."""
    n_heads = len(options.layers) * len(options.heads)
    cells = 24 if n_heads <= 96 else 16

    def build():
        rows = att.patterns[list(options.layers)][:, list(options.heads)]  # [layers, heads, q, k]
        thumbs = downsample(window(rows, options.q_range, options.k_range), cells)
        return head_grid(thumbs, options.layers, options.heads, selected, title=f"Every head — {model_name}")

    selected = (st.session_state.get(LAYER, 0), st.session_state.get(HEAD, 0))
    fig = get_state().remember((*memo_key, "grid", options, cells, selected), build)
    show_figure(fig, GRID_FIG, f"{model_name}_all_heads", on_select=lambda: _open_clicked(GRID_FIG, True))
    n_q = options.q_range[1] - options.q_range[0]
    shrink = f" Each tile shrinks {n_q} positions to {cells} blocks (keys summed, queries averaged)." \
        if n_q > cells else ""
    st.caption(f"Rows of tiles are layers, columns heads; within a tile, queries go down and keys across.{shrink} "
               "Click a tile to open that head.")
