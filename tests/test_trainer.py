"""The chunked trainer: learns, stops on divergence with the last good weights, pauses, resets, scrubs."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import PAD
from explorer.models import RecurrentConfig, TransformerConfig, build_model
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer


def _transformer(vocab: int) -> TransformerConfig:
    return TransformerConfig(d_vocab=vocab, n_ctx=16, d_model=32, n_heads=4, n_layers=2, d_mlp=64, pad_id=PAD)


@pytest.mark.parametrize("task", ["copy", "reverse"])
def test_transformer_learns_copy_and_reverse(task: str) -> None:
    data = make_task(TaskSpec(name=task, seq_len=5, n_symbols=8, n_train=2000, n_val=200))
    cfg = _transformer(data.tokenizer.vocab_size)
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=3e-3, max_steps=250, eval_every=250))
    trainer.step(n_steps=250)
    chance = math.log(8)
    final = trainer.val_history[-1]
    assert final["val_loss"] < 0.1 * chance, final
    assert final["val_accuracy"] > 0.95


def test_lstm_learns_copy() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_symbols=6, n_train=2000, n_val=200))
    cfg = RecurrentConfig(cell="lstm", d_vocab=data.tokenizer.vocab_size, d_embed=16, d_hidden=64)
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=1e-2, max_steps=300, eval_every=300))
    trainer.step(n_steps=300)
    assert trainer.val_history[-1]["val_loss"] < 0.25 * math.log(6)


def test_chunks_are_bounded_and_the_target_stops_training() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=100, n_val=20))
    trainer = Trainer(build_model(_transformer(data.tokenizer.vocab_size)), data, TrainConfig(max_steps=7))
    assert trainer.step(n_steps=3).steps == 3
    assert trainer.step(time_budget_s=0.0).steps == 1  # a time budget still makes progress
    assert trainer.step(n_steps=100).steps == 3
    assert trainer.status == "done" and trainer.step_count == 7
    assert trainer.step(n_steps=5).steps == 0
    trainer.set_max_steps(9)
    assert trainer.step(n_steps=5).steps == 2
    frame = trainer.metrics_frame()
    assert list(frame["step"]) == list(range(1, 10))
    assert {"loss", "accuracy", "lr", "grad_norm", "tokens_per_s", "val_loss", "val_accuracy"} <= set(frame.columns)
    assert frame["val_loss"].notna().sum() == 2  # evaluated at the step targets 7 and 9


def test_same_seed_same_run() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=200, n_val=20))
    runs = []
    for _ in range(2):
        trainer = Trainer(build_model(_transformer(data.tokenizer.vocab_size), seed=5), data,
                          TrainConfig(max_steps=20, seed=2), model_seed=5)
        trainer.step(n_steps=20)
        runs.append([row["loss"] for row in trainer.history])
    assert runs[0] == runs[1]


def test_reset_returns_to_the_seeded_start() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=200, n_val=20))
    trainer = Trainer(build_model(_transformer(data.tokenizer.vocab_size), seed=1), data,
                      TrainConfig(max_steps=50), model_seed=1)
    first = [trainer.step().steps for _ in range(5)]
    losses = [r["loss"] for r in trainer.history]
    trainer.reset()
    assert trainer.step_count == 0 and trainer.history == [] and list(trainer.snapshots) == [0]
    trainer.step(n_steps=5)
    assert [r["loss"] for r in trainer.history] == losses and first == [1] * 5


def test_pause_and_start() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=100, n_val=20))
    trainer = Trainer(build_model(_transformer(data.tokenizer.vocab_size)), data, TrainConfig(max_steps=5))
    assert trainer.status == "ready"
    trainer.start()
    assert trainer.is_running
    trainer.pause()
    assert trainer.status == "paused" and not trainer.is_running


def test_huge_learning_rate_stops_with_a_message_and_keeps_good_weights() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=5, n_train=500, n_val=50))
    model = build_model(_transformer(data.tokenizer.vocab_size))
    trainer = Trainer(model, data, TrainConfig(lr=10.0, max_steps=200))
    start_weights = {k: v.clone() for k, v in model.state_dict().items()}
    result = trainer.step(n_steps=200)
    assert result.status == "diverged" and trainer.status == "diverged"
    assert "learning rate" in trainer.message and "restored" in trainer.message
    assert trainer.step_count == 0
    for name, value in model.state_dict().items():
        assert torch.equal(value, start_weights[name]), name  # the last good weights are the initial ones
    assert trainer.step(n_steps=5).steps == 0  # stays stopped until the user clears it


def test_nan_loss_stops_and_restores_last_good_weights() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    model = build_model(_transformer(data.tokenizer.vocab_size))
    trainer = Trainer(model, data, TrainConfig(lr=1e-3, max_steps=100))
    trainer.step(n_steps=20)  # good copies are kept every 10 steps
    good = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.W_U.fill_(float("nan"))
    trainer.step(n_steps=5)
    assert trainer.status == "diverged" and "nan" in trainer.message.lower()
    assert trainer.step_count == 20
    for name, value in model.state_dict().items():
        assert torch.equal(value, good[name])
    trainer.clear_divergence()
    assert trainer.step(n_steps=3).steps == 3


def test_snapshot_ring_stays_bounded_and_covers_the_run() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=100, n_val=20))
    trainer = Trainer(build_model(_transformer(data.tokenizer.vocab_size)), data,
                      TrainConfig(max_steps=200, snapshot_every=5, max_snapshots=6))
    trainer.step(n_steps=200)
    steps = sorted(trainer.snapshots)
    assert len(steps) <= 6 and steps[0] == 0 and steps[-1] >= 160
    weights = trainer.load_snapshot(steps[1])
    assert set(weights) == set(trainer.model.state_dict())
    assert not torch.equal(weights["W_U"], trainer.snapshots[0]["W_U"])


def test_classifier_training_improves_accuracy() -> None:
    data = make_task(TaskSpec(name="brackets", seq_len=12, n_train=2000, n_val=300))
    cfg = RecurrentConfig.lecture_lab(d_vocab=data.tokenizer.vocab_size, pad_id=PAD)
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=1e-2, max_steps=600, eval_every=600))
    before = trainer.evaluate()["val_accuracy"]
    trainer.step(n_steps=600)
    after = trainer.val_history[-1]["val_accuracy"]
    assert before < 0.65 and after > 0.9


def test_a_second_thread_cannot_train_the_same_run_at_once() -> None:
    """Streamlit can start a new script run before the last one returns: only one may train."""
    import threading

    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=100, n_val=20))
    trainer = Trainer(build_model(_transformer(data.tokenizer.vocab_size)), data, TrainConfig(max_steps=1000))
    started, results = threading.Event(), []
    original = trainer._one_step

    def slow_step():
        started.set()
        return original()

    trainer._one_step = slow_step
    worker = threading.Thread(target=lambda: results.append(trainer.step(n_steps=30)))
    worker.start()
    started.wait(10)
    assert trainer.step(n_steps=5).steps == 0  # the other thread holds the run
    worker.join(300)
    assert results[0].steps == 30 and trainer.step_count == 30


def test_running_out_of_memory_stops_the_run_and_keeps_good_weights(monkeypatch) -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    model = build_model(_transformer(data.tokenizer.vocab_size))
    trainer = Trainer(model, data, TrainConfig(lr=1e-3, max_steps=100))
    trainer.start()
    trainer.step(n_steps=20)
    good = {k: v.clone() for k, v in model.state_dict().items()}

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 68719476736 bytes.\nmore detail")

    monkeypatch.setattr(model, "forward", out_of_memory)
    result = trainer.step(n_steps=5)  # must not raise: the sidebar calls this on every page
    assert result.steps == 0 and trainer.status == "diverged" and not trainer.is_running
    assert "can't allocate memory" in trainer.message and "restored to step 20" in trainer.message
    assert "\n" not in trainer.message
    for name, value in model.state_dict().items():
        assert torch.equal(value, good[name])


def test_other_errors_are_not_hidden(monkeypatch) -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    model = build_model(_transformer(data.tokenizer.vocab_size))
    trainer = Trainer(model, data, TrainConfig(max_steps=10))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(model, "forward", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        trainer.step(n_steps=1)


def test_a_step_that_would_not_fit_in_memory_is_refused_before_training() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    config = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=4096, d_model=512, n_heads=8, n_layers=6,
                               d_mlp=2048)
    model = build_model(config)
    with pytest.raises(ValueError, match="GB"):
        Trainer(model, data, TrainConfig(batch_size=4096, max_steps=10))


def test_validation_loss_is_the_mean_over_every_labelled_token() -> None:
    from torch.nn import functional

    from explorer.data.batches import format_split
    from explorer.training.metrics import IGNORE, forward

    data = make_task(TaskSpec(name="grammar", seq_len=12, n_train=100, n_val=37))  # examples of 8 to 12 tokens
    model = build_model(_transformer(data.tokenizer.vocab_size)).eval()
    trainer = Trainer(model, data, TrainConfig(max_steps=5))
    split = format_split(data.val, data, model.config, 64)
    with torch.no_grad():
        logits = forward(model, split)
        expected = functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), split.labels.reshape(-1),
                                            ignore_index=IGNORE, reduction="sum") / (split.labels != IGNORE).sum()
    assert trainer.evaluate(split, batch_size=8)["val_loss"] == pytest.approx(float(expected), rel=1e-5)
