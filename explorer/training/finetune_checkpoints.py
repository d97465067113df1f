"""Checkpoints of fine-tuning runs: the trained parameters only, with the base model's name. Never pickle.

A LoRA or BitFit checkpoint holds the adapters (or biases) and the head — a few hundred KB for MiniLM — and
names the pretrained base they belong to, with a fingerprint of its weights. Opening one needs that base:
another model (a different name, or the same name with different weights) is refused with a message that says
which base the file needs. A full fine-tuning checkpoint holds every weight of the encoder.

Safetensors with JSON in the header, as the app's other checkpoints (checkpoints.py), under its own format tag.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from explorer.models.finetune import EncoderClassifier, FinetuneConfig, build_classifier
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.checkpoints import (
    HISTORY_FIELDS,
    MAX_CHECKPOINT_BYTES,
    VAL_HISTORY_FIELDS,
    VAL_HISTORY_OPTIONAL,
    CheckpointError,
    _history,
    _json_field,
    _kind,
    _name,
    _read_metadata,
    _step,
    _thin,
    _train_config,
)

FINETUNE_FORMAT = "sequence-model-explorer/finetune/1"


def base_fingerprint(base: PretrainedModel) -> str:
    """A short hash of a few of the base's weights (token embeddings, the first query and the last MLP weights):
    the same name with other weights (another checkpoint, an edited file) does not match."""
    digest = hashlib.sha256()
    first, last = base.blocks[0], base.blocks[-1]
    for tensor in (base.W_E[:256], first.attn.q_weight, last.mlp.out_weight):
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclass
class FinetuneCheckpoint:
    """What a fine-tuning run saved: its configuration, its trained parameters, the base they belong to."""

    name: str
    config: FinetuneConfig
    state: dict[str, torch.Tensor]
    fingerprint: str
    data: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    val_history: list[dict[str, float]] = field(default_factory=list)

    def attach(self, base: PretrainedModel) -> EncoderClassifier:
        """The classifier with these parameters on ``base``; CheckpointError when ``base`` is not the model the
        parameters were trained on, or they do not fit it."""
        if base.config.name != self.config.base:
            raise CheckpointError(f"This checkpoint adapts {self.config.base}; it cannot be applied to "
                                  f"{base.config.name}. Open {self.config.base} to use it.")
        if base_fingerprint(base) != self.fingerprint:
            raise CheckpointError(f"This checkpoint was trained on other weights of {self.config.base} than the ones "
                                  "loaded here (its fingerprint differs), so its adapters would not mean the same.")
        model = build_classifier(base, self.config)
        expected = {n: p for n, p in model.named_parameters() if n in set(model.trainable)}
        missing, extra = sorted(set(expected) - set(self.state)), sorted(set(self.state) - set(expected))
        if missing or extra:
            raise CheckpointError("The checkpoint's parameters do not fit this configuration: "
                                  + "; ".join(f"{what} {', '.join(names[:4])}" for what, names in
                                              (("missing", missing), ("unexpected", extra)) if names) + ".")
        for name, ref in expected.items():
            got = self.state[name]
            if got.shape != ref.shape:
                raise CheckpointError(f"Weight {name} has shape {tuple(got.shape)}; {self.config.base} needs "
                                      f"{tuple(ref.shape)}.")
            if not got.is_floating_point() or not torch.isfinite(got).all():
                raise CheckpointError(f"Weight {name} must hold finite floating point numbers.")
        model.load_trainable({n: t.to(expected[n].dtype) for n, t in self.state.items()})
        return model


def finetune_to_bytes(trainer, name: str) -> bytes:
    """A fine-tuning trainer's run as safetensors bytes: its trained parameters and the JSON that describes it."""
    model: EncoderClassifier = trainer.model
    metadata = {
        "format": FINETUNE_FORMAT, "name": name, "finetune_config": json.dumps(model.config.to_dict()),
        "base": model.config.base, "base_fingerprint": base_fingerprint(model.encoder),
        "data": json.dumps(trainer.data.summary()), "train_config": json.dumps(trainer.config.to_dict()),
        "step": str(trainer.step_count), "history": json.dumps(_thin(trainer.history)),
        "val_history": json.dumps(_thin(trainer.val_history)),
    }
    return save_tensors({k: v.contiguous() for k, v in model.trainable_state().items()}, metadata=metadata)


def finetune_from_bytes(data: bytes, max_bytes: int = MAX_CHECKPOINT_BYTES) -> FinetuneCheckpoint:
    """Parse and validate; raises :class:`CheckpointError` for anything that is not such a checkpoint."""
    if not data:
        raise CheckpointError("The file is empty.")
    if len(data) > max_bytes:
        raise CheckpointError(f"The file is {len(data) / 2**20:.1f} MB; checkpoints are limited to "
                              f"{max_bytes / 2**20:.0f} MB.")
    metadata = _read_metadata(data, FINETUNE_FORMAT)
    raw = _json_field(metadata, "finetune_config")
    if not isinstance(raw, dict):
        raise CheckpointError(f"The fine-tuning configuration must be a JSON object; got {_kind(raw)}.")
    try:
        config = FinetuneConfig.from_dict(raw)
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"The fine-tuning configuration is invalid: {err}") from err
    if metadata.get("base") != config.base:
        raise CheckpointError("The checkpoint's header names two different base models.")
    fingerprint = metadata.get("base_fingerprint", "")
    if len(fingerprint) != 16 or any(c not in "0123456789abcdef" for c in fingerprint):
        raise CheckpointError("The checkpoint has no valid fingerprint of its base model.")
    info = _json_field(metadata, "data", {})
    if not isinstance(info, dict):
        raise CheckpointError(f"The checkpoint's 'data' entry must be a JSON object; got {_kind(info)}.")
    try:
        state = load_tensors(data)
    except SafetensorError as err:
        raise CheckpointError(f"The checkpoint's tensors are corrupt: {err}.") from err
    return FinetuneCheckpoint(
        name=_name(metadata.get("name", "fine-tuned")), config=config, state=state, fingerprint=fingerprint,
        data=info, train_config=_train_config(_json_field(metadata, "train_config", {})),
        step=_step(metadata.get("step", "0")), history=_history(metadata, "history", HISTORY_FIELDS),
        val_history=_history(metadata, "val_history", VAL_HISTORY_FIELDS, VAL_HISTORY_OPTIONAL))
