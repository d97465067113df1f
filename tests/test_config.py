"""Configs reject impossible values with a message that says what to change."""

from __future__ import annotations

import pytest

from explorer.models import RecurrentConfig, TransformerConfig, config_from_dict
from explorer.training.config import TrainConfig


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"d_model": 30, "n_heads": 4}, "divisible by n_heads"),
    ({"d_model": 0}, "at least 1"),
    ({"n_layers": 0}, "at least 1"),
    ({"n_heads": 4, "d_model": 36, "positional": "rotary"}, "must be even"),
    ({"positional": "fourier"}, "positional must be one of"),
    ({"head": "classifier", "n_classes": 1, "causal": False}, "at least 2"),
    ({"causal": False, "head": "lm"}, "must be causal"),
    ({"encoder_decoder": True, "head": "classifier"}, "head='lm'"),
    ({"d_model": 10**6}, "too large"),
    ({"pad_id": 99, "d_vocab": 10}, "outside the vocabulary"),
    ({"d_model": 64.5}, "whole number"),
])
def test_transformer_config_rejects(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        TransformerConfig(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cell": "transformer"}, "cell must be one of"),
    ({"d_hidden": 0}, "at least 1"),
    ({"n_layers": 3}, "at most 2"),
    ({"head": "regression"}, "head must be one of"),
    ({"pooling": "max"}, "pooling must be one of"),
    ({"sigmoid_output": True}, "binary classifiers"),
    ({"dropout": 1.5}, "dropout"),
])
def test_recurrent_config_rejects(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        RecurrentConfig(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lr": 0}, "learning rate"),
    ({"lr": -1}, "learning rate"),
    ({"lr": 1e6}, "learning rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 10**7}, "batch_size"),
    ({"optimizer": "lion"}, "optimizer"),
    ({"grad_clip": -1.0}, "grad_clip"),
])
def test_train_config_rejects(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_configs_round_trip_through_dicts() -> None:
    t = TransformerConfig(positional="rotary", encoder_decoder=True)
    r = RecurrentConfig.lecture_lab(d_vocab=50)
    assert config_from_dict(t.to_dict()) == t
    assert config_from_dict(r.to_dict()) == r
    with pytest.raises(ValueError, match="Unknown config fields"):
        config_from_dict({**r.to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match="Unknown model kind"):
        config_from_dict({"kind": "mamba"})


def test_parameter_estimate_counts_what_is_built() -> None:
    from explorer.models import build_model
    from explorer.models.config import parameter_estimate

    configs = [RecurrentConfig(cell=cell, d_vocab=50, d_embed=8, d_hidden=16, n_layers=2, head=head, pad_id=0)
               for cell in ("rnn", "gru", "lstm") for head in ("lm", "classifier")]
    configs.append(RecurrentConfig.lecture_lab(d_vocab=100, pad_id=0))
    for config in configs:
        built = sum(p.numel() for p in build_model(config).parameters())
        assert parameter_estimate(config) == built
    for config in [TransformerConfig(d_vocab=50, n_ctx=32, d_model=32, n_heads=4, d_mlp=64, positional=pos,
                                     attn_only=attn_only, encoder_decoder=encdec)
                   for pos in ("learned", "rotary") for attn_only in (False, True) for encdec in (False, True)]:
        built = sum(p.numel() for p in build_model(config).parameters())
        assert abs(parameter_estimate(config) - built) <= 0.02 * built


def test_a_model_too_big_for_a_shared_server_is_refused() -> None:
    with pytest.raises(ValueError, match="M parameters"):
        TransformerConfig(d_vocab=60_000, d_model=2048, n_heads=16, n_layers=12, d_mlp=8192)
    with pytest.raises(ValueError, match="M parameters"):
        RecurrentConfig(d_vocab=60_000, d_embed=2048, d_hidden=2048, n_layers=2)
