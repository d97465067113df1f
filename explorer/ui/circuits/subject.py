"""Circuits page: which model it reads (a session transformer or a pretrained checkpoint), its tokens, and a memo.

Results are memoised per session by (run id, step, what, inputs) for runs — a training run is read at its current
weights — and once per server for pretrained models (read-only, shared by every session).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import streamlit as st
import torch

from explorer.analysis import circuits
from explorer.analysis.attribution import LogitAttribution, direct_logit_attribution, residual_decomposition
from explorer.analysis.induction import measure_induction, repeated_random_tokens
from explorer.data.tokenizers import BOS, SPECIALS
from explorer.training.run import Run, describe_model
from explorer.ui.finetuned import merged_model
from explorer.ui.frozen import frozen_model
from explorer.ui.model_picker import offered_pretrained, pick_subject
from explorer.ui.pretrained_loader import get_pretrained, loaded_model
from explorer.ui.shared_cache import shared
from explorer.ui.state import get_state

MODEL = "circuits.model"
MAX_INPUT_TOKENS = 128  # for the token-subset and decomposition inputs
VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥"}  # whitespace tokens drawn visibly on axes


@dataclass
class CircuitModel:
    """The model the page reads, with what the page needs to know about its tokens."""

    key: str  # run id or "pretrained:<name>"
    name: str
    model: Any
    step: int
    description: str
    run: Run | None = None
    finetuned: Run | None = None  # a fine-tuning run: read as its base with the merged weights (tokens as the base's)

    @property
    def config(self):
        return self.model.config

    @property
    def pretrained(self) -> str | None:
        return None if self.run else self.name

    # ----------------------------------------------------------------- tokens
    @property
    def special_ids(self) -> tuple[int, ...]:
        if self.run:
            return tuple(range(len(SPECIALS)))
        return tuple(sorted(self.config.special_ids))

    def token_names(self, ids: list[int]) -> list[str]:
        if self.run:
            return [VISIBLE.get(t, t) for t in self.run.tokenizer.to_str_tokens(ids)]
        return self.model.to_str_tokens(torch.tensor(ids, dtype=torch.long))

    def encode(self, text: str) -> tuple[list[int], list[str]]:
        """(ids, notes): the text's tokens (at most MAX_INPUT_TOKENS) and anything the user should know."""
        notes = []
        if self.run:
            ids, pieces, unknown = self.run.tokenizer.encode_marked(text)
            if any(unknown):
                notes.append("Not in this model's vocabulary (read as <unk>): "
                             + ", ".join(sorted({p for p, u in zip(pieces, unknown) if u})[:10]))
        else:
            ids = self.model.to_tokens(text, max_tokens=MAX_INPUT_TOKENS)[0].tolist()
        limit = min(MAX_INPUT_TOKENS, self.config.n_ctx)
        if len(ids) > limit:
            notes.append(f"Only the first {limit} tokens are used.")
            ids = ids[:limit]
        return ids, notes

    def example_text(self) -> str:
        """A default input: a validation example of the run's data, or a sentence for pretrained models."""
        if self.run is None:
            return "The cat sat on the mat because the cat was tired"
        tok, data = self.run.tokenizer, self.run.data
        if data is not None and data.is_stream:
            return tok.decode(data.val.stream[:40].tolist())
        if data is not None and data.val.sources:
            return tok.decode(data.val.sources[0])
        return tok.decode(range(len(SPECIALS), min(tok.vocab_size, 20)))

    def random_token_range(self) -> tuple[int, int]:
        """Ids for repeated random sequences: the run's symbols, or the pretrained vocabulary past its specials
        and rarest pieces (the first fifteenth of a BERT/BPE vocabulary is mostly unused slots and bytes)."""
        if self.run:
            return len(SPECIALS), self.config.d_vocab
        vocab = self.config.d_vocab
        return max(max(self.special_ids, default=0) + 1, vocab // 15), vocab - 1

    def first_token(self) -> int | None:
        """What a sequence starts with: <bos> for runs, [CLS] for BERT encoders, <bos> where the model prepends it."""
        if self.run:
            return BOS
        cfg = self.config
        if not cfg.causal:
            return cfg.cls_id
        return cfg.bos_id if cfg.prepend_bos else None

    def can_run_tokens(self) -> str | None:
        """Why a forward pass on plain token sequences is not possible (None when it is)."""
        if getattr(self.config, "encoder_decoder", False):
            return ("This encoder-decoder model needs a source and a target to run; the weight-based circuits above "
                    "still apply (decoder self-attention).")
        return None

    # ----------------------------------------------------------------- memo
    def result(self, what: str, *params) -> Any:
        """``COMPUTE[what](model, *params)``, memoised (per session for runs, per server for pretrained models)."""
        if self.run is None and self.finetuned is None:
            return _pretrained_result(self.name, what, params)
        return get_state().remember((self.key, self.step, "circuits", what, params),
                                    lambda: COMPUTE[what](self.model, *params))


def _head_spectra(model, layer: int, head: int) -> dict[str, torch.Tensor]:
    qk, ov = circuits.qk_circuit(model, layer, head), circuits.ov_circuit(model, layer, head)
    out = {"qk_s": qk.S, "ov_s": ov.S, "ov_eig": ov.eigenvalues}
    if getattr(model, "W_U", None) is not None:
        out["full_ov_eig"] = circuits.full_ov_eigenvalues(model, layer, head)
    return out


def _induction(model, low: int, high: int, half_len: int, bos: int | None):
    return measure_induction(model, repeated_random_tokens(low, high, half_len, batch=16, bos=bos, seed=0))


def _attribution(model, ids: tuple[int, ...]) -> tuple[list[str], LogitAttribution]:
    """(component kinds, attribution to each next token); the [component, pos, d_model] tensor is not kept."""
    tokens = torch.tensor(ids, dtype=torch.long)
    decomposition = residual_decomposition(model, tokens)
    return decomposition.kinds, direct_logit_attribution(model, decomposition, tokens[1:])


COMPUTE: dict[str, Callable[..., Any]] = {
    "spectra": _head_spectra,
    "copying": circuits.copying_scores,
    "composition": circuits.composition_scores,
    "top_tokens": lambda m, layer, head, k, exclude: circuits.top_copied_tokens(m, layer, head, k, exclude).tolist(),
    "full_qk": lambda m, layer, head, ids: circuits.full_qk_circuit(m, layer, head, list(ids)).AB,
    "full_ov": lambda m, layer, head, ids: circuits.full_ov_circuit(m, layer, head, list(ids)).AB,
    "pos_qk": lambda m, layer, head, n: circuits.positional_qk_circuit(m, layer, head, n).AB,
    "induction": _induction,
    "attribution": _attribution,
}


@shared(max_mb=64)
def _pretrained_result(name: str, what: str, params: tuple) -> Any:
    return COMPUTE[what](loaded_model(name), *params)  # loaded (with its spinner) by choose_model




def choose_model() -> CircuitModel | None:
    """The picker (session transformers and pretrained models); None when there is nothing to read."""
    subject = pick_subject(MODEL, lambda r: r.is_transformer, offered_pretrained(), label="Model")
    if subject is None:
        return None
    if subject.run is not None:
        run = subject.run
        step = run.analysis_step
        return CircuitModel(run.id, run.name, frozen_model(run), step, f"{describe_model(run.config)} · step {step}",
                            run=run)
    if subject.finetuned is not None:
        run = subject.finetuned
        base, error = get_pretrained(run.config.base)
        if base is None:
            st.error(error)
            return None
        step = run.analysis_step
        return CircuitModel(run.id, run.name, merged_model(run), step,
                            f"{describe_model(run.config)} · step {step} · weights merged", finetuned=run)
    model, error = get_pretrained(subject.pretrained)
    if model is None:
        st.error(error)
        return None
    return CircuitModel(subject.key, subject.pretrained, model, 0, model.config.describe())


def gqa_note(subject: CircuitModel, head: int) -> str | None:
    """Which key/value head a query head reads under grouped-query attention (None without it)."""
    n_kv = circuits.n_kv_heads(subject.model)
    n_heads = subject.config.n_heads
    if n_kv == n_heads:
        return None
    kv = circuits.kv_head_of(subject.model, head)
    group = [h for h in range(n_heads) if circuits.kv_head_of(subject.model, h) == kv]
    return (f"Grouped-query attention: {n_heads} query heads share {n_kv} key/value heads. Query head {head} reads "
            f"keys and values from **key/value head {kv}**, shared with query heads "
            f"{', '.join(str(h) for h in group if h != head)}. Its W_K and W_V are that head's; its W_Q and W_O "
            "are its own.")


def spinner_for(subject: CircuitModel, what: str) -> AbstractContextManager:
    """A spinner for computations that take a while on large pretrained models (a no-op context for runs)."""
    if subject.run is None and subject.config.n_layers * subject.config.n_heads > 100:
        return st.spinner(f"Computing {what} for {subject.config.n_layers * subject.config.n_heads} heads…")
    return nullcontext()
