"""Models: recurrent (Elman RNN, GRU, LSTM) and transformers, all with ``run_with_cache``."""

from __future__ import annotations

import torch

from explorer.models.config import ModelConfig, RecurrentConfig, TransformerConfig, config_from_dict
from explorer.models.recurrent import RecurrentModel
from explorer.models.transformer import Transformer

Model = RecurrentModel | Transformer

__all__ = [
    "Model", "ModelConfig", "RecurrentConfig", "RecurrentModel", "Transformer", "TransformerConfig",
    "build_model", "config_from_dict",
]


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
    raise TypeError(f"build_model needs a RecurrentConfig or TransformerConfig, got {type(config).__name__}.")
