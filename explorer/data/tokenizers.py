"""Character, word and symbol tokenizers with a fixed set of special tokens.

Every vocabulary starts with the same four specials, so formatting code can rely on their ids:
``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<sep>`` 3.

- ``char``: one token per character (Shakespeare, bracket strings, digit tasks).
- ``word``: words and punctuation marks (``\\w+|[^\\w\\s]``), optionally lower-cased, vocabulary capped
  at the most frequent words; the rest become ``<unk>``.
- ``symbol``: tokens separated by whitespace (generated tasks with multi-character symbols, e.g. numbers).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PAD, UNK, BOS, SEP = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<bos>", "<sep>")
MODES = ("char", "word", "symbol")
WORD_PATTERN = re.compile(r"\w+|[^\w\s]")


@dataclass
class Tokenizer:
    """Maps text to token ids and back. ``tokens[i]`` is the string of id ``i``."""

    mode: str
    tokens: list[str]
    lowercase: bool = False
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"Tokenizer mode must be one of {', '.join(MODES)}; got {self.mode!r}.")
        if tuple(self.tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"A vocabulary must start with the special tokens {', '.join(SPECIALS)}.")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("The vocabulary has repeated tokens.")
        self._index = {tok: i for i, tok in enumerate(self.tokens)}

    # ----------------------------------------------------------------- building
    @classmethod
    def from_symbols(cls, symbols: Iterable[str]) -> Tokenizer:
        """A fixed vocabulary (generated tasks): char mode when every symbol is one character."""
        symbols = list(symbols)
        mode = "char" if all(len(s) == 1 and not s.isspace() for s in symbols) else "symbol"
        return cls(mode=mode, tokens=[*SPECIALS, *symbols])

    @classmethod
    def fit(cls, texts: Iterable[str], mode: str = "char", max_vocab: int = 10_000,
            lowercase: bool = False, min_count: int = 1) -> Tokenizer:
        """Learn a vocabulary from texts: the ``max_vocab`` most frequent tokens (specials included)."""
        if mode not in MODES:
            raise ValueError(f"Tokenizer mode must be one of {', '.join(MODES)}; got {mode!r}.")
        if max_vocab <= len(SPECIALS):
            raise ValueError(f"max_vocab must be more than {len(SPECIALS)} (the special tokens).")
        probe = cls(mode=mode, tokens=list(SPECIALS), lowercase=lowercase)
        counts = Counter(tok for text in texts for tok in probe.split(text))
        for special in SPECIALS:
            counts.pop(special, None)
        ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(mode=mode, tokens=[*SPECIALS, *ranked[: max_vocab - len(SPECIALS)]], lowercase=lowercase)

    # ----------------------------------------------------------------- use
    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        """Text -> token strings (before the vocabulary lookup)."""
        if self.lowercase:
            text = text.lower()
        if self.mode == "char":
            return list(text)
        if self.mode == "word":
            return WORD_PATTERN.findall(text)
        return text.split()

    def encode(self, text: str) -> list[int]:
        """Text -> ids; tokens outside the vocabulary become ``<unk>`` (id 1)."""
        return [self._index.get(tok, UNK) for tok in self.split(text)]

    def encode_marked(self, text: str) -> tuple[list[int], list[str], list[bool]]:
        """Ids, the token strings as typed, and which of them were unknown to the vocabulary."""
        pieces = self.split(text)
        ids = [self._index.get(tok, UNK) for tok in pieces]
        return ids, pieces, [i == UNK and p != "<unk>" for i, p in zip(ids, pieces)]

    def to_str_tokens(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] if 0 <= i < len(self.tokens) else "<unk>" for i in ids]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        pieces = [t for t in self.to_str_tokens(ids) if not (skip_special and t in SPECIALS)]
        return ("" if self.mode == "char" else " ").join(pieces)

    def id_of(self, token: str) -> int:
        return self._index.get(token, UNK)

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "tokens": list(self.tokens), "lowercase": self.lowercase}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        try:
            return cls(mode=data["mode"], tokens=list(data["tokens"]), lowercase=bool(data.get("lowercase", False)))
        except (KeyError, TypeError) as err:
            raise ValueError(f"Not a tokenizer description: missing {err}.") from err
