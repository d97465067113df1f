"""The Forward pass page's model and input, and its recordings (cached: a rerun never runs the model again).

Pretrained models: one recording per (model, text, layer), shared by every session (a byte-bounded shared cache: never
modified). Runs of the session: memoised per session by (run, step, text, layer), from the run's frozen copy, so a
training run is shown at its current weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
import torch

from explorer.analysis.forward.record import LayerRecord, ResidualRecord, record_layer, record_residuals
from explorer.data.examples import encode_with_specials, example_texts
from explorer.data.tokenizers import BOS, SPECIALS
from explorer.training.run import Run, describe_model
from explorer.ui.frozen import frozen_model
from explorer.ui.model_picker import Subject, offered_pretrained, pick_subject
from explorer.ui.pretrained_loader import get_pretrained, loaded_model
from explorer.ui.shared_cache import shared
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

MODEL = "forward.model"
TEXT = "forward.text"
TARGET = "forward.target"
MAX_TOKENS = 512  # the page's limit for any model (MiniLM's context; T × T figures are windowed beyond 64)
EXAMPLE_TEXT = "The students opened their notebooks, and the teacher wrote the formula on the"


@dataclass
class Walk:
    """The chosen model on the user's input, ready to record."""

    subject: Subject
    name: str
    model: Any  # a frozen copy of a run's model, or a shared read-only pretrained model
    tokens: torch.Tensor  # [1, pos] (the source, for an encoder-decoder)
    str_tokens: list[str]
    decoder_tokens: torch.Tensor | None = None  # [1, dec_pos] an encoder-decoder's decoder input
    decoder_str: list[str] | None = None
    notices: list[str] = field(default_factory=list)
    step: int = 0
    text: str = ""
    target: str = ""

    @property
    def run(self) -> Run | None:
        return self.subject.run

    @property
    def is_transformer(self) -> bool:
        return self.run is None or self.run.is_transformer

    @property
    def key(self) -> tuple:
        return (self.subject.key, self.step, self.text, self.target)

    def stack_tokens(self, stack: str) -> list[str]:
        return self.decoder_str if stack == "blocks" and self.decoder_str is not None else self.str_tokens

    def piece(self, token_id: int) -> str:
        """One id as text."""
        if self.run is not None:
            tokens = self.run.tokenizer.tokens
            return tokens[token_id] if 0 <= token_id < len(tokens) else "<unk>"
        return self.model.to_str_tokens([token_id])[0]

    def decode(self, ids: list[int]) -> str:
        """Ids as text: a run's tokenizer joins words with spaces and keeps its special tokens visible."""
        if self.run is not None:
            return self.run.tokenizer.decode(ids, skip_special=False)
        return self.model.tokenizer.decode(ids, clean_up_tokenization_spaces=False)


def is_walk_run(run: Run) -> bool:
    """Transformers of every kind, and recurrent language models (next token and decoding only)."""
    return run.is_transformer or run.config.head == "lm"


def choose_model() -> Subject | None:
    return pick_subject(MODEL, is_walk_run, offered_pretrained(), label="Model")


def _limit(run: Run) -> int:
    cfg = run.config
    return min(MAX_TOKENS, cfg.n_ctx) if run.is_transformer and cfg.positional == "learned" else MAX_TOKENS


def _cut(ids: list[int], pieces: list[str], limit: int, what: str, notices: list[str]) -> tuple[list[int], list[str]]:
    if len(ids) > limit:
        notices.append(f"The {what} has {len(ids):,} tokens; this model takes at most {limit} here: the first "
                       f"{limit} are used.")
        return ids[:limit], pieces[:limit]
    return ids, pieces


def _run_walk(subject: Subject, text: str, target: str) -> Walk:
    run = subject.run
    notices: list[str] = []
    ids, pieces, unknown = encode_with_specials(run.tokenizer, text)
    if unknown:
        notices.append("Not in this model's vocabulary (read as <unk>): "
                       + ", ".join(repr(u) for u in sorted(set(unknown))[:10]))
    if not ids:
        ids, pieces = [BOS], [SPECIALS[BOS]]
        notices.append("The input makes no tokens: reading <bos> alone.")
    ids, pieces = _cut(ids, pieces, _limit(run), "input", notices)
    walk = Walk(subject, run.name, frozen_model(run), torch.tensor([ids]), pieces, notices=notices,
                step=run.analysis_step, text=text, target=target)
    if run.is_transformer and run.config.encoder_decoder:
        t_ids, t_pieces, _ = encode_with_specials(run.tokenizer, target)
        t_ids, t_pieces = _cut([BOS, *t_ids], ["<bos>", *t_pieces], _limit(run), "target", notices)
        walk.decoder_tokens, walk.decoder_str = torch.tensor([t_ids]), t_pieces
    return walk


def _pretrained_walk(name: str, text: str) -> Walk | None:
    model, error = get_pretrained(name)
    if model is None:
        st.error(error)
        return None
    notices = []
    total = model.count_tokens(text)
    tokens = model.to_tokens(text, max_tokens=MAX_TOKENS)
    if total > tokens.shape[1]:
        notices.append(f"The text has {total:,} tokens; {name} takes {tokens.shape[1]} here: the rest is cut.")
    return Walk(Subject(pretrained=name), name, model, tokens, model.to_str_tokens(tokens), notices=notices,
                text=text)


def choose_input(subject: Subject) -> Walk | None:
    """The input box (seeded per model) and the walk on it; None (with the message shown) when it cannot run."""
    state = get_state()
    run = subject.run
    enc_dec = run is not None and run.is_transformer and run.config.encoder_decoder
    default, default_target = (example_texts(run.tokenizer, run.data, enc_dec) if run is not None
                               else (EXAMPLE_TEXT, ""))
    seed(f"{TEXT}.{subject.key}", default)
    text = st.text_area("Source (encoder input)" if enc_dec else "Input", key=f"{TEXT}.{subject.key}", height=80,
                        help=f"Up to {MAX_TOKENS} tokens." + (" Type <sep>, <bos>… for special tokens." if run else ""))
    target = ""
    if enc_dec:
        seed(f"{TARGET}.{subject.key}", default_target)
        target = st.text_area("Target (decoder input, after <bos>)", key=f"{TARGET}.{subject.key}", height=68)
    last_good = ("forward", "last_text", subject.key)
    if not text.strip():
        text, target = state.memo.get(last_good, (default, default_target))
        st.warning("The input is empty: showing the last text instead. Type something to follow through the model.")
    walk = _run_walk(subject, text, target) if run is not None else _pretrained_walk(subject.pretrained, text)
    if walk is not None:
        state.memo[last_good] = (text, target)
    return walk


def describe(walk: Walk) -> str:
    if walk.run is not None:
        return f"{describe_model(walk.run.config)} · step {walk.run.step}"
    return f"{walk.model.config.describe()} · {walk.model.config.source}"


# --------------------------------------------------------------------------------------------- recordings
@shared(max_mb=32)
def _pretrained_residuals(name: str, text: str) -> ResidualRecord:
    model = loaded_model(name)
    tokens = model.to_tokens(text, max_tokens=MAX_TOKENS)
    return record_residuals(model, tokens, model.to_str_tokens(tokens), name=name)


@shared(max_mb=64)
def _pretrained_layer(name: str, text: str, layer: int) -> LayerRecord:
    model = loaded_model(name)
    tokens = model.to_tokens(text, max_tokens=MAX_TOKENS)
    return record_layer(model, tokens, model.to_str_tokens(tokens), layer, name=name)


def _remembered(walk: Walk, what: tuple, compute: Callable[[], Any]) -> Any:
    return get_state().remember((*walk.key, "forward", *what), compute)


def residuals(walk: Walk, stack: str = "blocks") -> ResidualRecord:
    """Every layer's residual stream on the input (one forward pass, remembered)."""
    if walk.run is None:
        with st.spinner(f"Running {walk.name}…"):
            return _pretrained_residuals(walk.name, walk.text)
    return _remembered(walk, ("residuals", stack), lambda: record_residuals(
        walk.model, walk.tokens, walk.stack_tokens(stack), stack=stack, decoder_tokens=walk.decoder_tokens,
        name=walk.name))


def layer_record(walk: Walk, layer: int, stack: str = "blocks") -> LayerRecord:
    """Every activation of one block on the input (one forward pass per layer, remembered)."""
    if walk.run is None:
        with st.spinner(f"Recording layer {layer} of {walk.name}…"):
            return _pretrained_layer(walk.name, walk.text, layer)
    return _remembered(walk, ("layer", stack, layer), lambda: record_layer(
        walk.model, walk.tokens, walk.stack_tokens(stack), layer, stack=stack, decoder_tokens=walk.decoder_tokens,
        name=walk.name))
