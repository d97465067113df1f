"""Inputs to run a model on for the position views: validation examples of a run, or a typed text for a
pretrained model, with the masks that say which positions hold real tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from explorer.data.batches import format_split
from explorer.data.tokenizers import PAD
from explorer.training.run import Run


@dataclass
class ModelInputs:
    """``args`` for ``model(*args)``; ``masks`` per stack prefix ("blocks", "encoder") [batch, pos], True for real
    tokens (None: all real); ``labels`` the token strings of example 0 per stack; ``targets`` what the model
    should predict (a run's own data only)."""

    args: tuple[torch.Tensor, ...]
    masks: dict[str, torch.Tensor | None] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    targets: torch.Tensor | None = None  # [batch, pos] next-token labels of a run's own data (-100: not scored)

    @property
    def n_examples(self) -> int:
        return self.args[0].shape[0]


def run_inputs(run: Run, n_examples: int = 64, text: str | None = None,
               device: torch.device | str | None = None) -> ModelInputs:
    """The first ``n_examples`` validation examples of a run (or ``text`` encoded with its tokenizer), on
    ``device`` (default: where the run's model is; pass the device of a copy when running that instead).

    Raises ValueError when there is nothing to run on (no data and no text, or an encoder-decoder with text only).
    """
    device = device if device is not None else next(run.model.parameters()).device
    if text is not None or run.data is None:
        if not text:
            raise ValueError("This run has no data of its own: type a text to run it on.")
        if getattr(run.config, "encoder_decoder", False):
            raise ValueError("An encoder-decoder needs a source and a target: only its own task data can drive it.")
        ids = run.tokenizer.encode(text)[: run.config.n_ctx]
        if not ids:
            raise ValueError("The text gives no tokens.")
        tokens = torch.tensor([ids], device=device)
        return ModelInputs((tokens,), {"blocks": None}, {"blocks": run.tokenizer.to_str_tokens(ids)})
    seq_len = run.trainer.config.seq_len if run.trainer else 64
    batch = format_split(run.data.val, run.data, run.config, seq_len)
    batch = batch.take(torch.arange(min(n_examples, len(batch)))).to(device)
    inputs = batch.inputs  # [batch, pos]
    masks: dict[str, torch.Tensor | None] = {"blocks": (inputs != PAD).cpu()}
    labels = {"blocks": run.tokenizer.to_str_tokens(inputs[0].tolist())}
    args: tuple[torch.Tensor, ...] = (inputs,)
    if batch.decoder_inputs is not None:
        args = (inputs, batch.decoder_inputs)
        masks = {"encoder": (inputs != PAD).cpu(), "blocks": (batch.decoder_inputs != PAD).cpu()}
        labels = {"encoder": labels["blocks"], "blocks": run.tokenizer.to_str_tokens(batch.decoder_inputs[0].tolist())}
    return ModelInputs(args, masks, labels, batch.labels if batch.labels.dim() == 2 else None)


def text_inputs(model: Any, text: str, max_tokens: int = 128) -> ModelInputs:
    """A pretrained model's tokens for ``text`` (its special tokens included), cut to ``max_tokens``."""
    tokens = model.to_tokens(text, max_tokens=max_tokens)  # [1, pos]
    if tokens.shape[1] == 0:
        raise ValueError("The text gives no tokens.")
    return ModelInputs((tokens,), {"blocks": None}, {"blocks": model.to_str_tokens(tokens)})
