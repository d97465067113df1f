"""The same text through several tokenizers, BPE's merges applied by hand, and one-hot × W_E.

The decks' three steps: split the text into pieces, map each piece to an integer id, add the model's own special
tokens ([CLS] … [SEP] for BERT). A tokenizer that has never seen a piece maps it to its unknown token. The id then
selects a row of the embedding table: the one-hot vector e_id [1 × d_vocab] times W_E [d_vocab × d_model] is row id
of W_E — an embedding layer is a lookup, computed as a product.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch

from explorer.data.bpe import UNK_TOKEN, TrainedBPE
from explorer.data.examples import encode_with_specials
from explorer.data.tokenizers import SPECIALS, UNK, Tokenizer

MAX_TEXT_CHARS = 20_000  # a page tokenizes what the user pastes; more than this is cut with a notice


@dataclass
class Tokenized:
    """One tokenizer's reading of a text: the pieces as stored in its vocabulary, their ids and kinds."""

    name: str
    pieces: list[str]  # "##ing" (WordPiece), "Ġworld" (byte-level BPE), "▁the" (our BPE), "<unk>"…
    ids: list[int]
    kinds: list[str]  # "special" | "unknown" | "token"
    vocab_size: int
    specials: dict[str, int] = field(default_factory=dict)  # the special tokens it knows, with their ids
    texts: list[str] | None = None  # what each piece stands for, when it differs from the piece (byte-level BPE)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_unknown(self) -> int:
        return self.kinds.count("unknown")

    def table(self) -> pd.DataFrame:
        frame = pd.DataFrame({"position": range(len(self.ids)), "piece": self.pieces, "id": self.ids,
                              "kind": self.kinds})
        if self.texts is not None:
            frame.insert(2, "text", self.texts)
        return frame


def with_app_tokenizer(tokenizer: Tokenizer, text: str, name: str) -> Tokenized:
    """The app's character / word / symbol tokenizer: pieces outside its vocabulary become <unk> (id 1); typed
    special tokens ("<sep>") are read as themselves."""
    ids, pieces, _ = encode_with_specials(tokenizer, text)
    kinds = ["special" if p in SPECIALS else "unknown" if i == UNK else "token" for i, p in zip(ids, pieces)]
    return Tokenized(name, pieces, ids, kinds, tokenizer.vocab_size, {s: i for i, s in enumerate(SPECIALS)})


def with_pretrained_tokenizer(tokenizer: Any, text: str, name: str) -> Tokenized:
    """A Hugging Face tokenizer with the special tokens its model expects (``add_special_tokens``)."""
    ids = list(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
    pieces = tokenizer.convert_ids_to_tokens(ids)
    special_ids = set(tokenizer.all_special_ids)
    unk = tokenizer.unk_token_id
    kinds = ["unknown" if i == unk else "special" if i in special_ids else "token" for i in ids]
    specials = {tok: tokenizer.convert_tokens_to_ids(tok) for tok in tokenizer.all_special_tokens}
    texts = [tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids]
    return Tokenized(name, list(pieces), ids, kinds, len(tokenizer), specials,
                     texts=texts if texts != list(pieces) else None)


def with_bpe(bpe: TrainedBPE, vocab_size: int, text: str, name: str = "BPE trained here") -> Tokenized:
    """The live BPE stopped at ``vocab_size`` tokens, encoded by ``tokenizers`` itself."""
    tokenizer = bpe.at(vocab_size)
    encoding = tokenizer.encode(text)
    unk = bpe.vocab[UNK_TOKEN]
    kinds = ["unknown" if i == unk else "token" for i in encoding.ids]
    return Tokenized(name, list(encoding.tokens), list(encoding.ids), kinds, tokenizer.get_vocab_size(),
                     {UNK_TOKEN: unk})


# --------------------------------------------------------------------------------------------- BPE by hand
def merge_word(symbols: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Apply BPE merges to one word: repeatedly merge the adjacent pair learned earliest (lowest rank), the
    leftmost occurrence first, until no adjacent pair is a learned merge."""
    symbols = list(symbols)
    while len(symbols) > 1:
        pairs = [(ranks.get((a, b)), i) for i, (a, b) in enumerate(itertools.pairwise(symbols))]
        candidates = [(rank, i) for rank, i in pairs if rank is not None]
        if not candidates:
            break
        _rank, i = min(candidates)
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


def bpe_by_hand(bpe: TrainedBPE, text: str, n_merges: int) -> list[str]:
    """The pieces of ``text`` after the first ``n_merges`` merges, applied here in plain Python: characters the
    corpus never had become [UNK]. Equals what ``tokenizers`` encodes with the same merges."""
    ranks = {pair: rank for rank, pair in enumerate(bpe.merges[:n_merges])}
    pieces: list[str] = []
    for word in bpe.pre_tokenize(text):
        symbols = [c if c in bpe.vocab else UNK_TOKEN for c in word]
        pieces += merge_word(symbols, ranks)
    return pieces


def count_curve(bpe: TrainedBPE, text: str, points: int = 40) -> pd.DataFrame:
    """How many tokens ``text`` takes as the vocabulary grows: columns vocab_size, merges, tokens, chars_per_token."""
    total = bpe.vocab_size
    sizes = sorted({bpe.alphabet_size + round(k * (total - bpe.alphabet_size) / max(1, points - 1))
                    for k in range(points)})
    rows = []
    for size in sizes:
        n = bpe.n_merges(size)
        count = len(bpe_by_hand(bpe, text, n))
        rows.append({"vocab_size": size, "merges": n, "tokens": count, "chars_per_token": len(text) / max(count, 1)})
    return pd.DataFrame(rows)


def merges_table(bpe: TrainedBPE, n_merges: int, start: int = 0) -> pd.DataFrame:
    """The merges in the order learned: columns rank, left, right, new token, id."""
    rows = [{"rank": rank + 1, "left": a, "right": b, "new token": a + b, "id": bpe.vocab.get(a + b)}
            for rank, (a, b) in enumerate(bpe.merges[:n_merges]) if rank >= start]
    return pd.DataFrame(rows, columns=["rank", "left", "right", "new token", "id"])


# --------------------------------------------------------------------------------------------- one-hot × W_E
@dataclass
class OneHot:
    """e_id W_E = W_E[id]: the product computed, beside the row looked up."""

    token_id: int
    one_hot: torch.Tensor  # [d_vocab]
    product: torch.Tensor  # [d_model] e_id W_E
    row: torch.Tensor  # [d_model] W_E[id]

    @property
    def max_error(self) -> float:
        return float((self.product - self.row).abs().max())


def one_hot_times_embedding(W_E: torch.Tensor, token_id: int) -> OneHot:
    """``W_E`` [d_vocab, d_model]; the one-hot vector of ``token_id`` times it."""
    d_vocab = W_E.shape[0]
    if not 0 <= token_id < d_vocab:
        raise ValueError(f"Token id {token_id} is outside the vocabulary (0..{d_vocab - 1}).")
    table = W_E.detach().float().cpu()
    one_hot = torch.zeros(d_vocab)
    one_hot[token_id] = 1.0
    return OneHot(token_id, one_hot, one_hot @ table, table[token_id])


def unknown_pieces(tokenized: Tokenized) -> list[str]:
    return [p for p, k in zip(tokenized.pieces, tokenized.kinds) if k == "unknown"]


def lengths_frame(readings: Sequence[Tokenized]) -> pd.DataFrame:
    """One row per tokenizer: tokens, unknowns, specials, vocabulary size."""
    return pd.DataFrame([{"tokenizer": t.name, "tokens": len(t), "unknown": t.n_unknown,
                          "special": t.kinds.count("special"), "vocabulary": t.vocab_size} for t in readings])


