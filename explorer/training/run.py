"""A run: a named model with its tokenizer, the data it learns from and its trainer.

Runs trained in the app have all four. A run opened from an uploaded checkpoint always has the model
and tokenizer; when its data was a generated task the task is rebuilt from the stored spec (same
seed, same examples) and training can go on; otherwise the run is for inspection only.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.data.dataset import TaskData
from explorer.data.tasks import TASKS, TaskSpec, make_task
from explorer.data.tokenizers import Tokenizer
from explorer.models import Model, ModelConfig, RecurrentConfig, Seq2SeqConfig, TransformerConfig, build_model
from explorer.models.config import ATTENTION_NAMES
from explorer.models.finetune.config import FinetuneConfig
from explorer.training.checkpoints import Checkpoint
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer

_ids = itertools.count(1)


def next_run_id() -> str:
    """A run id unique in this server process ("run-7")."""
    return f"run-{next(_ids)}"
REFRESH_STEPS = 25  # while a run trains, views keyed by analysis_step recompute every this many steps


@dataclass
class Run:
    """One model of the session (trained here, or opened from a checkpoint)."""

    id: str
    name: str
    preset: str
    model: Model
    tokenizer: Tokenizer
    data: TaskData | None = None
    trainer: Trainer | None = None
    origin: str = "trained"  # trained | checkpoint
    source: str = ""  # how a link names it when it is not remade from a recipe: "asset:<key>"
    created: float = field(default_factory=time.time)

    @property
    def config(self) -> ModelConfig | FinetuneConfig:
        return self.model.config

    @property
    def step(self) -> int:
        return self.trainer.step_count if self.trainer else 0

    @property
    def analysis_step(self) -> int:
        """The step views key their results by: exact when idle; while training, the last multiple of
        REFRESH_STEPS (so they recompute every REFRESH_STEPS steps rather than on every tick)."""
        if self.trainer is not None and self.trainer.is_running:
            return self.step - self.step % REFRESH_STEPS
        return self.step

    @property
    def status(self) -> str:
        return self.trainer.status if self.trainer else "inspect only"

    @property
    def is_recurrent(self) -> bool:
        return isinstance(self.config, RecurrentConfig)

    @property
    def is_transformer(self) -> bool:
        return isinstance(self.config, TransformerConfig)

    @property
    def is_recurrent_seq2seq(self) -> bool:
        """A recurrent encoder–decoder (its cells can be inspected like a recurrent model's)."""
        return isinstance(self.config, Seq2SeqConfig)

    @property
    def is_finetune(self) -> bool:
        """A pretrained encoder fine-tuned for classification (explorer/models/finetune): its model is not one of
        the app's own, so pages that read those (the RNN page, the run flows of Attention and Circuits) skip it."""
        return isinstance(self.config, FinetuneConfig)

    @property
    def data_name(self) -> str:
        return self.data.name if self.data else "unknown data"

    def label(self) -> str:
        return f"{self.name} · step {self.step}"


def count_parameters(model: Model) -> int:
    return sum(p.numel() for p in model.parameters())


def describe_size(run: Run) -> str:
    """"1,234 parameters", or for a fine-tuning run how many of them it trains: "22,713,986 parameters, trains
    74,498 (0.33 %)"."""
    if not run.is_finetune:
        return f"{count_parameters(run.model):,} parameters"
    from explorer.models.finetune.classifier import parameter_counts

    trained, total = parameter_counts(run.model)
    return f"{total:,} parameters, trains {trained:,} ({trained / max(total, 1):.2%})"


def describe_model(config: ModelConfig | FinetuneConfig) -> str:
    """A one-line description, e.g. ``LSTM 1×64 · classifier (mean pool)``."""
    if isinstance(config, Seq2SeqConfig):
        cell = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}[config.cell]
        return f"{cell} encoder–decoder {config.n_layers}×{config.d_hidden} · {ATTENTION_NAMES[config.attention]}"
    if isinstance(config, FinetuneConfig):
        return f"Fine-tuned {config.describe()} · classifier"
    if isinstance(config, RecurrentConfig):
        cell = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}[config.cell]
        head = f"classifier ({config.pooling} pool)" if config.head == "classifier" else "language model"
        backwards = ", reads backwards" if config.go_backwards else ""
        return f"{cell} {config.n_layers}×{config.d_hidden}{backwards} · {head}"
    kind = ("encoder-decoder" if config.encoder_decoder else "masked-LM encoder" if config.head == "mlm" else
            "decoder LM" if config.causal and config.head == "lm" else
            "causal classifier" if config.causal else "encoder classifier")
    extras = [config.positional + " positions"]
    if config.attn_only:
        extras.append("attention only")
    if not config.layer_norm:
        extras.append("no LayerNorm")
    elif config.post_ln:
        extras.append("post-LN")
    return f"Transformer {config.n_layers}L×{config.n_heads}H d{config.d_model} · {kind} · {', '.join(extras)}"


def new_run(name: str, data: TaskData, model_config: ModelConfig, train_config: TrainConfig,
            preset: str = "Custom", seed: int = 0, embedding: np.ndarray | None = None,
            initial_state: dict | None = None) -> Run:
    """Build the model (seeded, or from ``initial_state``) and its trainer. Raises ValueError when model and data
    do not fit.

    ``embedding`` [vocab_size, d_embed]: the rows the embedding table starts from (e.g. GloVe vectors); Reset goes
    back to them."""
    model = build_model(model_config, seed=seed)
    if embedding is not None:
        _start_embedding(model, embedding)
    trainer = Trainer(model, data, train_config, model_seed=seed, initial_state=initial_state)
    return Run(id=next_run_id(), name=name, preset=preset, model=trainer.model, tokenizer=data.tokenizer,
               data=data, trainer=trainer)


def _start_embedding(model: Model, rows: np.ndarray) -> None:
    weight = model.embed.weight  # [d_vocab, d_embed]
    if rows.ndim != 2 or rows.shape[0] > weight.shape[0] or rows.shape[1] != weight.shape[1]:
        raise ValueError(f"The starting embedding has shape {tuple(rows.shape)}; this model's table is "
                         f"{tuple(weight.shape)} (set the embedding size to {rows.shape[1]}).")
    with torch.no_grad():
        weight[:rows.shape[0]] = torch.as_tensor(rows, dtype=weight.dtype)


def run_from_checkpoint(ckpt: Checkpoint) -> Run:
    """A run from a validated checkpoint: trainable again when its data was a generated task."""
    model = ckpt.build()
    data = _rebuild_generated_task(ckpt)
    trainer = None
    if data is not None:
        try:
            trainer = Trainer(model, data, TrainConfig.from_dict(ckpt.train_config) if ckpt.train_config else None)
        except ValueError:
            trainer = None  # the task no longer fits the model: inspect only
        if trainer is not None:
            trainer.restore_progress(ckpt.step, ckpt.history, ckpt.val_history, ckpt.snapshots)
    return Run(id=next_run_id(), name=ckpt.name, preset=ckpt.preset, model=trainer.model if trainer else model,
               tokenizer=ckpt.tokenizer, data=data, trainer=trainer, origin="checkpoint")


def _rebuild_generated_task(ckpt: Checkpoint) -> TaskData | None:
    info = ckpt.data if isinstance(ckpt.data, dict) else {}
    params = info.get("params")
    if info.get("origin") != "generated" or not isinstance(params, dict):
        return None
    if not isinstance(params.get("name"), str) or params["name"] not in TASKS:
        return None
    if any(not isinstance(v, int) or isinstance(v, bool) for k, v in params.items() if k != "name"):
        return None  # an edited description: the task cannot be rebuilt as it was
    try:
        data = make_task(TaskSpec(**params))
    except (TypeError, ValueError):
        return None
    return data if data.tokenizer == ckpt.tokenizer else None
