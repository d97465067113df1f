"""Trainer throughput against a bare PyTorch loop on the same model, batch and data.

The bare loop is forward, cross-entropy, backward, optimizer step (the trainer's own optimizer) on
random batches drawn from the same formatted tensors. The trainer adds its bookkeeping: chunking,
metrics per step (loss, accuracy, gradient norm, tokens/s), periodic validation, snapshots and the
divergence guard. The ratio is trainer steps/s divided by bare steps/s (1.0 = free bookkeeping).
Conditions as in FACTS.md: vocabulary 100, batch 64, length 64, Adam, 2 CPU threads.

Last line: {"lstm_ratio": …, "transformer_ratio": …, ...}
"""

from __future__ import annotations

import _common  # noqa: F401  (import path)
import torch
from _common import median, report, timed

from explorer.data.dataset import Split, TaskData
from explorer.data.tokenizers import SPECIALS, Tokenizer
from explorer.models import RecurrentConfig, TransformerConfig, build_model
from explorer.training.config import TrainConfig
from explorer.training.metrics import forward, loss_fn
from explorer.training.optim import make_optimizer
from explorer.training.trainer import Trainer

VOCAB, BATCH, SEQ, ROUNDS = 100, 64, 64, 16


def random_text() -> TaskData:
    tok = Tokenizer(mode="symbol", tokens=[*SPECIALS, *(f"w{i}" for i in range(VOCAB - len(SPECIALS)))])
    gen = torch.Generator().manual_seed(0)
    stream = torch.randint(len(SPECIALS), VOCAB, (200_000,), generator=gen)
    return TaskData("random text", "lm", tok, Split(stream=stream[:180_000]), Split(stream=stream[180_000:]))


def bare_loop(trainer: Trainer, steps: int) -> None:
    """The same work without the trainer: sample, forward, loss, backward, step."""
    model, data = trainer.model, trainer.train_set
    optimizer = make_optimizer(model.parameters(), trainer.config)  # the trainer's own optimizer
    gen = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(steps):
        batch = data.take(torch.randint(len(data), (BATCH,), generator=gen))
        loss = loss_fn(forward(model, batch), batch.labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def trainer_loop(trainer: Trainer, steps: int) -> None:
    """``steps`` optimizer steps in chunks of 10, as the live page runs them."""
    for _ in range(steps // 10):
        trainer.step(n_steps=10)


def ratio(config, steps: int) -> tuple[float, float, float]:
    """Median over rounds of (trainer steps/s) / (bare steps/s), each round timing both back to back."""
    trainer = Trainer(build_model(config), random_text(),
                      TrainConfig(lr=1e-3, batch_size=BATCH, seq_len=SEQ, grad_clip=None, max_steps=1_000_000))
    bare_loop(trainer, 5)
    trainer_loop(trainer, 5)  # warm up both paths
    bare, ours = [], []
    for round_ in range(ROUNDS):  # short paired rounds in ABBA order, so drift in machine speed cancels
        pair = [lambda: bare_loop(trainer, steps), lambda: trainer_loop(trainer, steps)]
        order = (0, 1) if round_ % 2 == 0 else (1, 0)
        seconds = {i: timed(pair[i]) for i in order}
        bare.append(steps / seconds[0])
        ours.append(steps / seconds[1])
    return median([o / b for o, b in zip(ours, bare)]), median(bare), median(ours)


def main() -> None:
    torch.set_num_threads(2)
    lstm = RecurrentConfig(cell="lstm", d_vocab=VOCAB, d_embed=32, d_hidden=64)
    transformer = TransformerConfig(d_vocab=VOCAB, n_ctx=SEQ, d_model=64, n_heads=4, n_layers=2, d_mlp=256)
    lstm_ratio, lstm_bare, lstm_ours = ratio(lstm, steps=60)
    tf_ratio, tf_bare, tf_ours = ratio(transformer, steps=20)
    report({
        "lstm_ratio": round(lstm_ratio, 3), "transformer_ratio": round(tf_ratio, 3),
        "lstm_bare_steps_per_s": round(lstm_bare, 1), "lstm_trainer_steps_per_s": round(lstm_ours, 1),
        "transformer_bare_steps_per_s": round(tf_bare, 1), "transformer_trainer_steps_per_s": round(tf_ours, 1),
    })


if __name__ == "__main__":
    main()
