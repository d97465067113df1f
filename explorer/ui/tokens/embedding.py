"""Tokens page, section "One-hot × W_E": a token's id selects a row of the model's real embedding table."""

from __future__ import annotations

import streamlit as st
import torch

from explorer.analysis.tokenization import one_hot_times_embedding
from explorer.data.examples import encode_with_specials
from explorer.figures.tokenization import one_hot_figure
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.model_picker import offered_pretrained, pick_subject
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.widget_state import seed

MODEL = "tokens.model"
POSITION = "tokens.position"
WINDOW = 12
MAX_FEATURES = 128


def render_embedding(text: str) -> None:
    subject = pick_subject(MODEL, lambda r: True, offered_pretrained(), label="Model whose table W_E is used")
    if subject is None:
        return
    if subject.run is not None:
        run = subject.run
        ids, pieces, _ = encode_with_specials(run.tokenizer, text)
        W_E, name = frozen_model(run).W_E, run.name
        row_tokens = run.tokenizer.to_str_tokens
    else:
        model, error = get_pretrained(subject.pretrained)
        if model is None:
            st.error(error)
            return
        ids = model.to_tokens(text)[0].tolist()
        pieces = model.to_str_tokens(ids)
        W_E, name = model.W_E, subject.pretrained
        row_tokens = model.to_str_tokens
    if not ids:
        st.warning("The text makes no tokens for this model.")
        return
    options = list(range(len(ids)))
    seed(POSITION, min(1, len(ids) - 1), valid=lambda v: v in options)
    position = int(st.selectbox("Token", options, key=POSITION, format_func=lambda i: f"{i}: {pieces[i]!r} → id "
                                                                                   f"{ids[i]}"))
    token_id = ids[position]
    result = one_hot_times_embedding(W_E, token_id)
    d_vocab, d_model = W_E.shape
    start = max(0, min(token_id - WINDOW // 2, d_vocab - WINDOW))
    rows = torch.arange(start, min(d_vocab, start + WINDOW))
    table = W_E.detach().float().cpu()[rows, :MAX_FEATURES].numpy()
    fig = one_hot_figure(result, table, start, row_tokens(rows.tolist()),
                         f"e_{token_id} · W_E = row {token_id} of W_E [{d_vocab:,} × {d_model}] — {name}")
    show_figure(fig, "tokens.one_hot", f"{name}_one_hot_{token_id}")
    shown = f" (the first {MAX_FEATURES} of {d_model} features drawn in the table)" if d_model > MAX_FEATURES else ""
    st.caption(f"The one-hot vector e_{token_id} has a single 1, at position {token_id} of {d_vocab:,}; multiplied "
               f"by W_E every other row is multiplied by 0, so the product is row {token_id} itself: the largest "
               f"difference between e·W_E and W_E[{token_id}] is {result.max_error:.1e}{shown}. That is why an "
               "embedding layer is a lookup. The model then adds the position's vector (learned or sinusoidal "
               "models) to get X.")
