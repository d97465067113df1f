"""Find units that read the text (LSTMVis, Strobelt et al. 2018; Karpathy et al. 2015's quote and depth cells).

A *signal* is one number per token that the task defines: bracket depth, position, whether a quote is open,
the polarity of the words read so far, or a span the user marks. Units are ranked by the Pearson correlation
of their activation with the signal, or, for a span, by how much more often they are "on" (above a threshold)
inside the span than outside it.

The sentiment signal never uses the model's own predictions: each word's polarity is its log-odds of
appearing in a class-1 rather than a class-0 training text (add-one smoothing), counted on the run's
training split; the signal after token t is the sum of the polarities of tokens 0..t.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from explorer.data.dataset import TaskData
from explorer.data.tasks import bracket_depth

SIGNALS = {
    "depth": "bracket depth: open '(' minus closed ')' so far",
    "position": "position t in the input",
    "quote": "inside a quotation (an odd number of \" so far)",
    "sentiment": "polarity of the words so far (per-word log-odds from the training split)",
    "span": "a span you select (1 inside, 0 outside)",
}


def depth_signal(pieces: Sequence[str]) -> np.ndarray:
    """Nesting depth after each token, ``[pos]`` (tokens may hold several characters)."""
    text = "".join(pieces)
    per_char = bracket_depth(text)
    ends = np.cumsum([len(p) for p in pieces]) - 1  # index of each token's last character
    out = np.zeros(len(pieces), dtype=np.float64)
    for k, end in enumerate(ends):
        out[k] = per_char[end] if end >= 0 else (out[k - 1] if k else 0.0)
    return out


def position_signal(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


def quote_signal(pieces: Sequence[str]) -> np.ndarray:
    """1 while a double quote is open after the token (its opening quote included), else 0."""
    counts = np.cumsum([p.count('"') for p in pieces])
    return (counts % 2).astype(np.float64)


def word_polarity(data: TaskData, smoothing: float = 1.0) -> np.ndarray:
    """``[d_vocab]`` log-odds per token id of occurring in class-1 vs class-0 training texts.

    log((n₁(w) + α) / (N₁ + αV)) − log((n₀(w) + α) / (N₀ + αV)), counts over the training split only.
    """
    if data.kind != "classification" or data.n_classes != 2 or not data.train.labels:
        raise ValueError("Word polarity needs a two-class classification task with a training split.")
    vocab = data.tokenizer.vocab_size
    counts = np.zeros((2, vocab), dtype=np.float64)
    for ids, label in zip(data.train.sources, data.train.labels):
        np.add.at(counts[label], np.asarray(ids, dtype=np.int64), 1.0)
    totals = counts.sum(axis=1, keepdims=True)  # [2, 1]
    probs = (counts + smoothing) / (totals + smoothing * vocab)  # [2, vocab]
    return np.log(probs[1]) - np.log(probs[0])


def sentiment_signal(ids: Sequence[int], polarity: np.ndarray) -> np.ndarray:
    """Running sum of word polarities, ``[pos]``."""
    ids_arr = np.asarray(ids, dtype=np.int64)
    return np.cumsum(polarity[np.clip(ids_arr, 0, len(polarity) - 1)])


def span_signal(n: int, start: int, stop: int) -> np.ndarray:
    """1 on tokens ``start..stop`` (inclusive), 0 elsewhere."""
    out = np.zeros(n, dtype=np.float64)
    out[max(0, start):max(0, stop) + 1] = 1.0
    return out


def correlations(values: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Pearson r of each unit's activation ``values`` [pos, units] with ``signal`` [pos]; 0 where undefined."""
    x = values.astype(np.float64) - values.mean(axis=0, keepdims=True)  # [pos, units]
    y = signal.astype(np.float64) - signal.mean()  # [pos]
    denom = np.sqrt((x ** 2).sum(axis=0) * (y ** 2).sum())  # [units]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (x * y[:, None]).sum(axis=0) / denom
    return np.where(denom > 1e-12, r, 0.0)


def rank_units(values: np.ndarray, signal: np.ndarray, top: int = 10) -> pd.DataFrame:
    """The ``top`` units by |r| with the signal: columns unit, r, |r|."""
    r = correlations(values, signal)
    order = np.argsort(-np.abs(r), kind="stable")[:top]
    return pd.DataFrame({"unit": order, "r": r[order], "|r|": np.abs(r[order])})


def span_scores(values: np.ndarray, start: int, stop: int, threshold: float, top: int = 10) -> pd.DataFrame:
    """Units "on" (value > threshold) inside tokens ``start..stop`` and "off" outside (LSTMVis's match).

    score = share of span steps on − share of outside steps on; 1 is a perfect match.
    """
    n = values.shape[0]
    inside = span_signal(n, start, stop).astype(bool)  # [pos]
    on = values > threshold  # [pos, units]
    share_in = on[inside].mean(axis=0) if inside.any() else np.zeros(values.shape[1])
    share_out = on[~inside].mean(axis=0) if (~inside).any() else np.zeros(values.shape[1])
    score = share_in - share_out
    order = np.argsort(-score, kind="stable")[:top]
    return pd.DataFrame({"unit": order, "on inside": share_in[order], "on outside": share_out[order],
                         "score": score[order]})


def available_signals(data: TaskData | None, pieces: Sequence[str]) -> list[str]:
    """The signals that make sense for this input and task (span is always there)."""
    out = []
    if any(("(" in p or ")" in p) for p in pieces):
        out.append("depth")
    out.append("position")
    if any('"' in p for p in pieces):
        out.append("quote")
    if data is not None and data.kind == "classification" and data.n_classes == 2 and data.train.labels:
        out.append("sentiment")
    out.append("span")
    return out


def compute_signal(kind: str, pieces: Sequence[str], ids: Sequence[int], polarity: np.ndarray | None = None,
                   span: tuple[int, int] | None = None) -> np.ndarray:
    """The signal ``kind`` (a key of :data:`SIGNALS`) for one input, ``[pos]``."""
    if kind == "depth":
        return depth_signal(pieces)
    if kind == "position":
        return position_signal(len(pieces))
    if kind == "quote":
        return quote_signal(pieces)
    if kind == "sentiment":
        if polarity is None:
            raise ValueError("The sentiment signal needs word polarities from a two-class training split.")
        return sentiment_signal(ids, polarity)
    if kind == "span":
        start, stop = span if span is not None else (0, len(pieces) - 1)
        return span_signal(len(pieces), start, stop)
    raise ValueError(f"Unknown signal {kind!r}; choose one of {', '.join(SIGNALS)}.")


def pooled_ranking(values: Sequence[np.ndarray], signals: Sequence[np.ndarray], top: int = 10) -> pd.DataFrame:
    """:func:`rank_units` over several inputs at once (their steps concatenated)."""
    return rank_units(np.concatenate(list(values), axis=0), np.concatenate(list(signals)), top=top)
