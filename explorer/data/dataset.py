"""What every data source produces: a :class:`TaskData` with a tokenizer and train/validation splits.

Kinds of task:
- ``lm``: next-token prediction, either on a continuous text ``stream`` (a 1-D tensor of ids, cut into
  windows when training) or on a list of sequences (e.g. repeated random sequences for induction heads);
- ``seq2seq``: a source sequence and a target sequence (copy, reverse, sort, modular addition);
- ``classification``: a sequence and a class label (brackets, sentiment, uploaded CSV).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import torch

from explorer.data.tokenizers import Tokenizer

KINDS = ("lm", "seq2seq", "classification")


@dataclass
class Split:
    """One split. ``sources[i]`` are token ids; ``targets`` (seq2seq) or ``labels`` (classification).

    ``texts[i]``, when the data came from real text, is example i as written (before this tokenizer's vocabulary
    cut rare words to <unk>): a pretrained model tokenizes it its own way, and a model pre-trained here with
    another vocabulary can re-read it."""

    sources: list[list[int]] = field(default_factory=list)
    targets: list[list[int]] | None = None
    labels: list[int] | None = None
    stream: torch.Tensor | None = None  # [n_tokens], continuous text for language modelling
    words: list[list[str]] | None = None  # classification: each source's tokens as written (rare words included)
    texts: list[str] | None = None

    def __len__(self) -> int:
        return int(self.stream.numel()) if self.stream is not None else len(self.sources)


@dataclass
class TaskData:
    """A dataset ready for training: what it is, how to tokenize it, and its two splits."""

    name: str
    kind: str
    tokenizer: Tokenizer
    train: Split
    val: Split
    description: str = ""
    class_names: list[str] | None = None
    origin: str = "generated"  # generated | corpus | upload | huggingface
    params: dict[str, Any] = field(default_factory=dict)
    _max_length: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Task kind must be one of {', '.join(KINDS)}; got {self.kind!r}.")

    @property
    def n_classes(self) -> int:
        return len(self.class_names or [])

    @property
    def is_stream(self) -> bool:
        return self.train.stream is not None

    def max_length(self) -> int:
        """Longest example (source + separator + target), or 0 for a text stream. Measured once: the splits are
        not changed after construction, and the Train form asks on every rerun."""
        if self._max_length is None:
            self._max_length = self._measure_max_length()
        return self._max_length

    def _measure_max_length(self) -> int:
        if self.is_stream:
            return 0
        longest = 0
        for split in (self.train, self.val):
            for i, src in enumerate(split.sources):
                tgt = len(split.targets[i]) + 1 if split.targets is not None else 0
                longest = max(longest, len(src) + tgt)
        return longest

    def summary(self) -> dict[str, Any]:
        """JSON-safe description (for checkpoints and the sidebar); no examples."""
        return {
            "name": self.name, "kind": self.kind, "origin": self.origin, "params": dict(self.params),
            "class_names": self.class_names, "description": self.description,
            "n_train": len(self.train), "n_val": len(self.val), "vocab_size": self.tokenizer.vocab_size,
        }


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """A seeded shuffle of ``range(n)`` cut into train and validation indices (at least one each)."""
    if n < 2:
        raise ValueError(f"Need at least 2 examples to make a training and a validation split; got {n}.")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = min(n - 1, max(1, round(n * val_fraction)))
    return order[n_val:], order[:n_val]


def subset(values: list, indices: list[int]) -> list:
    return [values[i] for i in indices]
