"""Attention page, section "Why √d_k": what scaling the scores does to the softmax and its gradient."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.attention import sqrt_dk_demo, sqrt_dk_example
from explorer.figures.attention import sqrt_dk_example_figure, sqrt_dk_figure
from explorer.ui.figure import show_figure
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

SQRT_KEYS = "attention.sqrt.n_keys"
SQRT_DK = "attention.sqrt.d_k"


def render_sqrt_dk() -> None:
    """The lecture's poll question: why divide the scores by √d_k?"""
    st.markdown(
        "For random queries and keys with independent unit-variance entries, the dot product q·k = Σᵢ qᵢkᵢ has "
        "variance d_k. Large scores push the softmax towards a one-hot vector, where its gradient "
        "diag(A) − AAᵀ is almost zero: learning stalls. Dividing by √d_k brings the variance back to 1.")
    c1, c2 = st.columns(2)
    seed(SQRT_KEYS, 16)
    n_keys = c1.slider("Keys per query", 2, 64, key=SQRT_KEYS)
    d_ks = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    seed_choice(SQRT_DK, d_ks, 256)
    d_k = c2.select_slider("d_k for the example", d_ks, key=SQRT_DK)
    state = get_state()
    curves = state.remember(("attention", "sqrt_dk", n_keys), lambda: sqrt_dk_figure(sqrt_dk_demo(n_keys=n_keys)))
    show_figure(curves, "attention.sqrt_dk", f"why_sqrt_dk_{n_keys}_keys")
    unscaled, scaled = sqrt_dk_example(d_k, n_keys=min(n_keys, 16))
    example = state.remember(("attention", "sqrt_example", d_k, n_keys),
                             lambda: sqrt_dk_example_figure(unscaled, scaled, d_k))
    show_figure(example, "attention.sqrt_example", f"sqrt_dk_example_{d_k}")
    st.caption(f"Averages over 512 random queries against {n_keys} keys each. Unscaled, the largest weight tends to "
               "1 and the gradient to 0 as d_k grows; scaled, both stay where they are for every d_k.")

