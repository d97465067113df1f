"""The trainer, adapted to a pretrained encoder with a classification head (explorer/models/finetune).

Everything the app's trainer gives stays — chunked steps, pause/resume/reset, metrics, the divergence guard that
restores the last good weights, a ring of snapshots — but what it copies and restores is the trained parameters
only (a LoRA run's snapshot is a few hundred KB, not the 90 MB of MiniLM). Texts are read by the base model's own
tokenizer; batches draw examples of similar length together, so little of each step is spent on padding.
"""

from __future__ import annotations

import copy

import torch

from explorer.data.batches import Formatted
from explorer.data.dataset import Split, TaskData
from explorer.data.text_tasks import split_texts
from explorer.models.finetune.classifier import EncoderClassifier
from explorer.models.finetune.config import FinetuneConfig
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.config import TrainConfig
from explorer.training.finetune_budget import check_finetune_budget
from explorer.training.optim import make_optimizer
from explorer.training.trainer import Trainer

POOL_BATCHES = 8  # a batch is one of this many length-sorted slices of POOL_BATCHES × batch_size random examples


def encode_texts(encoder: PretrainedModel, texts: list[str], max_len: int) -> torch.Tensor:
    """Token ids [N, width] with the base's special tokens, cut to ``max_len``, right-padded with its pad id."""
    if encoder.tokenizer is None:
        raise ValueError(f"{encoder.config.name} was loaded without its tokenizer: texts cannot be read.")
    limit = min(max_len, encoder.config.n_ctx)
    # No truncation argument: it would change the shared tokenizer's settings while other sessions use it. Cut
    # here instead, keeping the closing [SEP] as the tokenizer's own truncation does.
    ids = encoder.tokenizer(list(texts), add_special_tokens=True, verbose=False)["input_ids"]
    sep = encoder.config.sep_id
    ids = [row if len(row) <= limit else [*row[:limit - 1], row[-1]] if sep is not None and row[-1] == sep
           else row[:limit] for row in ids]
    width = max((len(row) for row in ids), default=1)
    out = torch.full((len(ids), max(width, 1)), int(encoder.config.pad_id or 0), dtype=torch.long)
    for i, row in enumerate(ids):
        out[i, :len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def longest_text(encoder: PretrainedModel, config: FinetuneConfig, data: TaskData) -> int:
    """Tokens in the longest training example (after the cut): the positions a step may have to hold."""
    texts = split_texts(data.train, data.tokenizer)[:2000]  # a sample is enough for the memory guard
    return int(encode_texts(encoder, texts, config.max_len).shape[1]) if texts else 1


def check_finetune(encoder: PretrainedModel, config: FinetuneConfig, train: TrainConfig, data: TaskData) -> None:
    """Raise ValueError (what to change) when ``config`` cannot fine-tune ``encoder`` on ``data``: before any
    weight is copied."""
    if encoder.config.causal:
        raise ValueError(f"{encoder.config.name} is a decoder: fine-tuning here is for encoders (BERT, MiniLM, "
                         "RoBERTa, DistilBERT), whose tokens see both sides.")
    check_finetune_data(config, data)
    check_finetune_budget(encoder.config, config, train, longest_text(encoder, config, data))


def check_finetune_data(model_config: FinetuneConfig, data: TaskData) -> None:
    if data.kind != "classification":
        raise ValueError(f"'{data.name}' is not a classification task: fine-tuning here trains a classifier "
                         "(movie-review sentiment, a labelled CSV, IMDb or SST-2 online).")
    if model_config.n_classes != data.n_classes:
        raise ValueError(f"The task has {data.n_classes} classes but the classifier has {model_config.n_classes}.")


class FinetuneTrainer(Trainer):
    """Trains an :class:`EncoderClassifier` on a classification task's texts with ``config``."""

    model: EncoderClassifier

    def __init__(self, model: EncoderClassifier, data: TaskData, config: TrainConfig | None = None,
                 device: torch.device | str | None = None, model_seed: int = 0):
        if device is not None and torch.device(device).type != "cpu":
            model = copy.deepcopy(model)  # moving shared tensors to a GPU would move the server's copy too
        self._initial = model.trainable_state()  # what reset goes back to
        super().__init__(model, data, config, device, model_seed)

    # ----------------------------------------------------------------- adapted from Trainer
    def _check_fits(self, model: EncoderClassifier, data: TaskData) -> None:
        check_finetune_data(model.config, data)
        check_finetune_budget(model.encoder.config, model.config, self.config,
                              longest_text(model.encoder, model.config, data))

    def _format(self, split: Split, data: TaskData, limit: int | None = None) -> Formatted:
        texts = split_texts(split, data.tokenizer)[:limit]
        inputs = encode_texts(self.model.encoder, texts, self.model.config.max_len)  # [N, width]
        labels = torch.tensor(list(split.labels or [])[:len(texts)], dtype=torch.long)
        order = (inputs != self.model.pad_id).sum(dim=1).argsort(stable=True)  # short first: tight eval batches
        return Formatted(inputs[order], labels[order])

    def _format_splits(self, data: TaskData) -> tuple[Formatted, Formatted]:
        train = self._format(data.train, data)
        self._lengths = (train.inputs != self.model.pad_id).sum(dim=1)  # [N]
        return train.to(self.device), self._format(data.val, data, self.config.eval_examples).to(self.device)

    def _fresh_state(self) -> dict[str, torch.Tensor]:
        return self._initial

    def _reseed_initial_state(self) -> None:
        """Reset after a checkpoint still goes back to the base model with fresh adapters (``_initial``)."""

    def _load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_trainable(state)

    def _cpu_state(self) -> dict[str, torch.Tensor]:
        return self.model.trainable_state()

    def _make_optimizer(self) -> torch.optim.Optimizer:
        return make_optimizer(self.model.trainable_parameters(), self.config)

    def _draw_batch(self) -> Formatted:
        """batch_size random examples (with replacement, as the app's trainer), drawn as one of POOL_BATCHES
        length-sorted slices of a larger random draw: every example is equally likely, padding stays short."""
        n, size = len(self.train_set), self.config.batch_size
        pool = torch.randint(n, (POOL_BATCHES * size,), generator=self.generator)
        pool = pool[self._lengths[pool].argsort(stable=True)]
        k = int(torch.randint(POOL_BATCHES, (1,), generator=self.generator))
        return self.train_set.take(pool[k * size:(k + 1) * size].to(self.device))

    def evaluate(self, split: Formatted | None = None, batch_size: int = 64) -> dict[str, float]:
        return super().evaluate(split, batch_size)
