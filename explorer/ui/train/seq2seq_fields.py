"""The Train form's fields for a recurrent encoder–decoder: cell, attention, sizes, a bidirectional encoder."""

from __future__ import annotations

import dataclasses

import streamlit as st

from explorer.models import Seq2SeqConfig
from explorer.models.config import ATTENTIONS

CELL_NAMES = {"gru": "GRU", "lstm": "LSTM", "rnn": "Elman RNN"}
ATTENTION_HELP = ("none: the decoder starts from the encoder's final state and sees nothing else (the bottleneck). "
                  "additive (Bahdanau et al. 2015): e_tj = vᵀ tanh(W s_{t−1} + U hⱼ), the context enters the decoder "
                  "cell. location (Chorowski et al. 2015): the additive score plus features of where step t − 1 "
                  "looked, V (F ∗ αₜ₋₁). dot (Luong et al. 2015): e_tj = sₜ·hⱼ after the cell.")


def seq2seq_fields(cfg: Seq2SeqConfig, prefix: str) -> Seq2SeqConfig:
    """Every field of a :class:`Seq2SeqConfig`; its own checks report what does not fit."""
    c1, c2, c3, c4 = st.columns(4)
    cells = list(CELL_NAMES)
    values = dict(
        cell=c1.selectbox("Cell", cells, index=cells.index(cfg.cell), key=f"{prefix}.s2s.cell",
                          format_func=CELL_NAMES.get),
        attention=c2.selectbox("Attention", ATTENTIONS, index=ATTENTIONS.index(cfg.attention),
                               key=f"{prefix}.s2s.attention", help=ATTENTION_HELP),
        d_hidden=int(c3.number_input("Hidden units", 1, 10**6, cfg.d_hidden, key=f"{prefix}.s2s.d_hidden")),
        n_layers=int(c4.number_input("Layers (each side)", 1, 100, cfg.n_layers, key=f"{prefix}.s2s.n_layers")),
    )
    c1, c2, c3, c4 = st.columns(4)
    values["d_embed"] = int(c1.number_input("Embedding size", 1, 10**6, cfg.d_embed, key=f"{prefix}.s2s.d_embed"))
    values["bidirectional"] = c2.checkbox("Encoder reads both ways", cfg.bidirectional, key=f"{prefix}.s2s.bi",
                                          help="hⱼ = [→hⱼ; ←hⱼ], as Bahdanau et al.'s encoder: each state stands for "
                                               "its token with both its sides (additive or no attention)")
    values["d_attention"] = int(c3.number_input("Attention width (0 = hidden units)", 0, 10**6, cfg.d_attention,
                                                key=f"{prefix}.s2s.d_attention",
                                                help="The size of W s + U h in the additive (or location-aware) score"))
    values["dropout"] = c4.number_input("Dropout (between layers)", 0.0, 1.0, cfg.dropout, 0.05,
                                        key=f"{prefix}.s2s.dropout")
    st.caption("Trained with teacher forcing: at step t the decoder reads the true previous target token, not its "
               "own guess. 'What the model does' below decodes greedily, feeding its own outputs back.")
    return dataclasses.replace(cfg, **values)
