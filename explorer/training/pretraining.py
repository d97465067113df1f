"""Pre-train, then fine-tune, at the app's own scale: a classifier started from a pre-trained model's weights,
and its twin started from random weights, trained alike — the gain pre-training gives, measured.

A masked-LM encoder (or an encoder-sized next-token model) learned its vocabulary from the text it read; the
classification texts are re-read with that vocabulary (explorer/data/text_tasks.retokenize), its body (embeddings,
positions, blocks) is copied, and a fresh classifier head replaces its language-model head. The twin has the same
configuration, data, head, seed and training settings; only the body starts random.
"""

from __future__ import annotations

import dataclasses

import torch

from explorer.data.dataset import TaskData
from explorer.data.text_tasks import retokenize
from explorer.models import TransformerConfig, build_model
from explorer.training.config import TrainConfig
from explorer.training.run import Run, new_run
from explorer.training.snapshots import live_copy

LANGUAGE_HEAD = ("W_U", "b_U")
FINETUNE_STEPS = 600
PRETRAINED_PRESET = "Fine-tuned from pre-training"
SCRATCH_PRESET = "Same model from scratch"


def can_be_fine_tuned(run: Run) -> bool:
    """A transformer pre-trained here on text (masked LM or next token), encoder-decoders aside."""
    cfg = run.config
    return run.is_transformer and cfg.head in ("mlm", "lm") and not cfg.encoder_decoder


def classifier_config(pretrained: TransformerConfig, n_classes: int, dropout: float = 0.1) -> TransformerConfig:
    """The pre-trained model's shape with a classifier head (mean pooling; a next-token model stays causal)."""
    return dataclasses.replace(pretrained, head="classifier", n_classes=n_classes, pooling="mean", mask_id=None,
                               dropout=dropout)


def body_state(run: Run) -> dict[str, torch.Tensor]:
    """The pre-trained weights without the language-model head (a CPU copy of the current weights)."""
    return {k: v for k, v in live_copy(run).state_dict().items() if k not in LANGUAGE_HEAD}


def finetune_train_config(steps: int = FINETUNE_STEPS) -> TrainConfig:
    """As the lecture comparison's small transformer: AdamW 1e-3, weight decay 0.01, batch 64."""
    return TrainConfig(lr=1e-3, optimizer="adamw", weight_decay=0.01, max_steps=steps, batch_size=64, eval_every=50)


def fine_tune_pair(pretrained: Run, data: TaskData, names: tuple[str, str],
                   train_config: TrainConfig | None = None, seed: int = 0) -> tuple[Run, Run]:
    """(the classifier started from ``pretrained``'s body, its twin started from scratch), built, not started.

    Raises ValueError when ``pretrained`` cannot be fine-tuned or ``data`` is not a classification task."""
    if not can_be_fine_tuned(pretrained):
        raise ValueError("Fine-tune a language model pre-trained here (masked LM or next token).")
    if data.kind != "classification":
        raise ValueError("Fine-tuning needs classification data (movie-review sentiment, a labelled CSV).")
    reread = retokenize(data, pretrained.tokenizer, max_len=pretrained.config.n_ctx)
    config = classifier_config(pretrained.config, data.n_classes)
    train_config = train_config or finetune_train_config()
    start = build_model(config, seed=seed).state_dict()  # the head both share
    start.update(body_state(pretrained))
    tuned = new_run(names[0], reread, config, train_config, preset=PRETRAINED_PRESET, seed=seed, initial_state=start)
    scratch = new_run(names[1], reread, config, train_config, preset=SCRATCH_PRESET, seed=seed)
    return tuned, scratch
