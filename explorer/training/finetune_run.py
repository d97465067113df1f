"""Runs that fine-tune a pretrained encoder: built after the memory guard, trained by :class:`FinetuneTrainer`.

Defaults per method (AdamW, batch 32, constant rate): the frozen-encoder methods and the small adapters take
large steps (1e-3 to 3e-3); full fine-tuning takes BERT's small ones (5e-5), or it forgets what pre-training
taught within a few steps.
"""

from __future__ import annotations

from explorer.data.dataset import TaskData
from explorer.data.tokenizers import SPECIALS, Tokenizer
from explorer.models.finetune import FinetuneConfig, build_classifier
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.config import TrainConfig
from explorer.training.finetune_checkpoints import FinetuneCheckpoint
from explorer.training.finetune_trainer import FinetuneTrainer, check_finetune
from explorer.training.run import Run, next_run_id

DEFAULT_LR = {"probe": 3e-3, "head": 1e-3, "bitfit": 2e-3, "lora": 1e-3, "full": 5e-5}


def default_train_config(method: str, max_steps: int = 300, **overrides) -> TrainConfig:
    """How a method trains by default: AdamW with weight decay 0.01, batch 32, evaluated every 25 steps."""
    settings = dict(lr=DEFAULT_LR[method], optimizer="adamw", weight_decay=0.01, batch_size=32, max_steps=max_steps,
                    eval_every=25, eval_examples=1000, grad_clip=1.0, snapshot_every=25)
    return TrainConfig(**{**settings, **overrides})


def new_finetune_run(name: str, data: TaskData, base: PretrainedModel, config: FinetuneConfig,
                     train_config: TrainConfig | None = None, preset: str = "Fine-tune", seed: int = 0) -> Run:
    """Fine-tune ``base`` (never modified: the run trains its own copy of what it changes) on ``data``.

    Raises ValueError when the data is not a classification task or the run would not fit (checked before any
    weight is copied)."""
    train_config = train_config or default_train_config(config.method)
    if base.config.name != config.base:
        raise ValueError(f"The configuration asks for {config.base}, but the model given is {base.config.name}.")
    check_finetune(base, config, train_config, data)
    model = build_classifier(base, config, seed)
    trainer = FinetuneTrainer(model, data, train_config, model_seed=seed)
    return Run(id=next_run_id(), name=name, preset=preset, model=trainer.model, tokenizer=data.tokenizer, data=data,
               trainer=trainer)


def finetune_run_from_checkpoint(ckpt: FinetuneCheckpoint, base: PretrainedModel, data: TaskData | None = None) -> Run:
    """A run from a validated fine-tuning checkpoint on ``base`` (refused when it is not the checkpoint's base).

    With its data (the same classification task, rebuilt by the caller) it can train further; without, it is for
    inspection only."""
    model = ckpt.attach(base)
    trainer = None
    if data is not None and data.kind == "classification" and data.n_classes == ckpt.config.n_classes \
            and data.name == ckpt.data.get("name"):
        train_config = TrainConfig.from_dict(ckpt.train_config) if ckpt.train_config else \
            default_train_config(ckpt.config.method)
        trainer = FinetuneTrainer(model, data, train_config)
        trainer.restore_progress(ckpt.step, ckpt.history, ckpt.val_history)
    return Run(id=next_run_id(), name=ckpt.name, preset="Checkpoint", model=trainer.model if trainer else model.eval(),
               tokenizer=data.tokenizer if data is not None else Tokenizer(mode="word", tokens=list(SPECIALS)),
               data=data if trainer else None, trainer=trainer, origin="checkpoint")
