"""Models: recurrent (Elman RNN, GRU, LSTM), recurrent encoder–decoders and transformers, all with
``run_with_cache``."""

from __future__ import annotations

import torch

from explorer.models.config import (
    ModelConfig,
    RecurrentConfig,
    Seq2SeqConfig,
    TransformerConfig,
    config_from_dict,
)
from explorer.models.recurrent import RecurrentModel
from explorer.models.seq2seq import RecurrentSeq2Seq
from explorer.models.transformer import Transformer

Model = RecurrentModel | Transformer | RecurrentSeq2Seq

__all__ = [
    "Model", "ModelConfig", "RecurrentConfig", "RecurrentModel", "RecurrentSeq2Seq", "Seq2SeqConfig", "Transformer",
    "TransformerConfig", "build_model", "config_from_dict", "is_encoder_decoder",
]


def is_encoder_decoder(config: ModelConfig) -> bool:
    """True for models that read a source and a decoder input apart (transformer or recurrent)."""
    return isinstance(config, Seq2SeqConfig) or (isinstance(config, TransformerConfig) and config.encoder_decoder)


def build_model(config: ModelConfig, seed: int | None = 0) -> Model:
    """Build the model a config describes, with seeded initial weights (``seed=None``: unseeded)."""
    if seed is None:
        return _build(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _build(config)


def _build(config: ModelConfig) -> Model:
    if isinstance(config, RecurrentConfig):
        return RecurrentModel(config)
    if isinstance(config, TransformerConfig):
        return Transformer(config)
    if isinstance(config, Seq2SeqConfig):
        return RecurrentSeq2Seq(config)
    raise TypeError(f"build_model needs a RecurrentConfig, TransformerConfig or Seq2SeqConfig, got "
                    f"{type(config).__name__}.")
