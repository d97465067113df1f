"""Checkpoints: one safetensors file whose header carries the JSON config. Never pickle.

The file holds the model's weights as tensors and, in the safetensors ``__metadata__`` header, JSON
strings: the model config, the tokenizer, a description of the data, the training config, the
step and the metrics history. Loading validates everything before a model is built and rejects
anything else with a :class:`CheckpointError` that says what is wrong.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from explorer.data.tokenizers import Tokenizer
from explorer.models import Model, ModelConfig, build_model, config_from_dict

FORMAT = "sequence-model-explorer/1"
MAX_CHECKPOINT_BYTES = 200 * 2**20
MAX_HISTORY_ROWS = 2000


class CheckpointError(ValueError):
    """A file that is not a valid checkpoint of this app; the message says why."""


@dataclass
class Checkpoint:
    """Everything needed to rebuild a trained model and show where it came from."""

    name: str
    model_config: ModelConfig
    state_dict: dict[str, torch.Tensor]
    tokenizer: Tokenizer
    data: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    val_history: list[dict[str, float]] = field(default_factory=list)

    def build(self) -> Model:
        """A fresh model in eval mode with these weights."""
        model = build_model(self.model_config, seed=None)
        model.load_state_dict(self.state_dict)
        return model.eval()


def _thin(rows: list[dict[str, float]], limit: int = MAX_HISTORY_ROWS) -> list[dict[str, float]]:
    if len(rows) <= limit:
        return rows
    stride = math.ceil(len(rows) / limit)
    return rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])


def to_bytes(ckpt: Checkpoint) -> bytes:
    """Serialize to safetensors bytes (weights + JSON metadata)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.state_dict.items()}
    metadata = {
        "format": FORMAT,
        "name": ckpt.name,
        "model_config": json.dumps(ckpt.model_config.to_dict()),
        "tokenizer": json.dumps(ckpt.tokenizer.to_dict()),
        "data": json.dumps(ckpt.data),
        "train_config": json.dumps(ckpt.train_config),
        "step": str(ckpt.step),
        "history": json.dumps(_thin(ckpt.history)),
        "val_history": json.dumps(_thin(ckpt.val_history)),
    }
    return save_tensors(tensors, metadata=metadata)


def _not_safetensors(data: bytes, why: str) -> CheckpointError:
    if data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        return CheckpointError("This looks like a PyTorch pickle (.pt/.pth/.bin). The app never unpickles files; "
                               "save the weights with safetensors instead.")
    return CheckpointError(f"The file is not a safetensors checkpoint ({why}).")


def _read_metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors header (an 8-byte little-endian length, then JSON)."""
    if len(data) < 8:
        raise CheckpointError("The file is too small to be a checkpoint.")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise _not_safetensors(data, "its header is corrupt or cut short")
    try:
        header = json.loads(data[8:8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _not_safetensors(data, "unreadable header") from err
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(
            "This is a safetensors file but not a checkpoint saved by this app (no explorer config in its header)."
        )
    return metadata


def _json_field(metadata: dict[str, str], key: str, default: Any = None) -> Any:
    if key not in metadata:
        if default is not None:
            return default
        raise CheckpointError(f"The checkpoint has no '{key}' entry.")
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as err:
        raise CheckpointError(f"The checkpoint's '{key}' entry is not valid JSON.") from err


def from_bytes(data: bytes, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Checkpoint:
    """Parse and validate checkpoint bytes. Raises :class:`CheckpointError` for anything invalid."""
    if not data:
        raise CheckpointError("The file is empty.")
    if len(data) > max_bytes:
        raise CheckpointError(f"The file is {len(data) / 2**20:.1f} MB; checkpoints are limited to "
                              f"{max_bytes / 2**20:.0f} MB.")
    metadata = _read_metadata(data)
    try:
        tensors = load_tensors(data)
    except SafetensorError as err:
        raise CheckpointError(f"The checkpoint's tensors are corrupt: {err}.") from err
    try:
        config = config_from_dict(_json_field(metadata, "model_config"))
        tokenizer = Tokenizer.from_dict(_json_field(metadata, "tokenizer"))
        step = int(metadata.get("step", "0"))
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"The checkpoint's configuration is invalid: {err}") from err
    if tokenizer.vocab_size > config.d_vocab:
        raise CheckpointError("The checkpoint's tokenizer has more tokens than the model's vocabulary.")
    _check_weights(config, tensors)
    return Checkpoint(
        name=str(metadata.get("name", "checkpoint")), model_config=config, state_dict=tensors, tokenizer=tokenizer,
        data=_json_field(metadata, "data", {}), train_config=_json_field(metadata, "train_config", {}),
        step=step, history=_json_field(metadata, "history", []), val_history=_json_field(metadata, "val_history", []),
    )


def _check_weights(config: ModelConfig, tensors: dict[str, torch.Tensor]) -> None:
    """The tensors must be exactly the model's parameters: same names, shapes, finite values."""
    expected = build_model(config, seed=None).state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")
        raise CheckpointError(f"The weights do not match the model in the config: {'; '.join(parts)}.")
    for name, ref in expected.items():
        got = tensors[name]
        if got.shape != ref.shape:
            raise CheckpointError(f"Weight {name} has shape {tuple(got.shape)}; the config needs {tuple(ref.shape)}.")
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise CheckpointError(f"Weight {name} contains NaN or infinite values.")
        if got.dtype != ref.dtype:
            tensors[name] = got.to(ref.dtype)


def checkpoint_from_trainer(trainer, name: str) -> Checkpoint:
    """Capture a trainer's current weights, config, data description and history."""
    return Checkpoint(
        name=name, model_config=trainer.model.config,
        state_dict={k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()},
        tokenizer=trainer.data.tokenizer, data=trainer.data.summary(), train_config=trainer.config.to_dict(),
        step=trainer.step_count, history=list(trainer.history), val_history=list(trainer.val_history),
    )
