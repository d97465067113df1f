"""Turn real text into a :class:`TaskData`: labelled texts for classification, one long text for language modelling.

Shared by the packaged corpora, the Hugging Face datasets and user uploads. The tokenizer is always fitted on the
training split only, so validation numbers are honest (unseen words become ``<unk>``).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import islice
from typing import Any

import torch

from explorer.data.dataset import Split, TaskData, split_indices, subset
from explorer.data.tokenizers import SPECIALS, UNK, Tokenizer


def _splitter(mode: str, lowercase: bool) -> Tokenizer:
    """A vocabulary-less tokenizer, used only for its ``split`` (text -> token strings)."""
    return Tokenizer(mode=mode, tokens=list(SPECIALS), lowercase=lowercase)


def _fit(pieces: Sequence[Sequence[str]], mode: str, max_vocab: int, lowercase: bool) -> Tokenizer:
    """Fit a vocabulary on already-split token lists.

    Joining the pieces back (no separator for characters, a space otherwise) and splitting again gives the same
    tokens, so ``Tokenizer.fit`` sees exactly the (truncated) tokens the model will see.
    """
    joiner = "" if mode == "char" else " "
    return Tokenizer.fit((joiner.join(p) for p in pieces), mode=mode, max_vocab=max_vocab, lowercase=lowercase)


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive); got {val_fraction}.")


def classification_task(name: str, texts: Sequence[str], labels: Sequence[int], class_names: Sequence[str], *,
                        mode: str = "word", max_vocab: int = 10_000, max_len: int = 200, val_fraction: float = 0.1,
                        seed: int = 0, lowercase: bool = True, origin: str = "corpus",
                        params: dict[str, Any] | None = None, description: str = "") -> TaskData:
    """Labelled texts -> a classification task (labels ``0..n-1`` index ``class_names``).

    Each source is the text's first ``max_len`` tokens; texts with no tokens at all are dropped. The split is a
    seeded shuffle; the vocabulary (at most ``max_vocab`` tokens, specials included) comes from the train split.
    Each split also keeps its texts as written (``Split.texts``), for models with a tokenizer of their own.
    """
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels.")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1; got {max_len}.")
    _check_fraction(val_fraction)
    n_classes = len(class_names)
    bad = [lab for lab in labels if not 0 <= lab < n_classes]
    if bad:
        raise ValueError(f"Labels must be 0..{n_classes - 1} (one per class name); found {bad[0]}.")

    splitter = _splitter(mode, lowercase)
    pieces, kept_labels, kept_texts = [], [], []
    for text, label in zip(texts, labels):
        tokens = splitter.split(text)[:max_len]
        if tokens:
            pieces.append(tokens)
            kept_labels.append(int(label))
            kept_texts.append(text)
    train_idx, val_idx = split_indices(len(pieces), val_fraction, seed)
    tokenizer = _fit(subset(pieces, train_idx), mode, max_vocab, lowercase)

    def make_split(indices: list[int], keep_words: bool = False) -> Split:
        sources = [[tokenizer.id_of(tok) for tok in pieces[i]] for i in indices]
        return Split(sources=sources, labels=subset(kept_labels, indices), texts=subset(kept_texts, indices),
                     words=subset(pieces, indices) if keep_words else None)

    settings = {"mode": mode, "max_vocab": max_vocab, "max_len": max_len, "val_fraction": val_fraction,
                "seed": seed, "lowercase": lowercase, "n_dropped_empty": len(texts) - len(pieces)}
    return TaskData(name=name, kind="classification", tokenizer=tokenizer, train=make_split(train_idx),
                    val=make_split(val_idx, keep_words=True), description=description, class_names=list(class_names),
                    origin=origin, params={**settings, **(params or {})})


def lm_task_from_text(name: str, text: str, *, mode: str = "char", max_vocab: int = 10_000,
                      val_fraction: float = 0.1, lowercase: bool = False, origin: str = "corpus",
                      params: dict[str, Any] | None = None, description: str = "") -> TaskData:
    """One long text -> a language-modelling task on a token stream.

    Validation is the last ``val_fraction`` of the tokens, contiguous (no leakage through overlapping windows);
    the vocabulary comes from the training part. ``train.stream`` / ``val.stream``: LongTensor ``[n_tokens]``.
    """
    _check_fraction(val_fraction)
    tokens = _splitter(mode, lowercase).split(text)
    if len(tokens) < 2:
        raise ValueError(f"The text has {len(tokens)} token(s); language modelling needs at least 2.")
    n_val = min(len(tokens) - 1, max(1, round(len(tokens) * val_fraction)))
    cut = len(tokens) - n_val
    tokenizer = _fit([tokens[:cut]], mode, max_vocab, lowercase)
    index = {tok: i for i, tok in enumerate(tokenizer.tokens)}

    def stream(start: int, stop: int) -> torch.Tensor:
        """The ids of tokens[start:stop], ``[n]`` int64, built without a Python list of them (a 10 MB upload read
        by characters would need 80 MB for the list besides the 80 MB of the tensor)."""
        ids = array("q", (index.get(tok, UNK) for tok in islice(tokens, start, stop)))
        return torch.frombuffer(ids, dtype=torch.long) if ids else torch.zeros(0, dtype=torch.long)

    settings = {"mode": mode, "max_vocab": max_vocab, "val_fraction": val_fraction, "lowercase": lowercase,
                "n_chars": len(text)}
    return TaskData(name=name, kind="lm", tokenizer=tokenizer, train=Split(stream=stream(0, cut)),
                    val=Split(stream=stream(cut, len(tokens))), description=description, origin=origin,
                    params={**settings, **(params or {})})


def split_texts(split: Split, tokenizer: Tokenizer) -> list[str]:
    """The examples of a split as text: as written when the data kept them, else decoded from the token ids (the
    generated tasks, whose vocabulary loses nothing)."""
    if split.texts is not None:
        return list(split.texts)
    return [tokenizer.decode(ids) for ids in split.sources]


def retokenize(data: TaskData, tokenizer: Tokenizer, max_len: int = 200) -> TaskData:
    """The same classification examples (same splits, same labels), read with another model's ``tokenizer``:
    what a model pre-trained on other text needs to be fine-tuned on this data. Each text is cut to ``max_len``
    tokens; one that makes none becomes a single <unk>."""
    if data.kind != "classification":
        raise ValueError("Only classification data can be re-read for fine-tuning.")

    def convert(split: Split) -> Split:
        texts = split_texts(split, data.tokenizer)
        sources = [tokenizer.encode(text)[:max_len] or [UNK] for text in texts]
        return Split(sources=sources, labels=list(split.labels or []), texts=texts)

    return TaskData(name=data.name, kind="classification", tokenizer=tokenizer, train=convert(data.train),
                    val=convert(data.val), description=data.description, class_names=list(data.class_names or []),
                    origin=data.origin, params={**data.params, "retokenized": True, "max_len": max_len})
