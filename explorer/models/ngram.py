"""Counting before learning: an n-gram language model with add-k smoothing (the first deck's "computing frequencies
of words, n-grams").

    P(w | c) = (count(c, w) + k) / (count(c) + k·V)

where c is the n − 1 tokens before w and V the vocabulary size (k = 1 is Laplace's rule). Over the V possible next
tokens the probabilities sum to 1 exactly; a context never seen in training gets the uniform 1/V. At the start of
a text (fewer than n − 1 tokens before w) the longest available context is used, i.e. a lower-order model.

Counts are kept as sorted NumPy arrays (one table per order 1 … n), so that they are compact, measurable and fast
to look up for a whole validation text at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAX_N = 5
MAX_TRAIN_TOKENS = 3_000_000


def _rows(windows: np.ndarray) -> np.ndarray:
    """Rows of int32 as one opaque (void) value each: equal rows are equal values, and rows that share their first
    columns sort next to each other (byte order), which is all the lookups need."""
    windows = np.ascontiguousarray(windows, dtype=np.int32)
    return windows.view(np.dtype((np.void, 4 * windows.shape[1]))).ravel()


@dataclass
class CountTable:
    """Counts of every j-gram: ``grams`` (sorted rows of j tokens), ``counts``; and per context (the first j − 1
    tokens) its total ``context_counts`` and the range ``starts[i] … starts[i + 1]`` of its grams."""

    order: int
    grams: np.ndarray  # [M] void rows of `order` int32
    next_tokens: np.ndarray  # [M] int32, the last token of each gram
    counts: np.ndarray  # [M] int64
    contexts: np.ndarray  # [C] void rows of order − 1 int32 (one empty context for order 1)
    context_counts: np.ndarray  # [C] int64
    starts: np.ndarray  # [C + 1] int64

    @classmethod
    def fit(cls, windows: np.ndarray) -> CountTable:
        """``windows`` [N, order] int32: every occurrence of a j-gram in the training text."""
        order = windows.shape[1]
        grams, first, counts = np.unique(_rows(windows), return_index=True, return_counts=True)
        unique_windows = windows[first]  # [M, order], in the order of `grams`
        if order == 1:
            contexts = np.zeros(1, dtype=np.dtype((np.void, 1)))
            return cls(1, grams, unique_windows[:, 0].astype(np.int32), counts.astype(np.int64), contexts,
                       np.array([counts.sum()], dtype=np.int64), np.array([0, len(grams)], dtype=np.int64))
        context_rows = _rows(unique_windows[:, :-1])  # [M]; equal contexts are contiguous
        change = np.flatnonzero(context_rows[1:] != context_rows[:-1]) + 1
        starts = np.concatenate([[0], change, [len(grams)]]).astype(np.int64)
        totals = np.add.reduceat(counts, starts[:-1]).astype(np.int64)
        return cls(order, grams, unique_windows[:, -1].astype(np.int32), counts.astype(np.int64),
                   context_rows[starts[:-1]], totals, starts)

    def _find(self, keys: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.searchsorted(table, keys).clip(max=max(len(table) - 1, 0))
        return index, (table[index] == keys) if len(table) else np.zeros(len(keys), dtype=bool)

    def lookup(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For rows [N, order] (context then next token): count(context, next) and count(context), each [N]."""
        gram_index, gram_found = self._find(_rows(windows), self.grams)
        joint = np.where(gram_found, self.counts[gram_index], 0)
        if self.order == 1:
            return joint, np.full(len(windows), self.context_counts[0])
        context_index, context_found = self._find(_rows(windows[:, :-1]), self.contexts)
        return joint, np.where(context_found, self.context_counts[context_index], 0)

    def next_counts(self, context: list[int], vocab_size: int) -> tuple[np.ndarray, int]:
        """count(context, w) for every w [V], and count(context)."""
        out = np.zeros(vocab_size, dtype=np.int64)
        if self.order == 1:
            out[self.next_tokens] = self.counts
            return out, int(self.context_counts[0])
        key = _rows(np.asarray([context], dtype=np.int32))
        index, found = self._find(key, self.contexts)
        if not found[0]:
            return out, 0
        lo, hi = self.starts[index[0]], self.starts[index[0] + 1]
        out[self.next_tokens[lo:hi]] = self.counts[lo:hi]
        return out, int(self.context_counts[index[0]])


@dataclass
class NGramModel:
    """Tables of every order 1 … n, counted on the training text, with add-k smoothing."""

    n: int
    k: float
    vocab_size: int
    tables: list[CountTable] = field(default_factory=list)  # tables[j - 1]: order j
    n_train_tokens: int = 0

    @classmethod
    def fit(cls, texts: list[np.ndarray], n: int, k: float, vocab_size: int) -> NGramModel:
        """Count every j-gram (j ≤ n) inside each text (n-grams never cross from one text into the next)."""
        if not 1 <= n <= MAX_N:
            raise ValueError(f"n must be between 1 and {MAX_N}; got {n}.")
        if not 0 < k <= 100:
            raise ValueError(f"k must be above 0 (k = 0 gives unseen n-grams probability 0) and at most 100; got {k}.")
        texts = [np.asarray(t, dtype=np.int32) for t in texts]
        total = sum(len(t) for t in texts)
        if total == 0:
            raise ValueError("The training text is empty.")
        if total > MAX_TRAIN_TOKENS:
            raise ValueError(f"The training text has {total:,} tokens; the n-gram model counts at most "
                             f"{MAX_TRAIN_TOKENS:,}. Use less text.")
        tables = []
        for order in range(1, n + 1):
            windows = [sliding_window_view(t, order) for t in texts if len(t) >= order]
            if not windows:
                break
            tables.append(CountTable.fit(np.concatenate(windows)))
        return cls(n, float(k), int(vocab_size), tables, total)

    def _order_for(self, available: int) -> int:
        return min(self.n, available + 1, len(self.tables))

    def probability_of(self, windows: np.ndarray) -> np.ndarray:
        """P(w | c) for rows [N, j] (context then w), j ≤ n."""
        joint, context = self.tables[windows.shape[1] - 1].lookup(windows)
        return (joint + self.k) / (context + self.k * self.vocab_size)

    def distribution(self, context: list[int]) -> np.ndarray:
        """P(· | context) over the V tokens [V] (the last n − 1 tokens of ``context`` are used)."""
        order = self._order_for(len(context))
        kept = list(context[len(context) - (order - 1):]) if order > 1 else []
        joint, total = self.tables[order - 1].next_counts(kept, self.vocab_size)
        return (joint + self.k) / (total + self.k * self.vocab_size)

    def token_nll(self, text: np.ndarray, start: int = 1, end: int | None = None) -> np.ndarray:
        """−log P(text[i] | what precedes it in ``text``) for i in start … end − 1 (the tokens before ``start`` serve
        as context only)."""
        text = np.asarray(text, dtype=np.int32)
        end = len(text) if end is None else min(end, len(text))
        out = np.empty(max(end - start, 0))
        full = self._order_for(10**9)
        first_full = max(start, full - 1)
        for i in range(start, min(first_full, end)):  # the first few tokens: shorter contexts
            order = self._order_for(i)
            out[i - start] = -np.log(self.probability_of(text[None, i - order + 1:i + 1])[0])
        if end > first_full:
            windows = sliding_window_view(text[first_full - full + 1:end], full)  # [end - first_full, full]
            out[first_full - start:] = -np.log(self.probability_of(windows))
        return out

    def sample(self, prompt: list[int], n_new: int, seed: int = 0, temperature: float = 1.0,
               forbidden: tuple[int, ...] = ()) -> list[int]:
        """Draw ``n_new`` tokens one at a time from P(· | the last n − 1 tokens)."""
        rng = np.random.default_rng(seed)
        tokens = list(prompt)
        for _ in range(n_new):
            p = self.distribution(tokens)
            if forbidden:
                p = p.copy()
                p[list(forbidden)] = 0.0
            if temperature != 1.0:
                p = p ** (1.0 / max(temperature, 1e-3))
            tokens.append(int(rng.choice(len(p), p=p / p.sum())))
        return tokens[len(prompt):]


def perplexity(nll: np.ndarray) -> float:
    """exp of the mean negative log-likelihood per token."""
    return float(np.exp(nll.mean())) if len(nll) else float("nan")
