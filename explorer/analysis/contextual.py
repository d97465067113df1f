"""Contextual embeddings of a pretrained encoder (MiniLM): one word in many sentences, layer by layer; sentences.

A static embedding (GloVe, the rows of W_E) gives "bank" one vector. A transformer encoder mixes in the rest
of the sentence at every layer (BERT, Devlin et al. 2019), so "bank" by a river and "bank" that lends money drift
apart as depth grows. We read the states after the embeddings and after each block — for post-LayerNorm
encoders such as MiniLM, ``embed_ln.hook_normalized`` and ``blocks.{L}.hook_normalized_resid_post``, equal to
Hugging Face's ``hidden_states`` — and measure how well the senses separate with two scores:

- silhouette (Rousseeuw 1987) with cosine distance: per sentence (b − a) / max(a, b), a = mean distance to its
  own sense, b = mean distance to the nearest other sense; averaged; 1 = perfectly separated, 0 = mixed;
- within − between cosine: mean cosine similarity of pairs with the same sense minus pairs with different senses.

A word that the tokenizer splits into several pieces is represented by the mean of its pieces' states.
Sentence embeddings: the mean of the last layer's states over the sentence's tokens ([CLS] and [SEP] included),
as sentence-transformers pools all-MiniLM-L6-v2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

DEFAULT_WORD = "bank"
DEFAULT_SENTENCES = """river: We sat on the bank of the river and watched the boats drift by.
river: The fisherman pulled his canoe up onto the muddy bank.
river: Wild flowers grew along the steep bank of the stream.
river: After the storm the water rose over the bank and flooded the fields.
money: She deposited her first salary at the bank on Monday.
money: The bank approved our loan for the new house.
money: He works as a cashier at a large bank downtown.
money: I need to withdraw some cash from the bank before the trip."""
MAX_SENTENCES = 200  # sentences for the word-in-context view
MAX_TOKENS = 128  # tokens per sentence kept (MiniLM was trained on up to 128 for sentence embeddings)


class ContextError(ValueError):
    """The sentences or the word cannot be used as typed; the message says why."""


def parse_labelled_sentences(text: str) -> list[tuple[str, str]]:
    """Lines ``sense: sentence`` → (sense, sentence); a line without ``:`` gets the sense "?"."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        label, sep, sentence = line.partition(":")
        if sep and sentence.strip() and len(label.split()) <= 3:
            out.append((label.strip() or "?", sentence.strip()))
        else:
            out.append(("?", line))
    return out[:MAX_SENTENCES]


def layer_hooks(model: Any) -> list[tuple[str, str]]:
    """(label, hook) for the embeddings and every block's output, as Hugging Face's ``hidden_states``."""
    cfg = model.config
    first = "embed_ln.hook_normalized" if getattr(model, "embed_ln", None) is not None else "blocks.0.hook_resid_pre"
    post = "hook_normalized_resid_post" if cfg.post_ln else "hook_resid_post"
    return [("embeddings", first)] + [(f"layer {i + 1}", f"blocks.{i}.{post}") for i in range(cfg.n_layers)]


def encode_batch(model: Any, texts: list[str], max_tokens: int = MAX_TOKENS) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [batch, pos] padded with the model's pad id, and the attention mask [batch, pos] (1 = real)."""
    rows = [model.to_tokens(t, max_tokens=max_tokens)[0] for t in texts]
    width = max(len(r) for r in rows)
    pad = model.config.pad_id if model.config.pad_id is not None else 0
    tokens = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        tokens[i, : len(row)], mask[i, : len(row)] = row, 1
    return tokens, mask


def word_pieces(model: Any, word: str) -> list[int]:
    """The token ids the tokenizer makes of ``word`` on its own (no special tokens)."""
    return list(model.tokenizer(word.strip(), add_special_tokens=False)["input_ids"])


def find_piece_run(ids: list[int], pieces: list[int]) -> list[int]:
    """Positions of the first occurrence of the id sequence ``pieces`` in ``ids`` ([] when absent)."""
    n = len(pieces)
    for start in range(len(ids) - n + 1):
        if ids[start:start + n] == pieces:
            return list(range(start, start + n))
    return []


@dataclass
class WordInContext:
    """One word's state in each sentence where it was found, at every layer."""

    layers: list[str]  # "embeddings", "layer 1", …
    vectors: list[np.ndarray]  # per layer [n_found, d_model]
    frame: pd.DataFrame  # sense, sentence, tokens (the pieces averaged)
    missing: list[str] = field(default_factory=list)  # sentences without the word
    pieces: list[str] = field(default_factory=list)


def word_in_context(model: Any, labelled: list[tuple[str, str]], word: str) -> WordInContext:
    """The states of ``word`` in each sentence, per layer (sub-word pieces averaged). Raises :class:`ContextError`."""
    word = word.strip()
    if not word or len(word.split()) != 1:
        raise ContextError("Type one word (for example: bank).")
    if not labelled:
        raise ContextError("Type at least two sentences, one per line, as “sense: sentence”.")
    pieces = word_pieces(model, word)
    if not pieces:
        raise ContextError(f"The tokenizer makes no tokens of “{word}”.")
    tokens, mask = encode_batch(model, [s for _, s in labelled])
    hooks = layer_hooks(model)
    names = {h for _, h in hooks}
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, attention_mask=mask, names_filter=lambda n: n in names)
    found_rows, positions, missing = [], [], []
    for i, (_sense, sentence) in enumerate(labelled):
        pos = find_piece_run(tokens[i, : int(mask[i].sum())].tolist(), pieces)
        if pos:
            found_rows.append(i)
            positions.append(pos)
        else:
            missing.append(sentence)
    if not found_rows:
        raise ContextError(f"“{word}” does not occur (as a whole word) in any of the sentences.")
    vectors = []
    for _label, hook in hooks:
        acts = cache[hook].float()  # [batch, pos, d_model]
        vectors.append(torch.stack([acts[i, pos].mean(dim=0) for i, pos in zip(found_rows, positions)]).numpy())
    piece_strings = model.to_str_tokens(pieces)
    frame = pd.DataFrame({"sense": [labelled[i][0] for i in found_rows],
                          "sentence": [labelled[i][1] for i in found_rows],
                          "label": [_short(labelled[i][1]) for i in found_rows]})
    return WordInContext([label for label, _ in hooks], vectors, frame, missing, piece_strings)


def _short(sentence: str, limit: int = 48) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)  # [n, d]
    return unit @ unit.T  # [n, n]


def separation(vectors: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Silhouette (cosine) and within − between mean cosine of labelled vectors [n, d] (NaN when undefined)."""
    from sklearn.metrics import silhouette_score

    labels_arr = np.asarray(labels)
    n_labels = len(set(labels))
    cos = _cosine_matrix(np.asarray(vectors, dtype=np.float64))
    same = labels_arr[:, None] == labels_arr[None, :]  # [n, n]
    off_diagonal = ~np.eye(len(labels_arr), dtype=bool)
    within = cos[same & off_diagonal].mean() if (same & off_diagonal).any() else np.nan
    between = cos[~same].mean() if (~same).any() else np.nan
    silhouette = np.nan
    if 2 <= n_labels <= len(labels_arr) - 1:
        silhouette = float(silhouette_score(vectors, labels_arr, metric="cosine"))
    return {"silhouette": silhouette, "within": float(within), "between": float(between),
            "within − between": float(within - between)}


def separation_by_layer(result: WordInContext) -> pd.DataFrame:
    """One row per layer: silhouette, within, between, within − between."""
    labels = result.frame["sense"].tolist()
    rows = [{"layer": name, "depth": i, **separation(v, labels)} for i, (name, v) in
            enumerate(zip(result.layers, result.vectors))]
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- sentences
def sentence_embeddings(model: Any, texts: list[str], batch_size: int = 32, max_tokens: int = MAX_TOKENS,
                        on_batch: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Mean-pooled last-layer states [n_texts, d_model] (float32), batched by length to pad little."""
    hook = layer_hooks(model)[-1][1]
    lengths = [model.count_tokens(t) for t in texts]
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(texts), model.config.d_model), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chosen = order[start:start + batch_size]
        tokens, mask = encode_batch(model, [texts[i] for i in chosen], max_tokens)
        with torch.no_grad():
            _, cache = model.run_with_cache(tokens, attention_mask=mask, names_filter=lambda n: n == hook)
        states = cache[hook].float()  # [batch, pos, d_model]
        weights = mask.unsqueeze(-1).float()  # [batch, pos, 1]
        out[chosen] = ((states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)).numpy()
        if on_batch is not None:
            on_batch(min(start + batch_size, len(texts)), len(texts))
    return out


def probe_accuracy(vectors: np.ndarray, labels: list[int], folds: int = 5, seed: int = 0) -> float:
    """Held-out accuracy of a logistic-regression probe (k-fold cross-validation) on frozen vectors."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    counts = np.bincount(np.asarray(labels))
    folds = int(min(folds, counts[counts > 0].min())) if len(counts) else 0
    if folds < 2 or (counts > 0).sum() < 2:
        return float("nan")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(LogisticRegression(max_iter=2000), vectors, labels, cv=splitter)
    return float(scores.mean())
