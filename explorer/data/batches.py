"""Turn a :class:`TaskData` split into padded tensors for a particular model.

Formats (chosen from the model config):
- ``lm`` (recurrent LM, decoder-only transformer): inputs ``seq[:-1]``, labels ``seq[1:]``. For a
  seq2seq task the sequence is ``source <sep> target`` and only target positions count in the loss;
  for a text stream the sequence is a window of ``seq_len + 1`` tokens.
- ``encdec`` (encoder-decoder transformer): encoder ``source``, decoder ``<bos> target[:-1]``,
  labels ``target``.
- ``classify``: inputs the sequence, labels the class.
- ``mlm`` (masked-LM encoder): inputs and labels both the clean sequence (a window of ``seq_len`` tokens of a text
  stream); the trainer masks each batch (explorer/data/masking.py), which sets the labels it does not ask for to
  ``IGNORE``.
Ignored label positions hold ``IGNORE`` (-100, cross-entropy's ignore_index). Everything is
formatted once, so drawing a batch is one indexing operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.data.dataset import Split, TaskData
from explorer.data.tokenizers import BOS, PAD, SEP
from explorer.models.config import ModelConfig, Seq2SeqConfig, TransformerConfig

IGNORE = -100


@dataclass
class Formatted:
    """A split as tensors. ``labels`` is [N, pos] for token tasks, [N] for classification."""

    inputs: torch.Tensor  # [N, pos]
    labels: torch.Tensor  # [N, pos] or [N]
    decoder_inputs: torch.Tensor | None = None  # [N, dec_pos]

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def take(self, index: torch.Tensor) -> Formatted:
        dec = None if self.decoder_inputs is None else self.decoder_inputs[index]
        return Formatted(self.inputs[index], self.labels[index], dec)

    def to(self, device: torch.device | str) -> Formatted:
        dec = None if self.decoder_inputs is None else self.decoder_inputs.to(device)
        return Formatted(self.inputs.to(device), self.labels.to(device), dec)

    @property
    def n_tokens(self) -> int:
        """Input tokens in this batch (both streams of an encoder-decoder)."""
        extra = 0 if self.decoder_inputs is None else self.decoder_inputs.numel()
        return self.inputs.numel() + extra


def model_format(config: ModelConfig) -> str:
    """``lm``, ``encdec``, ``classify`` or ``mlm``."""
    if isinstance(config, Seq2SeqConfig) or (isinstance(config, TransformerConfig) and config.encoder_decoder):
        return "encdec"
    return {"classifier": "classify", "mlm": "mlm"}.get(config.head, "lm")


def max_model_length(config: ModelConfig) -> int | None:
    """Longest input a model can take (learned position tables only), else None."""
    if isinstance(config, TransformerConfig) and config.positional == "learned":
        return config.n_ctx
    return None


def check_compatible(data: TaskData, config: ModelConfig, seq_len: int | None = None) -> None:
    """Raise ``ValueError`` saying what to change when a model cannot train on a task."""
    fmt = model_format(config)
    if data.kind == "classification" and fmt != "classify":
        raise ValueError(f"'{data.name}' is a classification task: choose a classifier head.")
    if data.kind != "classification" and fmt == "classify":
        raise ValueError(f"'{data.name}' is a sequence-prediction task: choose a language-model head, "
                         "not a classifier.")
    if fmt == "mlm" and data.kind != "lm":
        raise ValueError("A masked language model pre-trains on text (a corpus, an uploaded .txt or a generated "
                         "sequence task), not on labelled examples.")
    if fmt == "mlm" and config.mask_id < data.tokenizer.vocab_size:
        raise ValueError(f"mask_id {config.mask_id} is one of the vocabulary's own tokens; use "
                         f"{data.tokenizer.vocab_size} (the first id after them) and d_vocab = "
                         f"{data.tokenizer.vocab_size + 1}.")
    if fmt == "encdec" and data.kind != "seq2seq":
        raise ValueError("An encoder-decoder model needs a source -> target task (copy, reverse, sort, ...).")
    if fmt == "classify" and config.n_classes != data.n_classes:
        raise ValueError(f"The task has {data.n_classes} classes but the model has n_classes = {config.n_classes}.")
    if config.d_vocab < data.tokenizer.vocab_size:
        raise ValueError(f"The task's vocabulary has {data.tokenizer.vocab_size} tokens; set d_vocab to at least that.")
    limit = max_model_length(config)
    needed = (seq_len or 0) if data.is_stream else data.max_length()
    if limit is not None and needed > limit:
        raise ValueError(f"Examples are up to {needed} tokens long but the model's learned positions stop at "
                         f"n_ctx = {limit}; raise n_ctx to at least {needed}.")
    if config.pad_id not in (None, PAD):
        raise ValueError(f"pad_id must be {PAD} (the tokenizer's <pad>) or None.")
    if data.is_stream and seq_len:
        shortest = min(("training", data.train), ("validation", data.val), key=lambda named: len(named[1]))
        if len(shortest[1]) < seq_len + 1:
            raise ValueError(f"The {shortest[0]} text has {len(shortest[1])} tokens: too short for windows of "
                             f"{seq_len + 1} (seq_len + 1). Lower seq_len below {len(shortest[1])} or use more text.")


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max((len(r) for r in rows), default=0)
    out = torch.full((len(rows), max(width, 1)), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def _stream_windows(stream: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Non-overlapping windows of ``seq_len + 1`` tokens: [n_windows, seq_len + 1]."""
    n = (stream.numel() - 1) // seq_len
    if n < 1:
        raise ValueError(f"The text has {stream.numel()} tokens: too short for windows of {seq_len + 1}.")
    starts = torch.arange(n) * seq_len  # [n_windows]
    return stream[starts[:, None] + torch.arange(seq_len + 1)]  # [n_windows, seq_len + 1]


def format_split(split: Split, data: TaskData, config: ModelConfig, seq_len: int = 64) -> Formatted:
    """Format one split for ``config`` (``seq_len``: window length for text streams)."""
    fmt = model_format(config)
    if fmt == "classify":
        return Formatted(_pad(split.sources, PAD), torch.tensor(split.labels, dtype=torch.long))
    if fmt == "mlm":
        if split.stream is not None:
            windows = _stream_windows(split.stream, seq_len)[:, :seq_len].contiguous()  # [n_windows, seq_len]
        else:
            windows = _pad(split.sources, PAD)  # [N, longest]; padding is never masked, so never predicted
        return Formatted(windows, windows.clone())
    if fmt == "encdec":
        targets = split.targets or []
        return Formatted(_pad(split.sources, PAD), _pad(targets, IGNORE), _pad([[BOS, *t[:-1]] for t in targets], PAD))
    if split.stream is not None:
        windows = _stream_windows(split.stream, seq_len)
        return Formatted(windows[:, :-1].contiguous(), windows[:, 1:].contiguous())
    if split.targets is None:  # whole sequences, every next token counts
        seqs = split.sources
        inputs = _pad([s[:-1] for s in seqs], PAD)
        labels = _pad([s[1:] for s in seqs], IGNORE)
        return Formatted(inputs, labels)
    inputs, labels = [], []
    for src, tgt in zip(split.sources, split.targets):
        seq = [*src, SEP, *tgt]
        inputs.append(seq[:-1])
        labels.append([IGNORE] * len(src) + tgt)  # position of <sep> predicts target[0], ...
    return Formatted(_pad(inputs, PAD), _pad(labels, IGNORE))
