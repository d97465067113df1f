"""Fine-tuned weights as a plain pretrained model: LoRA merged (W + ΔW), BitFit's and full fine-tuning's own weights.

The result is a :class:`PretrainedModel` with the base's modules and hook names, so every analysis that reads a
pretrained encoder (attention patterns, QK/OV circuits, positions) reads the fine-tuned one the same way.
ΔW = (α/r)·B·A comes from peft (``get_delta_weight``); its rank is at most r.
"""

from __future__ import annotations

import torch
from peft.tuners.lora import LoraLayer

from explorer.models.finetune.classifier import EncoderClassifier, _shared_copy
from explorer.models.pretrained.components import frozen_linear
from explorer.models.pretrained.model import PretrainedModel

ADAPTER = "default"  # peft's name for the one adapter a run has


def _lora_layers(encoder: torch.nn.Module) -> dict[str, LoraLayer]:
    return {name: module for name, module in encoder.named_modules() if isinstance(module, LoraLayer)}


@torch.no_grad()
def lora_deltas(model: EncoderClassifier | PretrainedModel) -> dict[str, torch.Tensor]:
    """ΔW [d_out, d_in] of every adapted projection, by module path (``blocks.0.attn.q``); empty without LoRA."""
    encoder = model.encoder if isinstance(model, EncoderClassifier) else model
    return {name: layer.get_delta_weight(ADAPTER).detach().to("cpu", copy=True)
            for name, layer in _lora_layers(encoder).items()}


@torch.no_grad()
def merged_encoder(model: EncoderClassifier) -> PretrainedModel:
    """A separate, frozen encoder with the fine-tuned weights: adapters merged into their projections.

    Tensors the run never trained stay shared with the base; trained ones are copied (the live run may go on)."""
    encoder = _shared_copy(model.encoder, {n for n, p in model.encoder.named_parameters() if p.requires_grad})
    for name, layer in _lora_layers(encoder).items():
        base = layer.get_base_layer()
        merged = frozen_linear(base.weight + layer.get_delta_weight(ADAPTER), base.bias)
        parent_name, _, leaf = name.rpartition(".")
        setattr(encoder.get_submodule(parent_name), leaf, merged)
    encoder.requires_grad_(False)
    return encoder.eval()
