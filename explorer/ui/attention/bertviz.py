"""Attention page, section "bertviz": its head view and model view, drawn offline from the recorded patterns."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.attention import AttentionSet
from explorer.analysis.bertviz_offline import MAX_TOKENS, BertvizUnavailable, bertviz_html, opaque_origin_url
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

BERTVIZ_VIEW = "attention.bertviz.view"
BERTVIZ_START = "attention.bertviz.start"


def render_bertviz(sets: list[AttentionSet], layers: tuple[int, ...], memo_key: tuple) -> None:
    """bertviz's head view or model view, with d3 and jQuery inlined (works offline)."""
    c1, c2 = st.columns([2, 1])
    seed_choice(BERTVIZ_VIEW, ["head", "model"])
    view = c1.radio("bertviz view", ["head", "model"], key=BERTVIZ_VIEW, horizontal=True,
                    format_func={"head": "Head view (one layer, lines per head)",
                                 "model": "Model view (every layer × head)"}.get)
    n = max(len(s.q_tokens) for s in sets)
    start = 0
    if n > MAX_TOKENS and sets[0].kind != "encoder":
        seed(BERTVIZ_START, 0, valid=lambda v: isinstance(v, int) and 0 <= v < n)
        start = int(c2.number_input(f"First token drawn (of {n})", 0, n - 1, step=MAX_TOKENS // 2,
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
    st.iframe(opaque_origin_url(html), height=min(height, 2400))
    st.caption("bertviz (Vig 2019), drawn from the patterns above: in the head view hover a token to see where it "
               "looks, click a colour to show one head, double-click to show only it. Cross-attention appears as "
               "an extra view for encoder-decoder models. Runs fully offline.")
