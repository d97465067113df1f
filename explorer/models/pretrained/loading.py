"""``load_pretrained(name)``: a packaged checkpoint offline, or a Hugging Face hub id when online.

Every failure raises a :class:`PretrainedError` whose message says what happened and what to do: an optional
package not installed (with the exact install command), the hub unreachable (at once, never a hang), an id that
does not exist, an architecture we have no converter for (naming the supported ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch

from explorer.models.pretrained.bert import convert_bert, convert_distilbert
from explorer.models.pretrained.gpt2 import convert_gpt2
from explorer.models.pretrained.llama import convert_llama
from explorer.models.pretrained.model import PretrainedModel
from explorer.models.pretrained.registry import (
    MINILM,
    PRETRAINED_MODELS,
    SMOLLM2,
    minilm_path,
    packaged_name,
    smollm2_file,
)

Progress = Callable[[float, str], None]  # (fraction done, what is happening)

CONVERTERS: dict[str, Callable[..., PretrainedModel]] = {
    "bert": convert_bert, "roberta": convert_bert, "distilbert": convert_distilbert, "gpt2": convert_gpt2,
    "llama": convert_llama,
}
SUPPORTED = "BERT (bert-base-uncased, MiniLM…), RoBERTa, DistilBERT, GPT-2 (gpt2, distilgpt2…) and Llama (SmolLM2…)"
DECODERS = {"gpt2", "llama"}
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


class PretrainedError(RuntimeError):
    """A pretrained model could not be loaded; the message is meant for the user."""


class NotInstalled(PretrainedError):
    """An optional packaged checkpoint whose pip package is missing."""


class HubUnavailable(PretrainedError):
    """A hub id was asked for while the Hugging Face hub cannot be reached."""


class ModelNotFound(PretrainedError):
    """No such model (a malformed id, or an id the hub does not know)."""


class UnsupportedArchitecture(PretrainedError):
    """A checkpoint whose architecture has no converter here."""


def convert(hf_model: Any, name: str, tokenizer: Any = None, source: str = "") -> PretrainedModel:
    """Our :class:`PretrainedModel` from a loaded Hugging Face model (weights shared, not copied)."""
    model_type = hf_model.config.model_type
    if model_type not in CONVERTERS:
        raise UnsupportedArchitecture(f"{name} is a '{model_type}' model; the explorer can open {SUPPORTED}.")
    return CONVERTERS[model_type](hf_model, name, tokenizer, source)


def load_pretrained(name: str, progress: Progress | None = None) -> PretrainedModel:
    """A read-only :class:`PretrainedModel` (eval mode, no gradients) by registry name, alias or hub id."""
    report = progress or (lambda _fraction, _message: None)
    packaged = packaged_name(name)
    if packaged == MINILM:
        return _load_minilm(report)
    if packaged == SMOLLM2:
        return _load_smollm2(report)
    from explorer.models.pretrained.hub import load_from_hub  # imports the data layer only when needed

    return load_from_hub(name.strip(), report)


def _finish(hf_model: Any, tokenizer: Any, name: str, source: str, report: Progress) -> PretrainedModel:
    report(0.9, "Converting the weights to the explorer's layout…")
    with torch.no_grad():
        model = convert(hf_model, name, tokenizer, source)
    report(1.0, "Ready")
    return model


def _load_minilm(report: Progress) -> PretrainedModel:
    from transformers import AutoModel, AutoTokenizer

    spec = PRETRAINED_MODELS[MINILM]
    if not spec.installed():
        raise NotInstalled(f"{MINILM} comes in the pip package {spec.package}, which is not installed: {spec.install}")
    path = minilm_path()
    report(0.1, f"Reading {MINILM} from the {spec.package} package…")
    tokenizer = AutoTokenizer.from_pretrained(path)
    hf_model = AutoModel.from_pretrained(path, attn_implementation="eager", dtype=torch.float32, use_safetensors=True)
    return _finish(hf_model, tokenizer, MINILM, f"pip package {spec.package} (sentence-transformers/{MINILM})", report)


def _load_smollm2(report: Progress) -> PretrainedModel:
    spec = PRETRAINED_MODELS[SMOLLM2]
    if not spec.installed():
        raise NotInstalled(f"{SMOLLM2} is optional: it comes as a GGUF file in the pip package {spec.package}, which "
                           f"needs the gguf package to read. Install both, then restart the app: {spec.install}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_file()
    if not path.is_file():
        raise NotInstalled(f"The {spec.package} package is installed but its file {path.name} is missing: "
                           f"reinstall it with {spec.install}")
    report(0.05, f"De-quantising {path.name} to float32 (20-60 s)…")
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    hf_model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, attn_implementation="eager",
                                                    dtype=torch.float32)
    return _finish(hf_model, tokenizer, SMOLLM2, f"pip package {spec.package} ({path.name})", report)
