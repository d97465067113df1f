"""Section 2 of the Positions page: the position vector added to the token embedding, X = E(token) + P(pos)."""

from __future__ import annotations

import streamlit as st
import torch

from explorer.analysis.positions.tables import (
    addition_note,
    embedding_sizes,
    position_table,
    positions_used,
    token_at_positions,
)
from explorer.data.tokenizers import SPECIALS
from explorer.figures.positions.tables import distance_angle_figure, sizes_figure, token_positions_figure
from explorer.models.positional import sinusoidal_table
from explorer.ui.figure import show_figure
from explorer.ui.positions.common import MINILM, Chosen, choose, installed_pretrained, is_transformer, offer_gpt
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_many

MODEL = "positions.tokens.model"
TOKENS = "positions.tokens.tokens"
WORDS = "positions.tokens.words"
N_POS = "positions.tokens.n_pos"
TRAIN = "positions.tokens.train"
MAX_TOKENS = 3
FORMULA_D = 64


def _formula_picture() -> None:
    """Without a model: two random token embeddings (standard normal, as an untrained model's) and the sinusoids."""
    st.markdown("**With the formula alone** — two random token embeddings (entries ~ N(0, 1), like an untrained "
                f"model's, d_model = {FORMULA_D}) placed at positions 0–63 with the sinusoidal table:")
    generator = torch.Generator().manual_seed(0)
    E_rows = torch.randn(2, FORMULA_D, generator=generator)  # [tokens, d_model]
    _draw(E_rows, sinusoidal_table(64, FORMULA_D), ["token a", "token b"], ("positions.formula",))


def _draw(E_rows: torch.Tensor, table: torch.Tensor, labels: list[str], key: tuple) -> None:
    state = get_state()
    points, projection = state.remember(("positions.tokens", *key, tuple(labels), table.shape[0]),
                                        lambda: token_at_positions(E_rows, table, labels))
    show_figure(token_positions_figure(points, projection.explained), "positions.tokens.pca", "token_at_positions")
    st.caption("E(token) + P(pos) for every position, projected to 2D (PCA keeps the share of variance in the title, "
               "not every distance). Every token's path has the same shape: the same P(pos) is added to each token.")
    show_figure(distance_angle_figure(points), "positions.tokens.distance", "distance_and_angle")
    st.caption("Not a projection: each position is drawn at its exact distance from the token (‖P(pos)‖) and at "
               "the angle between P(pos) and P(0). With the sinusoids every position moves a token by the same "
               "distance, at a different angle; nearby positions push in similar directions, distant ones in "
               "different directions.")


def _token_rows(chosen: Chosen) -> tuple[list[int], list[str]] | None:
    """Token ids (and labels) the user picks: from a run's vocabulary, or words typed for a pretrained model."""
    if chosen.run is not None:
        tokenizer = chosen.run.tokenizer
        options = [i for i, t in enumerate(tokenizer.tokens) if t not in SPECIALS]
        seed_many(f"{TOKENS}.{chosen.run.id}", options, options[:2])
        picked = st.multiselect("Tokens to place at every position", options,
                                format_func=lambda i: repr(tokenizer.tokens[i]), max_selections=MAX_TOKENS,
                                key=f"{TOKENS}.{chosen.run.id}")
        return (picked, [tokenizer.tokens[i] for i in picked]) if picked else None
    seed(WORDS, "the, river")
    words = st.text_input("Tokens to place at every position (comma-separated, from the model's vocabulary)",
                          key=WORDS)
    vocab = chosen.model.tokenizer.get_vocab()
    pieces = [w.strip() for w in words.split(",") if w.strip()][:MAX_TOKENS]
    unknown = [w for w in pieces if w not in vocab]
    if unknown:
        st.warning(f"Not in {chosen.label}'s vocabulary (as one token): {', '.join(unknown)}. Try lower case, "
                   "or a whole common word.")
    known = [w for w in pieces if w in vocab]
    return ([vocab[w] for w in known], known) if known else None


def render() -> None:
    st.markdown("The first residual stream is **X = E(token) + P(pos)**: the same token gets a different vector at "
                "every position. How big is P next to E, and what does adding it do to a token?")
    chosen = choose(MODEL, is_transformer, installed_pretrained(MINILM), "Model")
    if chosen is None:
        offer_gpt(TRAIN, "learned", "No transformer in this session yet. Train one (a minute on a laptop) to "
                                    "measure a trained model's E and P — or open MiniLM from the picker once "
                                    "a run exists. Meanwhile, the formula:")
        _formula_picture()
        return
    model = chosen.model
    st.caption(addition_note(model))
    table = position_table(model)
    n_rows = None if table is None else table.shape[0]
    n_used = positions_used(chosen.run) if chosen.run is not None and table is not None else n_rows
    state = get_state()
    sizes = state.remember(("positions.sizes", *chosen.key), lambda: embedding_sizes(model, n_used))
    left, right = st.columns([3, 2])
    with left:
        show_figure(sizes_figure(sizes, f"Sizes in {chosen.label}"), "positions.tokens.sizes", "embedding_sizes")
    with right:
        st.dataframe(sizes.drop(columns=["median norm"]).round(2).set_index("vectors").T, width="stretch")
        if table is not None and sizes["mean norm"].iloc[0] > 0:
            ratio = sizes["mean norm"].iloc[1] / sizes["mean norm"].iloc[0]
            st.metric("‖P‖ / ‖E‖ (means)", f"{ratio:.2f}",
                      help="Below 1 the token dominates the sum; above 1 the position does.")
    if table is None:
        st.info(f"{chosen.label} adds no position vector to its tokens ({model.config.positional} positions): its "
                "positions act inside attention — see section 4 (rotary).")
        return
    picked = _token_rows(chosen)
    if picked is None:
        st.info("Pick at least one token.")
        return
    ids, labels = picked
    seed(f"{N_POS}.{chosen.label}", min(n_used or n_rows, 64), valid=lambda v: 2 <= v <= min(n_rows, 256))
    n_pos = st.slider("Positions", 2, min(n_rows, 256), key=f"{N_POS}.{chosen.label}")
    E_rows = model.W_E.detach().float().cpu()[torch.tensor(ids)]  # [tokens, d_model]
    _draw(E_rows, table[:n_pos], labels, chosen.key)
    if getattr(model.config, "token_types", False):
        st.caption(f"For {chosen.label} these pictures show E(token) + P(pos) alone. Its real first residual stream "
                   "also adds the segment vector T(0) (the same shift for every point) and then applies LayerNorm, "
                   "which rescales each sum to the same size.")
