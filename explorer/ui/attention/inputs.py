"""What the Attention page looks at: the chosen model's attention on the user's text, cached.

Pretrained models: one result per (model, text), shared by every session (a byte-bounded shared cache: the result is
never modified). Runs of the session: memoised per session by (run id, step, text), so a training run is shown
at its current weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st
import torch

from explorer.analysis.attention import AttentionSet, record_attention
from explorer.data.examples import encode_with_specials, example_texts
from explorer.data.tokenizers import BOS
from explorer.models.pretrained import MINILM
from explorer.training.run import Run
from explorer.ui.finetuned import merged_model
from explorer.ui.frozen import frozen_model
from explorer.ui.model_picker import Subject
from explorer.ui.pretrained_loader import get_pretrained, loaded_model
from explorer.ui.shared_cache import shared
from explorer.ui.state import get_state

MAX_TOKENS = 512  # the page's limit for any model: MiniLM's context, and what a browser draws smoothly
EXAMPLE_TEXT = ("The students opened their notebooks. The teacher wrote the formula on the board, and the "
                "students copied the formula into their notebooks before the bell rang.")
EXAMPLE_TEXT_B = ("The engineers opened their laptops. The manager drew the plan on the whiteboard, and the "
                  "engineers copied the plan into their laptops before the meeting ended.")


@dataclass
class Recorded:
    """Attention of one model on one input, and what the user should be told about the input."""

    sets: list[AttentionSet]
    notices: list[str] = field(default_factory=list)
    model_name: str = ""


def is_attention_run(run: Run) -> bool:
    return run.is_transformer




# --------------------------------------------------------------------------------------------- runs


def run_limit(run: Run) -> int:
    cfg = run.config
    return min(MAX_TOKENS, cfg.n_ctx) if cfg.positional == "learned" else MAX_TOKENS


def default_run_texts(run: Run, index: int = 0) -> tuple[str, str]:
    """(input, decoder target) from the run's validation data, written with literal special tokens."""
    return example_texts(run.tokenizer, run.data, run.config.encoder_decoder, index)


def _cut(ids: list[int], pieces: list[str], limit: int, what: str, notices: list[str]) -> tuple[list[int], list[str]]:
    if len(ids) > limit:
        notices.append(f"The {what} has {len(ids):,} tokens; this model takes at most {limit}: the first {limit} are "
                       "shown.")
        return ids[:limit], pieces[:limit]
    return ids, pieces


def record_run(run: Run, text: str, target: str = "") -> Recorded:
    """Attention of a session run on ``text`` (and ``target`` for an encoder-decoder), at its current step."""
    def compute() -> Recorded:
        notices: list[str] = []
        ids, pieces, unknown = encode_with_specials(run.tokenizer, text)
        if unknown:
            notices.append("Not in this model's vocabulary (read as <unk>): "
                           + ", ".join(repr(u) for u in sorted(set(unknown))[:10]))
        ids, pieces = _cut(ids, pieces, run_limit(run), "input", notices)
        tokens = torch.tensor([ids], dtype=torch.long)
        model = frozen_model(run)
        if run.config.encoder_decoder:
            t_ids, t_pieces, _ = encode_with_specials(run.tokenizer, target)
            t_ids, t_pieces = _cut([BOS, *t_ids], ["<bos>", *t_pieces], run_limit(run), "target", notices)
            sets = record_attention(model, tokens, pieces, causal=False,
                                    decoder_tokens=torch.tensor([t_ids], dtype=torch.long), decoder_str=t_pieces)
        else:
            sets = record_attention(model, tokens, pieces, causal=run.config.causal)
        return Recorded(sets, notices, run.name)

    return get_state().remember((run.id, run.analysis_step, "attention", text, target), compute)


# --------------------------------------------------------------------------------------------- pretrained
# Shared by every session (the same text gives the same patterns), bounded in bytes: MiniLM on 512 tokens keeps
# 75 MB of patterns and scores in half precision, a 30-layer model on 512 tokens 280 MB (computed, not kept).
@shared(max_mb=128)
def _pretrained_record(name: str, text: str) -> Recorded:
    model = loaded_model(name)  # already loaded by record_pretrained (no Streamlit element in a cached function)
    notices = []
    total = model.count_tokens(text)
    tokens = model.to_tokens(text, max_tokens=MAX_TOKENS)
    if total > tokens.shape[1]:
        limit = min(MAX_TOKENS, model.config.n_ctx)
        why = "its context" if limit == model.config.n_ctx else "the page's limit"
        notices.append(f"The text has {total:,} tokens; {name} takes {limit} here ({why}): the rest is cut.")
    sets = record_attention(model, tokens, model.to_str_tokens(tokens), causal=model.config.causal)
    return Recorded(sets, notices, name)


def record_pretrained(name: str, text: str) -> tuple[Recorded | None, str | None]:
    """(attention, None) or (None, why the model could not be loaded)."""
    model, error = get_pretrained(name)
    if model is None:
        return None, error
    with st.spinner(f"Running {name} on {len(text):,} characters…"):
        return _pretrained_record(name, text), None


def record_finetuned(run: Run, text: str) -> Recorded:
    """A fine-tuning run's merged encoder on ``text`` (its base's tokenizer), per session at its analysis step."""
    def compute() -> Recorded:
        model = merged_model(run)
        notices = []
        total = model.count_tokens(text)
        tokens = model.to_tokens(text, max_tokens=MAX_TOKENS)
        if total > tokens.shape[1]:
            notices.append(f"The text has {total:,} tokens; {tokens.shape[1]} are shown.")
        sets = record_attention(model, tokens, model.to_str_tokens(tokens), causal=False)
        return Recorded(sets, notices, run.name)

    return get_state().remember((run.id, run.analysis_step, "attention", text), compute)


def record_subject(subject: Subject, text: str, target: str = "") -> tuple[Recorded | None, str | None]:
    if subject.finetuned is not None:
        base, error = get_pretrained(subject.finetuned.config.base)  # loads the shared base once (with a spinner)
        return (record_finetuned(subject.finetuned, text), None) if base is not None else (None, error)
    if subject.run is not None:
        return record_run(subject.run, text, target), None
    return record_pretrained(subject.pretrained or MINILM, text)


def describe_subject(subject: Subject) -> str:
    if subject.finetuned is not None:
        from explorer.training.run import describe_model

        return f"{describe_model(subject.finetuned.config)} · step {subject.finetuned.analysis_step}"
    if subject.run is not None:
        from explorer.training.run import describe_model

        return f"{describe_model(subject.run.config)} · step {subject.run.step}"
    model, _ = get_pretrained(subject.pretrained or MINILM)
    return "" if model is None else f"{model.config.describe()} · {model.config.source}"
