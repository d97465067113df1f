"""Recurrent options of the first deck: bidirectional classifiers, the W_hh initialisation scale, a frozen
embedding table."""

from __future__ import annotations

import pytest
import torch

from explorer.analysis.gradients import spectra
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import PAD
from explorer.models import RecurrentConfig, build_model
from explorer.models.config import parameter_estimate
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer

V, E, H = 13, 5, 7


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize(("n_layers", "pooling"), [(1, "last"), (2, "mean"), (2, "last")])
def test_bidirectional_replay_equals_torchs_bidirectional_module(cell, n_layers, pooling) -> None:
    cfg = RecurrentConfig(cell=cell, d_vocab=V, d_embed=E, d_hidden=H, n_layers=n_layers, head="classifier",
                          n_classes=3, pooling=pooling, bidirectional=True, pad_id=PAD)
    model = build_model(cfg).eval()
    tokens = torch.tensor([[4, 5, 6, 7, 0, 0], [8, 9, 10, 11, 4, 5]])
    logits, cache = model.run_with_cache(tokens)
    torch.testing.assert_close(logits, model(tokens), atol=1e-5, rtol=0)
    torch.testing.assert_close(model(tokens[:1, :4]), logits[:1], atol=1e-5, rtol=0)  # padding changes nothing
    assert cache[f"rnn_reverse.{n_layers - 1}.hook_h"].shape == (2, 6, H)
    assert cache["hook_pooled"].shape == (2, 2 * H)
    # On the unpadded row torch's own bidirectional output is [→hₜ; ←hₜ] at every step.
    fused, _ = model.rnn(model.embed(tokens[1:]))  # [1, pos, 2H], top layer
    torch.testing.assert_close(cache[f"rnn.{n_layers - 1}.hook_h"][1:], fused[..., :H], atol=1e-5, rtol=0)
    torch.testing.assert_close(cache[f"rnn_reverse.{n_layers - 1}.hook_h"][1:], fused[..., H:], atol=1e-5, rtol=0)
    assert parameter_estimate(cfg) == sum(p.numel() for p in model.parameters())


def test_bidirectional_is_for_classifiers_and_learns_brackets() -> None:
    with pytest.raises(ValueError, match="classifiers only"):
        RecurrentConfig(bidirectional=True)
    data = make_task(TaskSpec(name="brackets", seq_len=10, n_train=2000, n_val=200))
    cfg = RecurrentConfig(cell="gru", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=16, head="classifier",
                          n_classes=2, pooling="last", bidirectional=True, pad_id=PAD)
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=1e-2, max_steps=200, eval_every=200))
    trainer.step(n_steps=200)
    assert trainer.val_history[-1]["val_accuracy"] > 0.8


def test_hh_init_scale_multiplies_w_hh_and_its_spectral_radius() -> None:
    base = build_model(RecurrentConfig(cell="rnn", d_vocab=V, d_embed=E, d_hidden=32), seed=4)
    scaled = build_model(RecurrentConfig(cell="rnn", d_vocab=V, d_embed=E, d_hidden=32, hh_init_scale=3.0), seed=4)
    torch.testing.assert_close(scaled.W_hh(0), 3.0 * base.W_hh(0))
    torch.testing.assert_close(scaled.rnn.weight_ih_l0, base.rnn.weight_ih_l0)
    assert spectra(scaled.W_hh(0), "rnn")[0].radius == pytest.approx(3.0 * spectra(base.W_hh(0), "rnn")[0].radius)
    with pytest.raises(ValueError, match="hh_init_scale"):
        RecurrentConfig(hh_init_scale=0.0)


def test_a_frozen_embedding_does_not_move_while_the_rest_trains() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    cfg = RecurrentConfig(cell="lstm", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=16,
                          freeze_embedding=True)
    model = build_model(cfg)
    table, recurrent = model.embed.weight.detach().clone(), model.rnn.weight_hh_l0.detach().clone()
    Trainer(model, data, TrainConfig(max_steps=5, weight_decay=0.1, optimizer="adamw")).step(n_steps=5)
    assert torch.equal(model.embed.weight, table)
    assert not torch.equal(model.rnn.weight_hh_l0, recurrent)


def test_a_run_starts_from_the_given_embedding_rows_and_reset_returns_to_them() -> None:
    import numpy as np

    from explorer.training.run import new_run

    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    rows = np.random.default_rng(0).normal(size=(data.tokenizer.vocab_size, 8)).astype(np.float32)
    cfg = RecurrentConfig(cell="gru", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=16,
                          embedding_init="glove")
    run = new_run("glove", data, cfg, TrainConfig(max_steps=5), embedding=rows)
    torch.testing.assert_close(run.model.W_E.detach(), torch.from_numpy(rows))
    run.trainer.step(n_steps=5)
    assert not torch.allclose(run.model.W_E.detach(), torch.from_numpy(rows))  # trainable: it moved
    run.trainer.reset()
    torch.testing.assert_close(run.model.W_E.detach(), torch.from_numpy(rows))
    with pytest.raises(ValueError, match="embedding size to 8"):
        new_run("bad", data, RecurrentConfig(cell="gru", d_vocab=data.tokenizer.vocab_size, d_embed=4),
                TrainConfig(), embedding=rows)
