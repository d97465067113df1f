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

from explorer.data.names import safe_name
from explorer.data.tasks import TASKS, TaskSpec
from explorer.data.tokenizers import Tokenizer
from explorer.models import Model, ModelConfig, build_model, config_from_dict
from explorer.training.config import TrainConfig

FORMAT = "sequence-model-explorer/1"
MAX_CHECKPOINT_BYTES = 128 * 2**20  # a 30 M-parameter model (the largest the app builds) is 120 MB
MAX_HISTORY_ROWS = 2000
MAX_STEP = 10**7
MAX_NAME_CHARS = 80
MAX_SNAPSHOTS = 64
SNAPSHOT_PREFIX = "snapshot/"
TASK_FIELDS = ("name", "seq_len", "n_symbols", "n_train", "n_val", "seed", "min_len")  # TaskSpec's fields
# The metrics the app reads from each row (trainer.py writes them; pages, tables and curves read them).
HISTORY_FIELDS = ("step", "loss", "accuracy", "lr", "grad_norm", "tokens_per_s")
VAL_HISTORY_FIELDS = ("step", "val_loss", "val_accuracy")
VAL_HISTORY_OPTIONAL = ("val_sequence_accuracy",)  # older checkpoints lack it; readers use .get()


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
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)  # step -> weights (scrubbing)
    preset: str = "Checkpoint"  # the preset the run was made with (pages recognise the lab, the experiment …)

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


def to_bytes(ckpt: Checkpoint, snapshot_dtype: torch.dtype = torch.float16) -> bytes:
    """Serialize to safetensors bytes (weights + JSON metadata). Snapshots, when there are any, are stored at
    ``snapshot_dtype`` (half precision by default: enough to scrub through training, half the bytes)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.state_dict.items()}
    for step, weights in sorted(ckpt.snapshots.items()):
        for name, value in weights.items():
            tensors[f"{SNAPSHOT_PREFIX}{step}/{name}"] = value.detach().to("cpu", snapshot_dtype).contiguous()
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
        "snapshot_steps": json.dumps(sorted(ckpt.snapshots)),
        "preset": ckpt.preset,
    }
    return save_tensors(tensors, metadata=metadata)


def _not_safetensors(data: bytes, why: str) -> CheckpointError:
    if data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        return CheckpointError("This looks like a PyTorch pickle (.pt/.pth/.bin). The app never unpickles files; "
                               "save the weights with safetensors instead.")
    return CheckpointError(f"The file is not a safetensors checkpoint ({why}).")


def header_format(data: bytes) -> str | None:
    """The ``format`` entry of a safetensors file's metadata (None when there is none or the header is unreadable):
    which reader a file needs, before anything else is parsed."""
    try:
        (header_len,) = struct.unpack("<Q", data[:8])
        if header_len > len(data) - 8:
            return None
        header = json.loads(data[8:8 + header_len])
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None  # the full reader says what is wrong
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    value = metadata.get("format") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def _read_metadata(data: bytes, expected_format: str = FORMAT) -> dict[str, str]:
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
    except RecursionError as err:
        raise CheckpointError("The checkpoint's header is nested far too deeply to be a checkpoint of this app.") \
            from err
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != expected_format:
        raise CheckpointError(
            "This is a safetensors file but not a checkpoint saved by this app (no explorer config in its header)."
        )
    odd = sorted(str(k) for k, v in metadata.items() if not isinstance(v, str))
    if odd:
        raise CheckpointError(f"The checkpoint's header is corrupt: the entries {', '.join(odd[:5])} are not text.")
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
    except RecursionError as err:
        raise CheckpointError(f"The checkpoint's '{key}' entry is nested far too deeply.") from err


def from_bytes(data: bytes, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Checkpoint:
    """Parse and validate checkpoint bytes. Raises :class:`CheckpointError` for anything invalid.

    The small JSON entries are checked first, then the weights' names and shapes against a model built
    on the ``meta`` device (no memory); only a checkpoint that passes everything gets real tensors.
    """
    if not data:
        raise CheckpointError("The file is empty.")
    if len(data) > max_bytes:
        raise CheckpointError(f"The file is {len(data) / 2**20:.1f} MB; checkpoints are limited to "
                              f"{max_bytes / 2**20:.0f} MB.")
    metadata = _read_metadata(data)
    config = _model_config(_json_field(metadata, "model_config"))
    tokenizer = _tokenizer(_json_field(metadata, "tokenizer"))
    if tokenizer.vocab_size > config.d_vocab:
        raise CheckpointError("The checkpoint's tokenizer has more tokens than the model's vocabulary.")
    step = _step(metadata.get("step", "0"))
    history = _history(metadata, "history", HISTORY_FIELDS)
    val_history = _history(metadata, "val_history", VAL_HISTORY_FIELDS, VAL_HISTORY_OPTIONAL)
    train_config = _train_config(_json_field(metadata, "train_config", {}))
    info = _data_info(_json_field(metadata, "data", {}))
    try:
        tensors = load_tensors(data)
    except SafetensorError as err:
        raise CheckpointError(f"The checkpoint's tensors are corrupt: {err}.") from err
    snapshots = _snapshots(config, tensors, _json_field(metadata, "snapshot_steps", []), step)
    _check_weights(config, tensors)
    return Checkpoint(
        name=_name(metadata.get("name", "checkpoint")), model_config=config, state_dict=tensors, tokenizer=tokenizer,
        data=info, train_config=train_config, step=step, history=history, val_history=val_history,
        snapshots=snapshots, preset=_name(metadata.get("preset", "Checkpoint")),
    )


def _snapshots(config: ModelConfig, tensors: dict[str, torch.Tensor], steps: Any,
               last_step: int) -> dict[int, dict[str, torch.Tensor]]:
    """Take the snapshot tensors (``snapshot/<step>/<name>``) out of ``tensors``, each snapshot checked like the
    weights, at most MAX_SNAPSHOTS of them, at steps from 0 to the checkpoint's step."""
    if not isinstance(steps, list) or any(not isinstance(s, int) or isinstance(s, bool) for s in steps):
        raise CheckpointError("The checkpoint's 'snapshot_steps' entry must be a list of whole numbers.")
    if len(steps) > MAX_SNAPSHOTS or any(not 0 <= s <= last_step for s in steps):
        raise CheckpointError(f"A checkpoint holds at most {MAX_SNAPSHOTS} snapshots, at steps from 0 to its step "
                              f"({last_step}).")
    grouped: dict[int, dict[str, torch.Tensor]] = {s: {} for s in steps}
    for key in [k for k in tensors if k.startswith(SNAPSHOT_PREFIX)]:
        step_text, _, name = key[len(SNAPSHOT_PREFIX):].partition("/")
        if not step_text.isdigit() or int(step_text) not in grouped:
            raise CheckpointError(f"The checkpoint holds a snapshot tensor {key!r} for a step it does not list.")
        grouped[int(step_text)][name] = tensors.pop(key)
    for weights in grouped.values():
        _check_weights(config, weights)
    return grouped


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _model_config(raw: Any) -> ModelConfig:
    if not isinstance(raw, dict):
        raise CheckpointError(f"The checkpoint's model configuration must be a JSON object; got {_kind(raw)}.")
    try:
        return config_from_dict(raw)  # the config classes refuse unknown fields, bad values and too big models
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"The checkpoint's configuration is invalid: {err}") from err


def _tokenizer(raw: Any) -> Tokenizer:
    if not isinstance(raw, dict) or not isinstance(raw.get("tokens"), list) or not isinstance(raw.get("mode"), str):
        raise CheckpointError("The checkpoint's tokenizer is invalid: it needs a 'mode' and a list of 'tokens'.")
    if not all(isinstance(token, str) for token in raw["tokens"]):
        raise CheckpointError("The checkpoint's tokenizer is invalid: every token must be text.")
    try:
        return Tokenizer.from_dict(raw)
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"The checkpoint's tokenizer is invalid: {err}") from err


def _step(raw: str) -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_STEP)) or int(text) > MAX_STEP:
        raise CheckpointError(f"The checkpoint's step must be a whole number from 0 to {MAX_STEP:,}; "
                              f"got {raw[:40]!r}.")
    return int(text)


def _history(metadata: dict[str, str], key: str, required: tuple[str, ...],
             optional: tuple[str, ...] = ()) -> list[dict[str, float]]:
    """Rows of metrics with the numeric fields the app reads (other fields are dropped)."""
    rows = _json_field(metadata, key, [])
    if not isinstance(rows, list):
        raise CheckpointError(f"The checkpoint's '{key}' must be a list of rows of metrics; got {_kind(rows)}.")
    clean = []
    for i, row in enumerate(rows):
        where = f"Row {i + 1} of the checkpoint's '{key}'"
        if not isinstance(row, dict):
            raise CheckpointError(f"{where} must be an object of metrics; got {_kind(row)}.")
        missing = [name for name in required if name not in row]
        if missing:
            raise CheckpointError(f"{where} lacks {', '.join(missing)} (needed: {', '.join(required)}).")
        kept = {name: row[name] for name in (*required, *optional) if name in row}
        for name, value in kept.items():
            if not _is_number(value):
                raise CheckpointError(f"{where}: '{name}' must be a number; got {_kind(value)}.")
        if not isinstance(kept["step"], int) or not 0 <= kept["step"] <= MAX_STEP:
            raise CheckpointError(f"{where}: 'step' must be a whole number from 0 to {MAX_STEP:,}.")
        clean.append(kept)
    return _thin(clean)


def _train_config(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CheckpointError(f"The checkpoint's training settings must be a JSON object; got {_kind(raw)}.")
    if not raw:
        return {}
    try:
        return TrainConfig.from_dict(raw).to_dict()
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"The checkpoint's training settings are invalid: {err}") from err


def _data_info(info: Any) -> dict[str, Any]:
    """The description of the data. A generated task is checked against the limits the Train form has, before
    anything is generated: a small file must not make the server build a task of millions of examples."""
    if not isinstance(info, dict):
        raise CheckpointError(f"The checkpoint's 'data' entry must be a JSON object; got {_kind(info)}.")
    params = info.get("params")
    if info.get("origin") == "generated" and isinstance(params, dict) and params.get("name") in TASKS:
        fields = {k: v for k, v in params.items() if k in TASK_FIELDS}
        if all(isinstance(v, int) and not isinstance(v, bool) for k, v in fields.items() if k != "name"):
            try:
                TaskSpec(**fields)
            except (TypeError, ValueError) as err:
                raise CheckpointError(f"The checkpoint's task cannot be rebuilt here: {err}") from err
    return info


def _name(raw: str) -> str:
    return safe_name(raw, default="checkpoint", limit=MAX_NAME_CHARS)  # inert in Markdown, one line, short


def _check_weights(config: ModelConfig, tensors: dict[str, torch.Tensor]) -> None:
    """The tensors must be exactly the model's parameters: same names, shapes, finite values.

    The reference model is built on the ``meta`` device: names, shapes and dtypes without any memory, so a
    small file whose config describes a big model costs nothing.
    """
    with torch.device("meta"):
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
        if ref.is_floating_point() and not got.is_floating_point():
            raise CheckpointError(f"Weight {name} holds {got.dtype} values; the model needs floating point numbers.")
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise CheckpointError(f"Weight {name} contains NaN or infinite values.")
        if got.dtype != ref.dtype:
            tensors[name] = got.to(ref.dtype)


def checkpoint_from_trainer(trainer, name: str, with_snapshots: bool = False, preset: str = "Checkpoint") -> Checkpoint:
    """Capture a trainer's current weights, config, data description and history (and its snapshots)."""
    snapshots = {s: trainer.load_snapshot(s) for s in sorted(trainer.snapshots)} if with_snapshots else {}
    return Checkpoint(
        name=name, model_config=trainer.model.config, state_dict=trainer.current_weights(),
        tokenizer=trainer.data.tokenizer, data=trainer.data.summary(), train_config=trainer.config.to_dict(),
        step=trainer.step_count, history=list(trainer.history), val_history=list(trainer.val_history),
        snapshots=snapshots, preset=preset,
    )
