"""The first deck's training controls: learning-rate schedules, plain SGD, RMSprop and early stopping."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.data.tasks import TaskSpec, make_task
from explorer.models import RecurrentConfig, build_model
from explorer.training.config import TrainConfig
from explorer.training.metrics import forward, loss_fn
from explorer.training.optim import make_optimizer
from explorer.training.schedules import learning_rate, schedule_frame
from explorer.training.trainer import Trainer


def _lstm(vocab: int, hidden: int = 16) -> RecurrentConfig:
    return RecurrentConfig(cell="lstm", d_vocab=vocab, d_embed=8, d_hidden=hidden)


@pytest.mark.parametrize(("schedule", "extra", "expected"), [
    ("constant", {}, {0: 0.1, 5: 0.1, 99: 0.1}),
    ("step", {"decay_every": 3, "decay_factor": 0.5}, {0: 0.1, 2: 0.1, 3: 0.05, 5: 0.05, 6: 0.025, 11: 0.0125}),
    ("inverse", {"tau": 10.0}, {0: 0.1, 10: 0.05, 30: 0.025, 90: 0.01}),
    ("warmup_cosine", {"warmup_steps": 4, "max_steps": 12},
     {0: 0.025, 1: 0.05, 3: 0.1, 4: 0.1, 8: 0.05, 12: 0.0}),
])
def test_schedules_give_the_stated_rates_step_by_step(schedule, extra, expected) -> None:
    config = TrainConfig(lr=0.1, schedule=schedule, **extra)
    for k, rate in expected.items():
        assert learning_rate(config, k) == pytest.approx(rate, abs=1e-12), (schedule, k)
    frame = schedule_frame(config)
    assert frame["step"].iloc[-1] == config.max_steps and frame["lr"].iloc[0] == pytest.approx(expected[0])


def test_the_trainer_uses_the_schedule_at_every_step() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=100, n_val=20))
    config = TrainConfig(lr=0.05, optimizer="sgd", momentum=0.0, schedule="inverse", tau=3.0, max_steps=9)
    trainer = Trainer(build_model(_lstm(data.tokenizer.vocab_size)), data, config)
    trainer.step(n_steps=9)
    assert [row["lr"] for row in trainer.history] == pytest.approx([0.05 / (1 + k / 3) for k in range(9)])


def test_bad_schedule_settings_say_what_to_change() -> None:
    with pytest.raises(ValueError, match="schedule must be one of"):
        TrainConfig(schedule="exponential")
    with pytest.raises(ValueError, match="momentum"):
        TrainConfig(momentum=1.0)
    with pytest.raises(ValueError, match="decay_factor"):
        TrainConfig(decay_factor=0.0)
    with pytest.raises(ValueError, match="tau"):
        TrainConfig(tau=-1.0)
    assert TrainConfig.from_dict({"lr": 0.01}).momentum == 0.9  # old checkpoints keep SGD's momentum of 0.9


def test_sgd_with_momentum_zero_is_the_plain_update() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=200, n_val=20))
    config = TrainConfig(lr=0.3, optimizer="sgd", momentum=0.0, grad_clip=None, batch_size=16, max_steps=5)
    model = build_model(_lstm(data.tokenizer.vocab_size))
    trainer = Trainer(model, data, config)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    index = torch.randint(len(trainer.train_set), (config.batch_size,),
                          generator=torch.Generator().manual_seed(config.seed))  # the batch the trainer draws
    batch = trainer.train_set.take(index)
    reference = build_model(model.config)
    reference.load_state_dict(model.state_dict())
    loss_fn(forward(reference, batch), batch.labels).backward()
    trainer.step(n_steps=1)
    for name, param in model.named_parameters():
        grad = dict(reference.named_parameters())[name].grad
        torch.testing.assert_close(param.detach(), before[name] - 0.3 * grad, rtol=0, atol=1e-6)


def test_sgd_momentum_and_rmsprop_follow_their_update_rules() -> None:
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    grad = torch.tensor([0.5, 0.25])
    optimizer = make_optimizer([weight], TrainConfig(lr=0.1, optimizer="sgd", momentum=0.5))
    for expected in ([0.95, -2.025], [0.875, -2.0625]):  # v = g, then v = 0.5 v + g = 1.5 g
        weight.grad = grad.clone()
        optimizer.step()
        torch.testing.assert_close(weight.detach(), torch.tensor(expected))
    weight = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = make_optimizer([weight], TrainConfig(lr=0.01, optimizer="rmsprop"))
    weight.grad = torch.tensor([2.0])
    optimizer.step()
    s = 0.01 * 4.0  # s ← 0.99 s + 0.01 g², from s = 0
    torch.testing.assert_close(weight.detach(), torch.tensor([1.0 - 0.01 * 2.0 / (math.sqrt(s) + 1e-8)]))


def test_frozen_weights_are_left_out_of_the_optimizer() -> None:
    model = build_model(_lstm(12))
    model.embed.weight.requires_grad_(False)
    optimizer = make_optimizer(model.parameters(), TrainConfig())
    stepped = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert id(model.embed.weight) not in stepped and len(stepped) == len(list(model.parameters())) - 1


def _early_stopping_trainer() -> Trainer:
    """40 training examples and a wide model: the validation loss turns up after a few evaluations."""
    data = make_task(TaskSpec(name="reverse", seq_len=6, n_symbols=10, n_train=40, n_val=200))
    config = TrainConfig(lr=1e-2, max_steps=3000, eval_every=10, snapshot_every=10, max_snapshots=1000,
                         batch_size=40, early_stopping=True, patience=3)
    return Trainer(build_model(_lstm(data.tokenizer.vocab_size, hidden=128)), data, config)


def test_early_stopping_restores_exactly_the_best_steps_weights() -> None:
    trainer = _early_stopping_trainer()
    config = trainer.config
    trainer.start()
    trainer.step(n_steps=3000)
    assert trainer.stopped_early and trainer.status == "done" and trainer.step_count < 3000
    losses = {row["step"]: row["val_loss"] for row in trainer.val_history}
    best = min(losses, key=losses.get)
    assert trainer.best_step == best
    assert trainer.step_count == trainer.val_history[-1]["step"] == best + 3 * config.eval_every
    assert all(losses[s] >= losses[best] for s in losses if s > best)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, trainer.snapshots[best][name]), name
    assert f"step {best}" in trainer.message and "restored" in trainer.message
    assert trainer.evaluate()["val_loss"] == pytest.approx(losses[best], rel=1e-5)


def test_a_run_opened_again_keeps_its_best_step_and_its_snapshots() -> None:
    """Save a run with early stopping before it stops, open the checkpoint: the validation minimum so far, its
    weights (from the snapshots) and the earlier snapshots come back, and training on stops at the same step."""
    from explorer.training.checkpoints import checkpoint_from_trainer, from_bytes, to_bytes
    from explorer.training.run import run_from_checkpoint

    trainer = _early_stopping_trainer()
    config = trainer.config
    trainer.start()
    trainer.step(n_steps=3000)
    assert trainer.stopped_early
    best, stop = trainer.best_step, trainer.step_count

    again = _early_stopping_trainer()
    again.start()
    again.step(n_steps=stop - config.eval_every)  # one evaluation before the stop
    run = run_from_checkpoint(from_bytes(to_bytes(checkpoint_from_trainer(again, "r", with_snapshots=True),
                                                  snapshot_dtype=torch.float32)))
    opened = run.trainer
    assert opened.best_step == best and opened.best_val_loss == pytest.approx(trainer.best_val_loss)
    assert sorted(opened.snapshots) == sorted(again.snapshots)
    opened.start()
    opened.step(n_steps=3000)
    assert opened.stopped_early and opened.step_count == stop and opened.best_step == best
    for name, value in opened.model.state_dict().items():
        torch.testing.assert_close(value, trainer.snapshots[best][name], atol=1e-6, rtol=0)
