"""The memory guard for fine-tuning a pretrained encoder, checked before its weights are copied.

A step keeps, per token and layer, the activations backpropagation needs (as for the app's own transformers, see
budget.py); methods that freeze the encoder keep none of them (its forward pass runs without gradients). The
trained parameters also cost their gradient, Adam's two moments and the trainer's two copies (the last good
weights, the latest snapshot) — four bytes each. Full fine-tuning is limited like the models trained here.
"""

from __future__ import annotations

from explorer.models.config import MAX_PARAMETERS
from explorer.models.finetune.config import FinetuneConfig
from explorer.models.pretrained.config import PretrainedConfig
from explorer.training.budget import FLOAT_BYTES, MAX_STEP_BYTES
from explorer.training.config import TrainConfig

COPIES_PER_TRAINED = 6  # gradient, two Adam moments, the good copy, the initial copy, the latest snapshot


def trained_parameter_estimate(encoder: PretrainedConfig, config: FinetuneConfig) -> int:
    """How many parameters a method trains on ``encoder`` (the classifier's head included), before building."""
    d, n_layers, k = encoder.d_model, encoder.n_layers, config.n_classes
    head = (d * d + d if config.method == "head" else 0) + d * k + k
    if config.method in ("probe", "head"):
        return head
    inner = encoder.n_heads * encoder.d_head
    kv = encoder.n_kv_heads * encoder.d_head
    if config.method == "bitfit":  # q, k, v, o, MLP in and out, and both LayerNorms' β, in every layer
        return head + n_layers * (inner + 2 * kv + d + encoder.d_mlp + d + 2 * d) + d
    if config.method == "lora":
        shapes = {"q": (d, inner), "k": (d, kv), "v": (d, kv), "o": (inner, d), "fc_in": (d, encoder.d_mlp),
                  "fc_out": (encoder.d_mlp, d)}
        return head + n_layers * sum(config.lora_r * (a + b) for a, b in (shapes[t] for t in config.lora_targets))
    per_layer = 4 * d * inner + 2 * d * encoder.d_mlp  # full: every weight (embeddings included)
    return head + n_layers * per_layer + (encoder.d_vocab + encoder.n_ctx) * d


def finetune_step_bytes(encoder: PretrainedConfig, config: FinetuneConfig, batch_size: int, positions: int) -> int:
    """Activations of one step on ``[batch_size, positions]`` tokens plus the trained parameters' state, in bytes."""
    d = encoder.d_model
    per_layer = 16 * d + 4 * encoder.d_mlp + 3 * encoder.n_heads * positions
    layers = 1 if config.frozen_encoder else encoder.n_layers  # frozen: one layer's activations at a time
    activations = FLOAT_BYTES * batch_size * positions * (d + layers * per_layer)
    return activations + FLOAT_BYTES * COPIES_PER_TRAINED * trained_parameter_estimate(encoder, config)


def check_finetune_budget(encoder: PretrainedConfig, config: FinetuneConfig, train: TrainConfig,
                          positions: int) -> None:
    """Raise ValueError, saying what to lower or choose instead, when a fine-tuning run would not fit."""
    trained = trained_parameter_estimate(encoder, config)
    if trained > MAX_PARAMETERS:
        raise ValueError(f"{config.method} fine-tuning of {encoder.name} would train about {trained / 1e6:,.0f} M "
                         f"parameters; this app trains up to {MAX_PARAMETERS / 1e6:,.0f} M. Choose LoRA or BitFit, "
                         "which train well under 1 % of them.")
    need = finetune_step_bytes(encoder, config, train.batch_size, positions)
    if need > MAX_STEP_BYTES:
        raise ValueError(f"One fine-tuning step would need about {need / 1024**3:,.1f} GB for a batch of "
                         f"{train.batch_size} × {positions} tokens; this app allows {MAX_STEP_BYTES / 1024**3:.0f} "
                         "GB. Lower the batch size or the longest text (max tokens), or freeze more of the model.")
