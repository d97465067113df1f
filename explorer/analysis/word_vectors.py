"""Word vectors: nearest neighbours by cosine similarity, analogies, close spellings of unknown words.

A :class:`WordVectors` holds a vocabulary and its vectors ``[n_words, d]`` twice: as given and normalised to unit
length (float32, made once), so cosine similarity with every word is one matrix-vector product.

- Nearest neighbours: cos(u, v) = u·v / (‖u‖‖v‖), highest first.
- Analogies (Mikolov, Yih & Zweig 2013, "3CosAdd"): for "a is to b as c is to ?" — e.g. man : king :: woman : ?
  — the word closest to b̂ − â + ĉ (unit vectors), excluding a, b and c themselves (otherwise the answer is
  nearly always one of them). The page writes it as king − man + woman.
- Sub-word vocabularies (MiniLM's WordPiece): a word that splits into several tokens ("embeddings" → em ##bed
  ##ding ##s) is represented by the mean of its tokens' vectors, and the page says so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

SUGGESTION_POOL = 100_000  # close spellings are looked for among this many of the most frequent words
MAX_WORD_LIST = 2_000  # words a typed list may hold


class UnknownWord(KeyError):
    """A word outside the vocabulary; ``suggestions`` are close spellings that are in it."""

    def __init__(self, word: str, suggestions: list[str], vocabulary: str) -> None:
        super().__init__(word)
        self.word, self.suggestions, self.vocabulary = word, suggestions, vocabulary

    def __str__(self) -> str:
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"“{self.word}” is not in the {self.vocabulary} vocabulary.{hint}"


@dataclass
class Resolved:
    """A typed word as a vector: which vocabulary rows it used and how they were combined."""

    word: str
    vector: np.ndarray  # [d]
    rows: list[int]  # vocabulary rows used (excluded from its own neighbours)
    pieces: list[str]  # their strings
    note: str = ""  # e.g. "split into em ##bed ##ding ##s: the mean of their 4 vectors"


@dataclass
class WordVectors:
    """A vocabulary (most frequent first when known) with its vectors.

    ``splitter`` (sub-word vocabularies) turns a typed word into vocabulary pieces; ``searchable`` marks the rows
    that may be returned as neighbours (e.g. not MiniLM's [unused] and special tokens).
    """

    name: str
    words: list[str]
    vectors: np.ndarray  # [n_words, d] float32
    lowercase: bool = True
    splitter: Callable[[str], list[str]] | None = None
    searchable: np.ndarray | None = None  # [n_words] bool
    rank_start: int = 0  # the first row of the frequency-ordered whole words (BERT: 1996, "the")
    unit: np.ndarray = field(init=False, repr=False)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)  # [n_words, 1]
        self.unit = self.vectors / np.maximum(norms, 1e-12)  # [n_words, d], made once
        self.index = {}
        for i, word in enumerate(self.words):
            self.index.setdefault(word, i)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def normalize(self, word: str) -> str:
        word = word.strip()
        return word.lower() if self.lowercase else word

    def suggest(self, word: str, n: int = 5) -> list[str]:
        """Close spellings (difflib's ratio ≥ 0.7) among the most frequent words of similar length."""
        word = self.normalize(word)
        pool = self.words[:SUGGESTION_POOL]
        candidates = [w for w in pool if abs(len(w) - len(word)) <= 2 and not w.startswith("##")
                      and not (w.startswith("[") and w.endswith("]"))]
        return difflib.get_close_matches(word, candidates, n=n, cutoff=0.7)

    def resolve(self, word: str) -> Resolved:
        """The vector of a typed word; raises :class:`UnknownWord` (with suggestions) when it has none."""
        key = self.normalize(word)
        if not key:
            raise UnknownWord(word, [], self.name)
        if key in self.index:
            row = self.index[key]
            return Resolved(key, self.vectors[row], [row], [key])
        if self.splitter is None:
            raise UnknownWord(key, self.suggest(key), self.name)
        pieces = self.splitter(key)
        rows = [self.index[p] for p in pieces if p in self.index]
        if not pieces or len(rows) != len(pieces) or any(p == "[UNK]" for p in pieces):
            raise UnknownWord(key, self.suggest(key), self.name)
        mean = self.vectors[rows].mean(axis=0)  # [d]
        note = f"“{key}” is split into {' '.join(pieces)}: its vector is the mean of their {len(rows)} vectors."
        return Resolved(key, mean, rows, pieces, note)


# ----------------------------------------------------------------------------------------------- searches
def cosine_scores(vectors: WordVectors, query: np.ndarray) -> np.ndarray:
    """cos(query, w) for every word w: [n_words] float32 (one matrix-vector product over the unit vectors)."""
    q = np.asarray(query, dtype=np.float32)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    # torch's single-threaded mv: numpy's BLAS threads spin-wait on a busy shared CPU (70 ms vs 45 ms measured)
    return (torch.from_numpy(vectors.unit) @ torch.from_numpy(q)).numpy()  # [n_words]


def nearest(vectors: WordVectors, query: np.ndarray, k: int = 10, exclude: set[int] | frozenset = frozenset()
            ) -> pd.DataFrame:
    """The ``k`` words most cosine-similar to ``query`` [d], skipping rows in ``exclude`` and unsearchable rows.

    Returns a DataFrame with columns rank, word, cosine, row.
    """
    scores = cosine_scores(vectors, query)  # a fresh array: safe to mask in place
    banned = list(exclude)
    if banned:
        scores[banned] = -np.inf
    if vectors.searchable is not None:
        scores[~vectors.searchable] = -np.inf
    k = max(0, min(k, len(scores)))
    top = np.argpartition(scores, len(scores) - k)[len(scores) - k:] if k else np.zeros(0, dtype=np.int64)
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[np.isfinite(scores[top])]  # fewer than k searchable words
    return pd.DataFrame({"rank": np.arange(1, len(top) + 1), "word": [vectors.words[i] for i in top],
                         "cosine": scores[top].astype(float), "row": top})


def neighbours(vectors: WordVectors, word: str, k: int = 10) -> tuple[Resolved, pd.DataFrame]:
    """The word's ``k`` nearest neighbours (itself excluded). Raises :class:`UnknownWord`."""
    resolved = vectors.resolve(word)
    return resolved, nearest(vectors, resolved.vector, k, exclude=set(resolved.rows))


def analogy(vectors: WordVectors, a: str, b: str, c: str, k: int = 5) -> tuple[list[Resolved], pd.DataFrame]:
    """b − a + c (e.g. a = man, b = king, c = woman → queen), the three inputs excluded; unit vectors (3CosAdd).

    Raises :class:`UnknownWord` for the first unknown input.
    """
    ra, rb, rc = (vectors.resolve(w) for w in (a, b, c))
    unit = [r.vector / max(float(np.linalg.norm(r.vector)), 1e-12) for r in (ra, rb, rc)]
    target = unit[1] - unit[0] + unit[2]  # [d]
    return [ra, rb, rc], nearest(vectors, target, k, exclude=set(ra.rows) | set(rb.rows) | set(rc.rows))


# ----------------------------------------------------------------------------------------------- word lists
def parse_word_groups(text: str) -> list[tuple[str, list[str]]]:
    """One group per line, ``name: word word …`` or just words (the group is then "line k"); words separated by
    spaces or commas. Empty lines are skipped."""
    groups = []
    for number, line in enumerate(text.splitlines(), start=1):
        name, sep, rest = line.partition(":")
        if not sep or not rest.strip() or len(name.split()) > 2:
            name, rest = f"line {number}", line
        words = [w for w in re.split(r"[,\s;]+", rest.strip()) if w]
        if words:
            groups.append((name.strip(), words))
    return groups


@dataclass
class WordSelection:
    """Typed words that were found (with their group = line number) and the ones that were not."""

    vectors: np.ndarray  # [n_found, d]
    frame: pd.DataFrame  # label, group, note
    unknown: list[UnknownWord]
    duplicates: list[str]


def select_words(vectors: WordVectors, groups: list[tuple[str, list[str]]]) -> WordSelection:
    """Vectors of the typed words, skipping unknown ones (reported) and repeats. At most MAX_WORD_LIST words."""
    rows, labels, group_of, notes, unknown, duplicates, seen = [], [], [], [], [], [], set()
    for name, words in groups:
        for word in words:
            try:
                resolved = vectors.resolve(word)
            except UnknownWord as err:
                unknown.append(err)
                continue
            if resolved.word in seen:
                duplicates.append(resolved.word)
                continue
            if len(rows) >= MAX_WORD_LIST:
                break
            seen.add(resolved.word)
            rows.append(resolved.vector)
            labels.append(resolved.word)
            group_of.append(name)
            notes.append(resolved.note)
    matrix = np.stack(rows).astype(np.float32) if rows else np.zeros((0, vectors.dim), dtype=np.float32)
    frame = pd.DataFrame({"label": labels, "group": pd.Categorical(group_of, categories=list(dict.fromkeys(group_of))),
                          "note": notes})
    return WordSelection(matrix, frame, unknown, duplicates)


def top_words(vectors: WordVectors, n: int) -> tuple[np.ndarray, pd.DataFrame]:
    """The first ``n`` searchable whole words from ``rank_start`` on, in vocabulary order (by frequency for GloVe;
    roughly so for BERT's WordPiece vocabulary), skipping punctuation and ``##`` pieces."""
    chosen = []
    for i in range(vectors.rank_start, len(vectors.words)):
        word = vectors.words[i]
        if vectors.searchable is not None and not vectors.searchable[i]:
            continue
        if word.startswith("##") or not any(ch.isalnum() for ch in word):
            continue
        chosen.append(i)
        if len(chosen) >= n:
            break
    rows = np.asarray(chosen, dtype=np.int64)
    rank = rows - vectors.rank_start + 1
    frame = pd.DataFrame({"label": [vectors.words[i] for i in chosen], "row": rows, "log10 rank": np.log10(rank)})
    return vectors.vectors[rows], frame
