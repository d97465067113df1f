"""Loading any Hugging Face hub id: from the local cache if it is there, else from the hub when reachable."""

from __future__ import annotations

from typing import Any

import torch

from explorer.data.downloads import cache_dir
from explorer.data.hub_datasets import hub_endpoint, hub_reachable
from explorer.models.pretrained.loading import (
    CONVERTERS,
    DECODERS,
    HUB_ID,
    SUPPORTED,
    HubUnavailable,
    ModelNotFound,
    Progress,
    UnsupportedArchitecture,
    _finish,
)
from explorer.models.pretrained.model import PretrainedModel

MAX_HUB_PARAMETERS = 500_000_000  # fp32 in a cache shared by every session of the server: up to ~2 GB each
OFFLINE_HINT = "The packaged models (all-MiniLM-L6-v2, and SmolLM2-135M-Instruct once installed) work offline."


def _hub_offline() -> bool:
    import huggingface_hub.constants

    return bool(huggingface_hub.constants.HF_HUB_OFFLINE)


def load_from_hub(repo_id: str, report: Progress) -> PretrainedModel:
    """A hub checkpoint converted to our layout; raises a :class:`PretrainedError` subclass with a clear message."""
    from transformers import AutoConfig

    if not HUB_ID.fullmatch(repo_id) or len(repo_id) > 96:
        raise ModelNotFound(f"'{repo_id}' is not a Hugging Face model id: ids look like gpt2, bert-base-uncased or "
                            f"owner/name. {OFFLINE_HINT}")
    folder = cache_dir() / "hub"
    try:  # already downloaded once: works offline
        hf_config = AutoConfig.from_pretrained(repo_id, cache_dir=folder, local_files_only=True)
        local = True
    except (OSError, ValueError):
        local = False
    if not local:
        host, port = hub_endpoint()
        if _hub_offline():
            raise HubUnavailable(f"'{repo_id}' is not downloaded yet and Hugging Face downloads are switched off on "
                                 f"this machine (HF_HUB_OFFLINE is set). {OFFLINE_HINT}")
        report(0.02, f"Checking that the Hugging Face hub ({host}) can be reached…")
        if not hub_reachable():
            raise HubUnavailable(f"The Hugging Face hub ({host}:{port}) cannot be reached, so '{repo_id}' cannot be "
                                 f"downloaded. Connect to the internet and try again. {OFFLINE_HINT}")
        try:
            hf_config = AutoConfig.from_pretrained(repo_id, cache_dir=folder)
        except (OSError, ValueError) as err:
            raise ModelNotFound(f"No model '{repo_id}' could be opened on the Hugging Face hub (a typo, or a private "
                                f"or gated repository): {str(err).splitlines()[0]}") from err
    if hf_config.model_type not in CONVERTERS:
        raise UnsupportedArchitecture(f"'{repo_id}' is a '{hf_config.model_type}' model; the explorer can open "
                                      f"{SUPPORTED}.")
    size = parameter_estimate(hf_config)
    if size > MAX_HUB_PARAMETERS:
        raise UnsupportedArchitecture(f"'{repo_id}' has about {size / 1e6:,.0f} M parameters; this app opens models of "
                                      f"up to {MAX_HUB_PARAMETERS / 1e6:,.0f} M (they are kept in memory in float32 "
                                      "for every session to share). Try a smaller one, e.g. gpt2 or distilbert.")
    report(0.1, f"{'Reading' if local else 'Downloading'} {repo_id}…")
    hf_model, tokenizer = _from_pretrained(repo_id, hf_config, folder, local)
    return _finish(hf_model, tokenizer, repo_id, f"Hugging Face hub: {repo_id}", report)


def parameter_estimate(hf_config: Any) -> int:
    """About how many parameters a BERT-, GPT-2- or Llama-style config describes (embeddings + blocks)."""
    hidden = getattr(hf_config, "hidden_size", None) or getattr(hf_config, "n_embd", 0) or 0
    layers = getattr(hf_config, "num_hidden_layers", None) or getattr(hf_config, "n_layer", 0) or 0
    inner = getattr(hf_config, "intermediate_size", None) or getattr(hf_config, "n_inner", None) or 4 * hidden
    mlp_matrices = 3 if hf_config.model_type in ("llama", "mistral", "qwen2") else 2  # gated MLPs have three
    vocab = getattr(hf_config, "vocab_size", 0) or 0
    return int(vocab * hidden + layers * (4 * hidden * hidden + mlp_matrices * hidden * inner))


def _from_pretrained(repo_id: str, hf_config: Any, folder, local: bool) -> tuple[Any, Any]:
    """The model with its language-model head when it has one (so W_U is the trained one), and its tokenizer."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    if hf_config.model_type in DECODERS:
        auto = AutoModelForCausalLM
    elif any("MaskedLM" in arch for arch in (hf_config.architectures or [])):
        auto = AutoModelForMaskedLM
    else:
        auto = AutoModel
    kwargs = {"cache_dir": folder, "local_files_only": local}
    try:
        # Safetensors only: a repository's .bin weights are pickles, and the app never unpickles.
        model = auto.from_pretrained(repo_id, attn_implementation="eager", dtype=torch.float32,
                                     use_safetensors=True, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(repo_id, **kwargs)
    except (OSError, ValueError) as err:
        raise ModelNotFound(f"Could not load '{repo_id}' (the app reads safetensors weights only, never pickled "
                            f".bin files): {str(err).splitlines()[0]}") from err
    return model, tokenizer
