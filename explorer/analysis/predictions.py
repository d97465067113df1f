"""What a model does now: sampled text, decoded targets, class probabilities, a confusion matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from explorer.analysis.decoding import LogitsFn, next_token_fn, sample
from explorer.data.batches import max_model_length
from explorer.data.dataset import Split, TaskData
from explorer.data.tokenizers import BOS, PAD, SEP, UNK, Tokenizer
from explorer.models import Model, is_encoder_decoder


def _device(model: Model) -> torch.device:
    return next(model.parameters()).device


def lm_next_token(model: Model) -> LogitsFn:
    """An app language model's next-token logits (the last n_ctx tokens for learned positions; never padding)."""
    model.eval()
    return next_token_fn(model, window=max_model_length(model.config), banned=[PAD])


def sample_tokens(model: Model, prompt: list[int], n_new: int, temperature: float = 1.0,
                  seed: int = 0) -> list[int]:
    """Autoregressive sampling from a language model: softmax(logits / temperature) at each step, seeded
    (:func:`explorer.analysis.decoding.sample`). ``temperature`` 0 means greedy (argmax). Returns the new ids."""
    return sample(lm_next_token(model), list(prompt) or [BOS], max(0, n_new), temperature=temperature, seed=seed)


def sample_text(model: Model, tokenizer: Tokenizer, prompt: str, n_new: int = 200, temperature: float = 1.0,
                seed: int = 0) -> str:
    """Continue ``prompt`` with ``n_new`` sampled tokens; returns only the continuation as text."""
    ids = tokenizer.encode(prompt)
    return tokenizer.decode(sample_tokens(model, ids, n_new, temperature, seed))


@torch.no_grad()
def greedy_targets(model: Model, sources: list[list[int]], target_len: int) -> list[list[int]]:
    """Greedy decoding of ``target_len`` tokens for each source (decoder-only: after ``<sep>``): at every step the
    model reads its own previous outputs, not the true target (as under teacher forcing). Sources of one call
    must have the same length (see :func:`greedy_by_length`)."""
    model.eval()
    device = _device(model)
    encoder_decoder = is_encoder_decoder(model.config)
    src = torch.tensor(sources, device=device)  # [batch, src_pos] (generated tasks: equal lengths)
    out = torch.full((len(sources), 1), BOS if encoder_decoder else SEP, dtype=torch.long, device=device)
    for _ in range(target_len):
        logits = model(src, out) if encoder_decoder else model(torch.cat([src, out], dim=1))
        next_ids = logits[:, -1].argmax(-1, keepdim=True)  # [batch, 1]
        out = torch.cat([out, next_ids], dim=1)
    return out[:, 1:].tolist()


def greedy_by_length(model: Model, sources: list[list[int]], target_lengths: list[int]) -> list[list[int]]:
    """:func:`greedy_targets` for sources and targets of mixed lengths: each group of equal (source, target)
    lengths is decoded together, for exactly as many steps as its target has (the models have no end token)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (src, n) in enumerate(zip(sources, target_lengths)):
        groups.setdefault((len(src), n), []).append(i)
    out: list[list[int]] = [[] for _ in sources]
    for (_, n), rows in groups.items():
        for i, decoded in zip(rows, greedy_targets(model, [sources[i] for i in rows], n)):
            out[i] = decoded
    return out


@torch.no_grad()
def class_probabilities(model: Model, sources: list[list[int]], batch_size: int = 256) -> np.ndarray:
    """softmax of a classifier's logits, ``[n, n_classes]`` (sequences padded with ``<pad>``)."""
    model.eval()
    device = _device(model)
    out = []
    for start in range(0, len(sources), batch_size):
        chunk = sources[start:start + batch_size]
        width = max(1, max(len(s) for s in chunk))
        batch = torch.full((len(chunk), width), PAD, dtype=torch.long, device=device)
        for i, seq in enumerate(chunk):
            batch[i, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        out.append(torch.softmax(model(batch).float(), dim=-1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0))


UNKNOWN_MARK = "‹{}›"  # a word the model reads as <unk>, shown as written


def _show(tokenizer: Tokenizer, ids: list[int], words: list[str] | None = None) -> str:
    """The input as text; with ``words`` (the tokens as written) the words the model reads as <unk> are shown
    themselves, marked ‹like this›, rather than as <unk>."""
    if words is not None and len(words) == len(ids):
        pieces = [UNKNOWN_MARK.format(w) if i == UNK and w != "<unk>" else tokenizer.tokens[i]
                  for i, w in zip(ids, words)]
        return ("" if tokenizer.mode == "char" else " ").join(pieces)
    return tokenizer.decode(ids) if tokenizer.mode == "char" else " ".join(tokenizer.to_str_tokens(ids))


def validation_examples(model: Model, data: TaskData, n: int = 12, split: Split | None = None) -> pd.DataFrame:
    """A table of validation examples with what the model predicts.

    Classification: text, true class, predicted class and its probability, p(true). Seq2seq: source,
    target, greedy prediction, correct or not. LM tasks: empty (sample text instead).
    """
    split = split or data.val
    tok = data.tokenizer
    sources = split.sources[:n]
    if data.kind == "classification":
        probs = class_probabilities(model, sources)
        names = data.class_names or []
        predicted = probs.argmax(1)
        return pd.DataFrame({
            "input": [_show(tok, s, split.words[k] if split.words else None) for k, s in enumerate(sources)],
            "true": [names[y] for y in split.labels[:n]],
            "predicted": [names[p] for p in predicted],
            "p(predicted)": probs[np.arange(len(sources)), predicted],
            "p(true)": probs[np.arange(len(sources)), split.labels[:n]],
        })
    if data.kind == "seq2seq" and split.targets:
        predicted = greedy_by_length(model, sources, [len(t) for t in split.targets[:n]])
        return pd.DataFrame({
            "source": [_show(tok, s) for s in sources],
            "target": [_show(tok, t) for t in split.targets[:n]],
            "predicted": [_show(tok, p) for p in predicted],
            "correct": [p == t for p, t in zip(predicted, split.targets[:n])],
        })
    return pd.DataFrame()


def confusion_matrix(model: Model, data: TaskData, max_examples: int = 2000) -> np.ndarray:
    """Counts ``[true class, predicted class]`` over (up to ``max_examples``) validation examples."""
    sources = data.val.sources[:max_examples]
    labels = np.array(data.val.labels[:max_examples])
    predicted = class_probabilities(model, sources).argmax(1)
    k = data.n_classes
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix
