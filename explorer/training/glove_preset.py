"""Deck 002's homework, "how did the results change with the embeddings?", as a preset: the same LSTM sentiment
classifier three times on the same reviews, its embedding table starting random, from GloVe 6B-50d and trained
further, or from GloVe and frozen (only the LSTM and the head learn)."""

from __future__ import annotations

import numpy as np

from explorer.data.dataset import TaskData
from explorer.data.tokenizers import PAD
from explorer.models import RecurrentConfig
from explorer.training.config import TrainConfig
from explorer.training.run import Run, new_run

PRESET = "GloVe comparison"
RANDOM, TRAINED, FROZEN = "random embedding", "GloVe, trained further", "GloVe, frozen"
VARIANTS = (RANDOM, TRAINED, FROZEN)
DATA, VOCAB, MAX_LEN = "movie_sentences", 5000, 60
STEPS = 600


def variant_configs(data: TaskData, dim: int = 50) -> dict[str, tuple[RecurrentConfig, TrainConfig]]:
    if data.kind != "classification":
        raise ValueError("The GloVe comparison needs a labelled text (sentiment) dataset.")
    base = dict(cell="lstm", d_vocab=data.tokenizer.vocab_size, d_embed=dim, d_hidden=64, head="classifier",
                n_classes=data.n_classes, pooling="mean", forget_bias=1.0, pad_id=PAD)
    train = TrainConfig(lr=3e-3, max_steps=STEPS, batch_size=64, eval_every=25)
    return {RANDOM: (RecurrentConfig(**base), train),
            TRAINED: (RecurrentConfig(**base, embedding_init="glove"), train),
            FROZEN: (RecurrentConfig(**base, embedding_init="glove", freeze_embedding=True), train)}


def make_runs(data: TaskData, rows: np.ndarray, names: dict[str, str] | None = None) -> list[Run]:
    """The three runs (same seed, so the random variant and the other rows of the GloVe ones start alike)."""
    runs = []
    for variant, (model, train) in variant_configs(data, rows.shape[1]).items():
        runs.append(new_run((names or {}).get(variant, variant), data, model, train, preset=PRESET,
                            embedding=None if variant == RANDOM else rows))
    return runs


def variant_of(run: Run) -> str | None:
    if run.preset != PRESET:
        return None
    if run.config.embedding_init == "random":
        return RANDOM
    return FROZEN if run.config.freeze_embedding else TRAINED


def latest_group(runs: list[Run]) -> dict[str, Run]:
    group: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r.created):
        if (variant := variant_of(run)) is not None:
            group[variant] = run
    return {v: group[v] for v in VARIANTS if v in group}
