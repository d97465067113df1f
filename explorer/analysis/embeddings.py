"""The vectors of a model trained here, at any training snapshot: token embeddings W_E and hidden states.

- Token embeddings: the rows of ``W_E`` [d_vocab, d_embed], one point per token of the vocabulary, described by
  what the task gives: the kind of token (digit, letter, bracket, special …) for character and symbol
  vocabularies, and how often it occurs in the training data for word vocabularies.
- Hidden states: a fixed set of validation examples run through the model, recording one hook
  (recurrent ``rnn.{L}.hook_h``, transformer ``blocks.{L}.hook_resid_post``, classifiers ``hook_pooled``);
  one point per example (pooled as the model pools, coloured by the example's class) or one per token.
- Snapshots: :func:`extend_layouts` lays out the same points at each kept step, each layout starting from and
  Procrustes-aligned to the one before (see :mod:`explorer.analysis.projection`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from explorer.analysis.projection import Projection, ProjectionParams, procrustes, project, sample_indices
from explorer.data.batches import Formatted, format_split
from explorer.data.dataset import TaskData
from explorer.data.tokenizers import PAD, SPECIALS, Tokenizer
from explorer.models import Model, RecurrentConfig, Seq2SeqConfig, TransformerConfig
from explorer.models.pooling import pool
from explorer.training.run import Run
from explorer.training.snapshots import live_copy, model_at, snapshot_steps

KIND_ORDER = ["special", "digit", "lower-case letter", "upper-case letter", "bracket", "operator", "punctuation",
              "space", "word", "other"]
BRACKETS, OPERATORS = set("()[]{}<>"), set("+-*/=%^|&~")
UNITS = {"example": "one point per example", "token": "one point per token"}
DEFAULT_EXAMPLES = 300  # validation examples run for hidden states
MAX_TOKEN_POINTS = 3_000  # per-token states kept (seeded sample) so that every snapshot projects quickly


@dataclass
class PointSet:
    """Vectors to project, one row of ``frame`` per point (``label`` + columns to colour by)."""

    vectors: np.ndarray  # [n_points, d]
    frame: pd.DataFrame
    colors: list[str]  # columns of ``frame`` one may colour by; the first is the default
    numeric: set[str] = field(default_factory=set)  # which of them are numbers (a colour scale, not a legend)
    total: int = 0  # points before sampling
    description: str = ""


# ----------------------------------------------------------------------------------------------- tokens
def token_kind(token: str) -> str:
    """What kind of token this is, for colouring a vocabulary (see KIND_ORDER)."""
    if token in SPECIALS:
        return "special"
    if token.isdigit():
        return "digit"
    if len(token) == 1:
        if token.isalpha():
            return "lower-case letter" if token.islower() else "upper-case letter"
        if token in BRACKETS:
            return "bracket"
        if token in OPERATORS:
            return "operator"
        return "space" if token.isspace() else "punctuation"
    return "word" if token.isalpha() else "other"


def display_token(token: str) -> str:
    """A token as a readable label: spaces and line breaks made visible."""
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥").replace("\r", "␍") or "∅"


def token_counts(data: TaskData | None, vocab_size: int) -> np.ndarray:
    """How often each token id occurs in the training split (sources and targets, or the text stream)."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    if data is None:
        return counts
    split = data.train
    if split.stream is not None:
        ids = split.stream.reshape(-1).long()
    else:
        rows = list(split.sources) + list(split.targets or [])
        ids = torch.tensor([i for row in rows for i in row], dtype=torch.long)
    ids = ids[(ids >= 0) & (ids < vocab_size)]
    counts += torch.bincount(ids, minlength=vocab_size).numpy()[:vocab_size]
    return counts


def token_points(W_E: np.ndarray, tokenizer: Tokenizer, counts: np.ndarray) -> PointSet:
    """One point per vocabulary token: W_E [d_vocab, d_embed] rows (the model may have more rows than tokens)."""
    n = min(W_E.shape[0], tokenizer.vocab_size)
    tokens = tokenizer.tokens[:n]
    count = counts[:n] if len(counts) >= n else np.zeros(n, dtype=np.int64)
    frame = pd.DataFrame({
        "label": [display_token(t) for t in tokens], "token id": np.arange(n),
        "token kind": pd.Categorical([token_kind(t) for t in tokens], categories=KIND_ORDER),
        "count in training data": count, "log10 count": np.log10(count + 1.0)})
    frame["token kind"] = frame["token kind"].cat.remove_unused_categories()
    by_frequency = tokenizer.mode == "word"
    colors = ["log10 count", "token kind"] if by_frequency else ["token kind", "log10 count"]
    return PointSet(np.asarray(W_E[:n], dtype=np.float32), frame, colors, {"log10 count"}, n,
                    f"token embeddings W_E: {n} tokens × {W_E.shape[1]} dimensions")


def embedding_table(run: Run, step: int) -> np.ndarray:
    """W_E [d_vocab, d_embed] at a kept snapshot, or the live weights for any other step."""
    kept = run.trainer.load_snapshots([step]) if run.trainer is not None else {}
    if step in kept:
        weights = kept[step]
    elif run.trainer is not None:  # not a snapshot, or thinned a moment ago: the live weights
        weights = run.trainer.current_weights()
    else:
        weights = run.model.state_dict()
    name = "encoder.embed.weight" if "encoder.embed.weight" in weights else "embed.weight"  # recurrent seq2seq
    return weights[name].detach().float().cpu().numpy()


def available_steps(run: Run) -> list[int]:
    """Kept snapshot steps, plus the current step (the live weights) when it is not one of them."""
    steps = snapshot_steps(run)
    return steps if run.step in steps else [*steps, run.step]


def model_at_step(run: Run, step: int) -> Model:
    """An eval-mode CPU copy of the model at ``step`` (a snapshot, or the live weights)."""
    if run.trainer is not None and step in run.trainer.snapshots:
        return model_at(run, step)
    return live_copy(run)


# ----------------------------------------------------------------------------------------------- hidden states
@dataclass(frozen=True)
class StateSource:
    """A hook whose activations can be projected."""

    hook: str
    label: str
    stream: str = "input"  # input | decoder: which tokens the positions belong to
    pooled: bool = False  # already one vector per example ([batch, d])


def state_sources(config: RecurrentConfig | TransformerConfig | Seq2SeqConfig) -> list[StateSource]:
    """The hidden states a model offers, first layer first."""
    sources = []
    if isinstance(config, Seq2SeqConfig):
        cell = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}[config.cell]
        sources = [StateSource(f"encoder.rnn.{i}.hook_h", f"{cell} encoder layer {i + 1}: hidden state hⱼ")
                   for i in range(config.n_layers)]
        sources += [StateSource(f"decoder.rnn.{i}.hook_h", f"{cell} decoder layer {i + 1}: state sₜ", "decoder")
                    for i in range(config.n_layers)]
        return sources
    if isinstance(config, RecurrentConfig):
        cell = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}[config.cell]
        sources = [StateSource(f"rnn.{i}.hook_h", f"{cell} layer {i + 1}: hidden state hₜ") for i in
                   range(config.n_layers)]
    else:
        if config.encoder_decoder:
            sources = [StateSource(f"encoder.{i}.hook_resid_post", f"encoder block {i}: residual stream")
                       for i in range(config.n_layers)]
            sources += [StateSource(f"blocks.{i}.hook_resid_post", f"decoder block {i}: residual stream", "decoder")
                        for i in range(config.n_layers)]
        else:
            sources = [StateSource(f"blocks.{i}.hook_resid_post", f"block {i}: residual stream after the block")
                       for i in range(config.n_layers)]
    if config.head == "classifier":
        sources.append(StateSource("hook_pooled", "pooled state fed to the classifier", pooled=True))
    return sources


def probe_set(run: Run, n_examples: int = DEFAULT_EXAMPLES) -> Formatted:
    """The first ``n_examples`` validation examples, formatted for the run's model (fixed across snapshots)."""
    if run.data is None:
        raise ValueError("This run has no data attached (opened from a checkpoint of non-generated data): its hidden "
                         "states need examples to run. Token embeddings are still available.")
    seq_len = run.trainer.config.seq_len if run.trainer is not None else 64
    formatted = format_split(run.data.val, run.data, run.config, seq_len)
    return formatted.take(torch.arange(min(n_examples, len(formatted))))


def _example_text(tokenizer: Tokenizer, ids: list[int], limit: int = 40) -> str:
    text = tokenizer.decode([i for i in ids if i != PAD])
    return display_token(text if len(text) <= limit else text[: limit - 1] + "…")


def hidden_points(model: Model, run: Run, source: StateSource, unit: str, probe: Formatted,
                  max_points: int = MAX_TOKEN_POINTS, seed: int = 0) -> PointSet:
    """Hidden states at ``source`` for the probe examples: one point per example or per (example, position)."""
    inputs, decoder = probe.inputs.cpu(), None if probe.decoder_inputs is None else probe.decoder_inputs.cpu()
    args = (inputs,) if decoder is None else (inputs, decoder)
    with torch.no_grad():
        _, cache = model.run_with_cache(*args, names_filter=lambda name: name == source.hook)
    acts = cache[source.hook].float()  # [batch, pos, d] or [batch, d] (pooled)
    stream = decoder if source.stream == "decoder" else inputs  # [batch, pos]
    mask = stream != PAD  # [batch, pos]
    tokenizer, data = run.tokenizer, run.data
    classes = data.class_names if data is not None and data.kind == "classification" else None
    labels = probe.labels.cpu() if classes else None
    if unit == "example" or source.pooled:
        config = run.config
        how = config.pooling if config.head == "classifier" else "mean"
        vectors = acts if source.pooled else pool(acts, mask, how)  # [batch, d]
        frame = pd.DataFrame({"label": [_example_text(tokenizer, row.tolist()) for row in stream],
                              "example": np.arange(len(stream)), "length": mask.sum(dim=1).numpy()})
        colors = ["length"]
        if labels is not None:
            frame["class"] = pd.Categorical([classes[i] for i in labels.tolist()], categories=list(classes))
            colors = ["class", "length"]
        pooled_how = "as the classifier pools" if config.head == "classifier" else "mean over its tokens"
        what = f"{source.label}, one point per example ({'the pooled vector' if source.pooled else pooled_how})"
        return PointSet(vectors.numpy(), frame, colors, {"length"}, len(frame), what)
    rows, cols = mask.nonzero(as_tuple=True)  # [n_tokens] each
    keep = sample_indices(len(rows), max_points, seed)
    total = len(rows)
    if keep is not None:
        rows, cols = rows[keep], cols[keep]
    vectors = acts[rows, cols]  # [n_points, d]
    if isinstance(model.config, RecurrentConfig) and model.config.go_backwards:
        stream = model.reading_order(stream)  # the states are in reading order: label each with the token it read
    token_ids = stream[rows, cols].tolist()
    strings = tokenizer.to_str_tokens(token_ids)
    frame = pd.DataFrame({"label": [f"{display_token(s)} @{p}" for s, p in zip(strings, cols.tolist())],
                          "token": [display_token(s) for s in strings],
                          "token kind": pd.Categorical([token_kind(s) for s in strings], categories=KIND_ORDER),
                          "position": cols.numpy(), "example": rows.numpy()})
    frame["token kind"] = frame["token kind"].cat.remove_unused_categories()
    colors = ["token kind", "position"]
    if labels is not None:
        frame["class"] = pd.Categorical([classes[i] for i in labels[rows].tolist()], categories=list(classes))
        colors = ["class", "token kind", "position"]
    what = f"{source.label}, one point per token ({len(frame):,} of {total:,} token positions)"
    return PointSet(vectors.numpy(), frame, colors, {"position"}, total, what)


# ----------------------------------------------------------------------------------------------- snapshots
def weights_tag(run: Run, step: int) -> str:
    """A short fingerprint of W_E at ``step``: layouts cached under (step, tag) go stale when weights change
    (a reset run retrained with another learning rate reaches the same step with other weights)."""
    return hashlib.blake2b(np.ascontiguousarray(embedding_table(run, step)).tobytes(), digest_size=8).hexdigest()


def extend_layouts(layouts: dict[tuple[int, str], Projection], keys: list[tuple[int, str]],
                   vectors_at: Callable[[int], np.ndarray], params: ProjectionParams,
                   on_step: Callable[[int, int], None] | None = None) -> dict[tuple[int, str], Projection]:
    """Add layouts for the ``keys`` (step, weights tag) missing from ``layouts`` (updated and returned), by step.

    Each new layout starts from (UMAP, t-SNE) and is Procrustes-aligned to the layout of the nearest earlier
    step already laid out, so that scrubbing through training moves points instead of flipping the picture.
    """
    missing = sorted((k for k in keys if k not in layouts), key=lambda k: k[0])
    for done, key in enumerate(missing, start=1):
        earlier = [k for k in list(layouts) if k[0] < key[0]]  # list(): another script run may add meanwhile
        previous = layouts[max(earlier, key=lambda k: k[0])].coords if earlier else None
        result = project(vectors_at(key[0]), params, init=previous if params.method != "pca" else None)
        if previous is not None and previous.shape == result.coords.shape:
            result.coords = procrustes(result.coords, previous)
        layouts[key] = result
        if on_step is not None:
            on_step(done, len(missing))
    return layouts
