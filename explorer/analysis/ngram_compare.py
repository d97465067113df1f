"""An n-gram model beside the neural language models of the session, on exactly the validation tokens each run's
own validation loss is measured on (so that the perplexities compare)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from explorer.data.batches import IGNORE
from explorer.data.dataset import TaskData
from explorer.models.ngram import MAX_N, NGramModel, perplexity
from explorer.training.run import Run

Segment = tuple[np.ndarray, int, int]  # a text, and the range of its tokens that are predicted


def has_text(data: TaskData | None) -> bool:
    return data is not None and data.kind == "lm"


def training_texts(data: TaskData) -> list[np.ndarray]:
    """The training text: one stream, or each training sequence on its own."""
    if data.is_stream:
        return [data.train.stream.numpy()]
    return [np.asarray(s, dtype=np.int32) for s in data.train.sources]


def fit(data: TaskData, k: float) -> NGramModel:
    """Counts of every order up to 5 (lower orders are views of the same tables: see :func:`of_order`)."""
    return NGramModel.fit(training_texts(data), n=MAX_N, k=k, vocab_size=data.tokenizer.vocab_size)


def of_order(model: NGramModel, n: int) -> NGramModel:
    return replace(model, n=n, tables=model.tables[:n])


def validation_segments(run: Run) -> list[Segment]:
    """The tokens the run's validation loss is the mean over: for a text stream the first windows of the validation
    text (tokens 1 … windows × seq_len), for sequences each validation sequence's tokens 1 … end."""
    data, trainer = run.data, run.trainer
    n_examples = len(trainer.val_set)
    if data.is_stream:
        stream = data.val.stream.numpy()
        return [(stream, 1, 1 + n_examples * trainer.config.seq_len)]
    return [(np.asarray(s, dtype=np.int32), 1, len(s)) for s in data.val.sources[:n_examples] if len(s) > 1]


def labelled_tokens(run: Run) -> int:
    """How many validation tokens the run's own validation loss averages over."""
    return int((run.trainer.val_set.labels != IGNORE).sum())


def ngram_nll(model: NGramModel, segments: list[Segment]) -> np.ndarray:
    """−log P of every predicted token of the segments (each in its own text's context)."""
    parts = [model.token_nll(text, start, end) for text, start, end in segments]
    return np.concatenate(parts) if parts else np.zeros(0)


def comparison_table(model: NGramModel, runs: list[Run]) -> pd.DataFrame:
    """One row per run and per n-gram order: perplexity on the run's validation tokens."""
    rows = []
    for run in runs:
        segments = validation_segments(run)
        last = run.trainer.val_history[-1] if run.trainer.val_history else None
        rows.append({"model": run.name, "kind": "neural", "step": run.step, "tokens": labelled_tokens(run),
                     "perplexity": float(np.exp(last["val_loss"])) if last else np.nan})
        for n in range(1, MAX_N + 1):
            nll = ngram_nll(of_order(model, n), segments)
            rows.append({"model": f"{n}-gram (add-k, k = {model.k:g})", "kind": "n-gram", "n": n,
                         "on the tokens of": run.name, "tokens": len(nll), "perplexity": perplexity(nll)})
    return pd.DataFrame(rows)
