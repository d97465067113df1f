"""The input the recurrent-cell page reads: a validation example, a passage of the validation text, or text the
user types. Over-long inputs are cut with a notice; unknown tokens are read as <unk> and named."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.analysis.gates import MAX_TOKENS, PreparedInput, prepare_ids, prepare_text
from explorer.data.examples import validation_inputs
from explorer.data.tokenizers import BOS, SEP
from explorer.training.run import Run
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

SOURCE = "lstm.source"
EXAMPLE = "lstm.example"
OFFSET = "lstm.offset"
TEXT = "lstm.text"
EXAMPLE_SRC, PASSAGE_SRC, OWN_SRC = "A validation example", "A passage of the validation text", "My own text"
PASSAGE_TOKENS = 200


@dataclass
class ChosenInput:
    """The prepared input, its text (to re-tokenize for other models) and its true class when known."""

    prepared: PreparedInput
    text: str
    label: int | None = None
    label_name: str | None = None


def _decode(run: Run, ids: list[int]) -> str:
    return run.tokenizer.decode([i for i in ids if i not in (BOS, SEP)])




def choose_input(run: Run) -> ChosenInput:
    """Widgets to choose the input; returns it prepared for ``run``'s tokenizer (at most MAX_TOKENS tokens)."""
    examples = validation_inputs(run.data)
    stream = run.data is not None and run.data.is_stream
    sources = ([EXAMPLE_SRC] if examples else []) + ([PASSAGE_SRC] if stream else []) + [OWN_SRC]
    c1, c2 = st.columns([1, 3])
    seed_choice(f"{SOURCE}.{run.id}", sources)
    source = c1.radio("Input", sources, key=f"{SOURCE}.{run.id}")
    chosen: ChosenInput
    if source == EXAMPLE_SRC:
        seed(f"{EXAMPLE}.{run.id}", 0, valid=lambda v: 0 <= v < len(examples))
        index = int(c2.number_input(f"Validation example (0 – {len(examples) - 1})", 0, len(examples) - 1,
                                    key=f"{EXAMPLE}.{run.id}"))
        ids = examples[index]
        labels, names = run.data.val.labels, run.data.class_names
        label = labels[index] if labels is not None else None
        chosen = ChosenInput(prepare_ids(run.tokenizer, ids), _decode(run, ids), label,
                             names[label] if names and label is not None else None)
        c2.code(_shown(run, chosen.prepared), language=None, wrap_lines=True)
        if chosen.label_name is not None:
            c2.caption(f"True class: **{chosen.label_name}**")
    elif source == PASSAGE_SRC:
        stream_ids = run.data.val.stream
        top = max(0, int(stream_ids.numel()) - PASSAGE_TOKENS)
        seed(f"{OFFSET}.{run.id}", 0, valid=lambda v: 0 <= v <= top)
        offset = int(c2.number_input(f"Start at token (0 – {top})", 0, top, step=PASSAGE_TOKENS,
                                     key=f"{OFFSET}.{run.id}"))
        ids = stream_ids[offset:offset + PASSAGE_TOKENS].tolist()
        chosen = ChosenInput(prepare_ids(run.tokenizer, ids), _decode(run, ids))
        c2.code(_shown(run, chosen.prepared), language=None, wrap_lines=True)
    else:
        default = _decode(run, examples[0]) if examples else ""
        seed(f"{TEXT}.{run.id}", default)
        text = c2.text_area(f"Text (at most {MAX_TOKENS} tokens are read)", key=f"{TEXT}.{run.id}", height=90)
        chosen = ChosenInput(prepare_text(run.tokenizer, text), text)
    return chosen


def input_summary(run: Run) -> str:
    """What the chosen input is, in a few words (the label of the collapsed input chooser)."""
    source = st.session_state.get(f"{SOURCE}.{run.id}") or get_state().widgets.get(f"{SOURCE}.{run.id}")
    if source == OWN_SRC:
        text = str(st.session_state.get(f"{TEXT}.{run.id}", get_state().widgets.get(f"{TEXT}.{run.id}", "")))
        return "my own text · " + (text[:40] + ("…" if len(text) > 40 else "") if text.strip() else "(empty)")
    if source == PASSAGE_SRC:
        offset = st.session_state.get(f"{OFFSET}.{run.id}", get_state().widgets.get(f"{OFFSET}.{run.id}", 0))
        return f"a passage of the validation text from token {offset}"
    if not validation_inputs(run.data):
        return "my own text"
    index = st.session_state.get(f"{EXAMPLE}.{run.id}", get_state().widgets.get(f"{EXAMPLE}.{run.id}", 0))
    return f"validation example {index} (click to choose another input or type your own)"


def _shown(run: Run, prepared: PreparedInput, limit: int = 400) -> str:
    """The tokens as the model reads them (specials such as <sep> included), cut for display."""
    text = ("" if run.tokenizer.mode == "char" else " ").join(prepared.pieces)
    return (text if len(text) <= limit else text[:limit] + " …") or "(empty)"


def show_input_notices(prepared: PreparedInput) -> None:
    if prepared.truncated:
        st.warning(f"The input has {prepared.n_original:,} tokens; only the first {MAX_TOKENS} are read "
                   "(the cell is replayed one step at a time).")
    if prepared.n_unknown:
        missing = sorted({p for p, u in zip(prepared.pieces, prepared.unknown) if u})
        shown = ", ".join(repr(m) for m in missing[:12]) + (" …" if len(missing) > 12 else "")
        st.info(f"{prepared.n_unknown} token(s) are not in this model's vocabulary and are read as <unk> "
                f"(underlined below, marked * in figures): {shown}")
