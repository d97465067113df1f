"""Shared pieces of the Positions page: which model a section looks at, a frozen copy of it, memo keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import streamlit as st

from explorer.analysis.positions.inputs import ModelInputs, run_inputs, text_inputs
from explorer.data.tasks import TaskSpec
from explorer.models.pretrained import MINILM, PRETRAINED_MODELS, SMOLLM2
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run
from explorer.ui.finetuned import merged_model
from explorer.ui.frozen import frozen_model
from explorer.ui.loaders import generated_task
from explorer.ui.model_picker import Subject, pick_subject
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.quickstart import asset_button, run_button
from explorer.ui.state import PRETRAINED_PREFIX, get_state
from explorer.ui.widget_state import seed, set_value

GPT_PRESET = "Tiny GPT 2 layers × 4 heads"
REVERSE = TaskSpec(name="reverse", seq_len=8)


@dataclasses.dataclass
class Chosen:
    """The model a section shows: its weights frozen at one step, a label, and a memo key."""

    model: Any
    label: str
    key: tuple
    run: Run | None = None


def installed_pretrained(*names: str) -> list[str]:
    """Those of the packaged pretrained models that are installed (MiniLM always is; SmolLM2 is optional)."""
    return [n for n in names if PRETRAINED_MODELS[n].installed()]


def choose(key: str, accept: Callable[[Run], bool], pretrained: list[str], label: str) -> Chosen | None:
    """A model picker over the session's runs that ``accept`` and the given pretrained models; loads the choice.

    A pretrained model joins the picker once it is opened in this session (here, with its button, or on another
    page); MiniLM also as soon as the picker has a run to show, since choosing it is then the user's own act.
    Nothing heavy loads just because a section was opened. None when there is nothing to pick (the caller offers
    to train one) or a pretrained model failed to load (the error is shown).
    """
    state = get_state()
    has_runs = any(accept(r) for r in state.runs.values())
    offered = [n for n in pretrained if n in state.pretrained or (has_runs and n == MINILM)]
    subject: Subject | None = pick_subject(key, accept, offered, label=label)
    _open_buttons(key, [n for n in pretrained if n not in offered])
    if subject is None:
        return None
    if subject.run is not None:
        run = subject.run
        return Chosen(frozen_model(run), run.name, (run.id, run.analysis_step), run)
    if subject.finetuned is not None:  # read as its base, with the fine-tuned weights merged
        run = subject.finetuned
        base, error = get_pretrained(run.config.base)
        if base is None:
            st.error(error)
            return None
        return Chosen(merged_model(run), run.name, (run.id, run.analysis_step))
    model, error = get_pretrained(subject.pretrained)
    if model is None:
        st.error(error)
        return None
    return Chosen(model, subject.pretrained, ("pretrained", subject.pretrained))


def _open_pretrained(key: str, name: str) -> None:
    get_state().open_pretrained(name)
    set_value(key, PRETRAINED_PREFIX + name)  # this section's picker shows it; the sidebar's model stays


def _open_buttons(key: str, names: list[str]) -> None:
    """One button per pretrained model not opened yet, with what loading it costs."""
    for name in names:
        spec = PRETRAINED_MODELS[name]
        st.button(f"📦 Open {name} (pretrained)", key=f"{key}.open.{name}", on_click=_open_pretrained, args=(key, name),
                  help=f"{spec.title}: {spec.note}.")


def model_inputs(chosen: Chosen, text_key: str, default_text: str, max_tokens: int = 64,
                 n_examples: int = 32) -> tuple[ModelInputs, tuple] | None:
    """What to run the chosen model on, and a memo key for it: a run's validation examples, or a typed text for a
    pretrained model. None (with the message shown) when there is nothing valid to run."""
    state = get_state()
    try:
        if chosen.run is not None:
            inputs = state.remember(("positions.inputs", *chosen.key, n_examples),
                                    lambda: run_inputs(chosen.run, n_examples,
                                                       device=next(chosen.model.parameters()).device))
            return inputs, (*chosen.key, n_examples)
        seed(text_key, default_text)
        text = st.text_input("Text", key=text_key)
        inputs = state.remember(("positions.inputs", *chosen.key, text, max_tokens),
                                lambda: text_inputs(chosen.model, text, max_tokens=max_tokens))
        n_tokens = chosen.model.count_tokens(text)
        if n_tokens > max_tokens:
            st.caption(f"⚠️ The text makes {n_tokens} tokens; this view uses the first {max_tokens}.")
        return inputs, (*chosen.key, text, max_tokens)
    except ValueError as err:
        st.error(f"⚠️ {err}")
        return None


def is_transformer(run: Run) -> bool:
    return run.is_transformer


def create_gpt_run(positional: str) -> Run:
    """A tiny GPT on reverse (the quick-start preset) with the given position encoding, added and started."""
    state = get_state()
    data = generated_task(REVERSE)
    model_cfg, train_cfg = PRESETS[GPT_PRESET].build(data)
    model_cfg = dataclasses.replace(model_cfg, positional=positional)
    run = new_run(state.unique_name(f"Tiny GPT ({positional} positions) · reverse"), data, model_cfg, train_cfg,
                  preset=f"{GPT_PRESET} ({positional})")
    state.add_run(run)
    run.trainer.start()
    return run


def offer_gpt(key: str, positional: str, why: str) -> None:
    """An info box and a button that trains a tiny GPT with ``positional`` positions on reverse."""
    st.info(why)
    left, right = st.columns(2)
    with left:
        asset_button((f"positions_{positional}",), f"{key}.asset",
                     f"⚡ Open a trained model with {positional} positions (instant)")
    with right:
        run_button(f"Train a tiny GPT with {positional} positions on reverse", key, 1, on_click=create_gpt_run,
                   args=(positional,), primary=False)


__all__ = ["MINILM", "SMOLLM2", "Chosen", "choose", "create_gpt_run", "installed_pretrained",
           "is_transformer", "model_inputs", "offer_gpt"]
