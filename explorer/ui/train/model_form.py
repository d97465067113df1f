"""The model half of the Train page: a preset adapted to the data, and every hyperparameter to edit.

Values go straight into the config dataclasses, whose own checks produce the messages shown next to
the form (e.g. "d_model (30) must be divisible by n_heads (4)").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.data.dataset import TaskData
from explorer.models import ModelConfig, RecurrentConfig, Seq2SeqConfig, TransformerConfig
from explorer.training.config import OPTIMIZERS, TrainConfig
from explorer.training.presets import PRESETS, suitable_presets, unsuitable_presets
from explorer.ui.train.recurrent_fields import glove_start, recurrent_extras
from explorer.ui.train.seq2seq_fields import seq2seq_fields
from explorer.ui.train.training_fields import training_extras
from explorer.ui.widget_state import seed, seed_choice

PRESET = "model.preset"


@dataclass
class ModelChoice:
    preset: str
    model: ModelConfig
    train: TrainConfig
    embedding: np.ndarray | None = None  # rows the embedding table starts from (GloVe)


def pick_model(data: TaskData) -> ModelChoice | None:
    """Preset selector + hyperparameters; None (with the reason shown) when the choice is invalid."""
    suitable = suitable_presets(data)
    if not suitable:
        st.error("No model here can train on this data.")
        return None
    seed_choice(PRESET, suitable, suitable[0])  # a preset that does not fit new data gives way to one that does
    name = st.selectbox("Model", suitable, key=PRESET)
    st.caption(PRESETS[name].description)
    others = unsuitable_presets(data)
    if others:
        with st.expander(f"Not for this data: {', '.join(others)}"):
            for other, why in others.items():
                st.markdown(f"**{other}** — {why}")
    try:
        model_cfg, train_cfg = PRESETS[name].build(data)
    except ValueError as err:
        st.error(str(err))
        return None
    prefix = f"model.{name}.{data.name}.{data.kind}"
    with st.expander("Hyperparameters (every one can be changed)"):
        try:
            if isinstance(model_cfg, RecurrentConfig):
                edited = _recurrent_fields(model_cfg, prefix, data)
            elif isinstance(model_cfg, Seq2SeqConfig):
                edited = seq2seq_fields(model_cfg, prefix)
            else:
                edited = _transformer_fields(model_cfg, prefix, data)
            st.divider()
            train = _train_fields(train_cfg, prefix, data)
        except ValueError as err:
            st.error(f"⚠️ {err}")
            return None
    preset = name if edited == model_cfg and train == train_cfg else f"{name} (custom)"
    embedding = None
    if getattr(edited, "embedding_init", "random") == "glove":
        embedding = glove_start(data)
        if embedding is None:
            return None
    return ModelChoice(preset, edited, train, embedding)


def _int(where, label: str, value: int, key: str, lo: int = 0, hi: int = 100_000, help: str | None = None) -> int:
    """A whole-number input in container ``where``; bounds are wide on purpose, the config checks them."""
    seed(key, int(value))
    return int(where.number_input(label, min_value=lo, max_value=hi, step=1, key=key, help=help))


def _choice(where, label: str, options: list, value, key: str, **kwargs):
    """A selectbox in ``where`` showing ``value`` until the user picks another option."""
    seed_choice(key, options, value)
    return where.selectbox(label, options, key=key, **kwargs)


def _check(where, label: str, value: bool, key: str, **kwargs) -> bool:
    seed(key, bool(value))
    return where.checkbox(label, key=key, **kwargs)


def _float(where, label: str, lo: float, hi: float, value: float, key: str, **kwargs) -> float:
    seed(key, float(value))
    return float(where.number_input(label, lo, hi, key=key, **kwargs))


def _recurrent_fields(cfg: RecurrentConfig, prefix: str, data: TaskData) -> RecurrentConfig:
    c1, c2, c3, c4 = st.columns(4)
    cells = ["lstm", "gru", "rnn"]
    values = dict(
        cell=_choice(c1, "Cell", cells, cfg.cell, f"{prefix}.cell",
                     format_func={"lstm": "LSTM", "gru": "GRU", "rnn": "Elman RNN"}.get),
        d_embed=_int(c2, "Embedding size", cfg.d_embed, f"{prefix}.d_embed", hi=10**6),
        d_hidden=_int(c3, "Hidden units", cfg.d_hidden, f"{prefix}.d_hidden", hi=10**6),
        n_layers=_int(c4, "Layers", cfg.n_layers, f"{prefix}.n_layers", hi=100),
    )
    c1, c2, c3, c4 = st.columns(4)
    values["dropout"] = _float(c1, "Dropout (between layers)", 0.0, 1.0, cfg.dropout, f"{prefix}.dropout", step=0.05)
    if values["cell"] == "lstm":
        values["forget_bias"] = _float(
            c2, "Forget-gate bias at start", -10.0, 10.0, cfg.forget_bias, f"{prefix}.forget_bias", step=0.5,
            help="Added to b_f at initialisation. 1 (Keras' default) keeps fₜ ≈ 0.73 instead of 0.5 at first, so "
                 "the cell state is not halved at every step before training has begun.")
    else:
        values["forget_bias"] = 0.0
    if cfg.head == "classifier":
        values["pooling"] = _choice(c3, "Pooling", ["last", "mean"], cfg.pooling, f"{prefix}.pooling",
                                    help="Last hidden state, or the average over time")
        values["d_classifier_hidden"] = _int(c4, "Dense layer before output (0 = none)", cfg.d_classifier_hidden,
                                             f"{prefix}.dense", hi=10**6)
        c1, c2 = st.columns(2)
        values["sigmoid_output"] = _check(c1, "One sigmoid output unit", cfg.sigmoid_output, f"{prefix}.sigmoid",
                                               help="Binary classifiers only, as Keras' dense(1, sigmoid)")
        values["go_backwards"] = _check(c2, "Read each input backwards", cfg.go_backwards, f"{prefix}.backwards",
                                             help="From the last token to the first, as Keras' go_backwards = TRUE "
                                                  "(the lecture's lab LSTM reads this way)")
    values.update(recurrent_extras(cfg, prefix, values, data))
    return dataclasses.replace(cfg, **values)


def _transformer_fields(cfg: TransformerConfig, prefix: str, data: TaskData) -> TransformerConfig:
    c1, c2, c3, c4 = st.columns(4)
    values = dict(
        d_model=_int(c1, "d_model", cfg.d_model, f"{prefix}.d_model", hi=10**6),
        n_heads=_int(c2, "Heads", cfg.n_heads, f"{prefix}.n_heads", hi=10**4),
        n_layers=_int(c3, "Layers", cfg.n_layers, f"{prefix}.n_layers", hi=10**4),
        d_mlp=_int(c4, "MLP width", cfg.d_mlp, f"{prefix}.d_mlp", hi=10**6),
    )
    c1, c2, c3, c4 = st.columns(4)
    positionals = ["learned", "sinusoidal", "rotary", "none"]
    values["positional"] = _choice(c1, "Positions", positionals, cfg.positional, f"{prefix}.positional")
    values["n_ctx"] = _int(c2, "Context (n_ctx)", cfg.n_ctx, f"{prefix}.n_ctx", hi=10**6,
                           help="The longest input the learned position table covers")
    values["attn_only"] = _check(c3, "Attention only (no MLP)", cfg.attn_only, f"{prefix}.attn_only")
    values["layer_norm"] = _check(c4, "LayerNorm", cfg.layer_norm, f"{prefix}.layer_norm")
    values["norm_position"] = _choice(
        c4, "LayerNorm position", ["pre", "post"], cfg.norm_position, f"{prefix}.norm_position",
        disabled=not values["layer_norm"], format_func={"pre": "pre-LN (GPT-2)", "post": "post-LN (Vaswani, BERT)"}.get,
        help="pre: x + F(LN(x)) and a final LayerNorm; post: LN(x + F(x)) after every sub-layer, as the decks draw it")
    c1, c2, c3, c4 = st.columns(4)
    values["act_fn"] = _choice(c1, "MLP activation", ["gelu", "relu"], cfg.act_fn, f"{prefix}.act_fn")
    values["dropout"] = _float(c2, "Dropout", 0.0, 1.0, cfg.dropout, f"{prefix}.dropout", step=0.05)
    if data.kind == "classification":
        values["pooling"] = _choice(c3, "Pooling", ["mean", "last"], cfg.pooling, f"{prefix}.pooling")
        values["causal"] = _check(c4, "Causal mask", cfg.causal, f"{prefix}.causal",
                                       help="Off: a bidirectional encoder (BERT-like)")
    elif data.kind == "seq2seq":
        values["encoder_decoder"] = _check(c3, "Encoder-decoder", cfg.encoder_decoder, f"{prefix}.encdec",
                                                help="Off: one decoder reads source <sep> target")
    return dataclasses.replace(cfg, d_head=None, **values)  # d_head follows d_model / n_heads


def _train_fields(cfg: TrainConfig, prefix: str, data: TaskData) -> TrainConfig:
    c1, c2, c3, c4 = st.columns(4)
    values = dict(
        lr=_float(c1, "Learning rate", 0.0, 1e6, cfg.lr, f"{prefix}.lr", format="%.5g"),
        optimizer=_choice(c2, "Optimizer", OPTIMIZERS, cfg.optimizer, f"{prefix}.opt"),
        batch_size=_int(c3, "Batch size", cfg.batch_size, f"{prefix}.batch", hi=10**7),
        max_steps=_int(c4, "Step target", cfg.max_steps, f"{prefix}.max_steps", hi=10**8),
    )
    c1, c2, c3, c4 = st.columns(4)
    values["weight_decay"] = _float(c1, "Weight decay", 0.0, 1e6, cfg.weight_decay, f"{prefix}.wd", format="%.4g")
    clip = _float(c2, "Gradient clip (0 = off)", 0.0, 1e6, cfg.grad_clip or 0.0, f"{prefix}.clip")
    values["grad_clip"] = clip or None
    values["seed"] = _int(c3, "Seed", cfg.seed, f"{prefix}.seed", hi=10**9)
    if data.is_stream:
        values["seq_len"] = _int(c4, "Window length", cfg.seq_len, f"{prefix}.seq_len", hi=10**6)
    values.update(training_extras(cfg, prefix, values))
    return dataclasses.replace(cfg, **values)
