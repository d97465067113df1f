"""Byte-pair encoding learned live from a corpus, with Hugging Face's ``tokenizers`` (Sennrich et al. 2016).

BPE starts from single characters and repeatedly merges the most frequent adjacent pair into a new token, until
the vocabulary has the size asked for. Training is greedy, so the first merges of a large vocabulary are exactly
the merges of a smaller one: one training at the largest size gives every smaller tokenizer as a prefix
(:meth:`TrainedBPE.at`). Words are pre-split on spaces (each word starting with "▁", as SentencePiece writes a
space) and punctuation; characters never seen in the corpus become [UNK].
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

UNK_TOKEN = "[UNK]"
MAX_VOCAB = 8000
MAX_ALPHABET = 200  # the rarest characters beyond this become [UNK] (a corpus with every emoji would blow it up)
MAX_CORPUS_CHARS = 2_000_000  # a shared server trains in about a second on this much


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])


def _empty() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
    tokenizer.pre_tokenizer = _pre_tokenizer()
    tokenizer.decoder = decoders.Metaspace()
    return tokenizer


@dataclass
class TrainedBPE:
    """A BPE vocabulary and its merges in the order they were learned.

    Ids: [UNK] 0, then the characters (the alphabet), then one new id per merge in order, so that the tokenizer with
    ``vocab_size`` V keeps ids 0..V−1 and the merges learned until id V−1 was made. (A merge can rebuild a token
    that another pair already made — "a"+"bc" after "ab"+"c" — and then adds no id.)
    """

    vocab: dict[str, int]
    merges: list[tuple[str, str]]
    alphabet_size: int  # [UNK] + the single characters
    corpus_chars: int

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def n_merges(self, vocab_size: int) -> int:
        """How many merges a training stopped at ``vocab_size`` tokens would have learned."""
        if vocab_size <= self.alphabet_size:
            return 0
        if vocab_size >= len(self.vocab):
            return len(self.merges)
        last = vocab_size - 1  # the id whose creation ended that training
        return next(i + 1 for i, (a, b) in enumerate(self.merges) if self.vocab.get(a + b) == last)

    def at(self, vocab_size: int) -> Tokenizer:
        """The tokenizer a training stopped at ``vocab_size`` tokens would give."""
        size = max(self.alphabet_size, min(vocab_size, len(self.vocab)))
        vocab = {token: i for token, i in self.vocab.items() if i < size}
        tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=self.merges[:self.n_merges(size)], unk_token=UNK_TOKEN))
        tokenizer.pre_tokenizer = _pre_tokenizer()
        tokenizer.decoder = decoders.Metaspace()
        return tokenizer

    def pre_tokenize(self, text: str) -> list[str]:
        """The words BPE works inside ("▁the", "cat", ","): merges never cross them."""
        return [piece for piece, _ in _pre_tokenizer().pre_tokenize_str(text)]


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> TrainedBPE:
    """Learn BPE merges from ``texts`` up to ``vocab_size`` tokens (fewer when no pair occurs ``min_frequency``
    times any more). Raises ValueError for an empty corpus or an absurd size."""
    if not 2 <= vocab_size <= MAX_VOCAB:
        raise ValueError(f"The BPE vocabulary size must be between 2 and {MAX_VOCAB:,}, got {vocab_size:,}.")
    corpus, total = [], 0
    for text in texts:
        if total >= MAX_CORPUS_CHARS:
            break
        piece = text[: MAX_CORPUS_CHARS - total]
        corpus.append(piece)
        total += len(piece)
    if not any(t.strip() for t in corpus):
        raise ValueError("The corpus is empty: BPE needs some text to count pairs in.")
    tokenizer = _empty()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[UNK_TOKEN],
                                  limit_alphabet=MAX_ALPHABET, show_progress=False)
    tokenizer.train_from_iterator(corpus, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else (m[0], m[1]) for m in model["merges"]]
    vocab = dict(model["vocab"])
    first_merge = min((vocab[a + b] for a, b in merges), default=len(vocab))
    return TrainedBPE(vocab=vocab, merges=merges, alphabet_size=first_merge, corpus_chars=total)
