"""Checkpoints round-trip exactly and reject anything that is not one of ours (never unpickling)."""

from __future__ import annotations

import io
import json
import struct

import pytest
import torch
from safetensors.torch import save as save_tensors

from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import PAD
from explorer.models import RecurrentConfig, TransformerConfig, build_model
from explorer.training.checkpoints import CheckpointError, checkpoint_from_trainer, from_bytes, to_bytes
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer


def _trained(config_factory) -> Trainer:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=200, n_val=20))
    trainer = Trainer(build_model(config_factory(data.tokenizer.vocab_size)), data, TrainConfig(max_steps=15))
    trainer.step(n_steps=15)
    return trainer


@pytest.mark.parametrize("factory", [
    lambda v: TransformerConfig(d_vocab=v, n_ctx=16, d_model=16, n_heads=2, n_layers=1, d_mlp=32, pad_id=PAD,
                                positional="rotary"),
    lambda v: RecurrentConfig(cell="gru", d_vocab=v, d_embed=8, d_hidden=16, n_layers=2),
])
def test_round_trip_gives_the_same_logits(factory) -> None:
    trainer = _trained(factory)
    blob = to_bytes(checkpoint_from_trainer(trainer, "my run"))
    ckpt = from_bytes(blob)
    assert ckpt.name == "my run" and ckpt.step == 15 and len(ckpt.history) == 15
    assert ckpt.tokenizer == trainer.data.tokenizer and ckpt.model_config == trainer.model.config
    assert ckpt.data["name"] == "reverse" and ckpt.train_config["max_steps"] == 15
    tokens = trainer.train_set.inputs[:4]
    trainer.model.eval()
    torch.testing.assert_close(ckpt.build()(tokens), trainer.model(tokens), atol=0, rtol=0)


def _valid_blob() -> bytes:
    return to_bytes(checkpoint_from_trainer(_trained(lambda v: RecurrentConfig(d_vocab=v, d_hidden=8)), "x"))


def _with_metadata(blob: bytes, **changes) -> bytes:
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header["__metadata__"].update(changes)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + blob[8 + n:]


def test_rejects_pickles_without_loading_them() -> None:
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)  # a zip-based pickle
    with pytest.raises(CheckpointError, match="never unpickles"):
        from_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match="never unpickles"):
        from_bytes(b"\x80\x04\x95" + b"\x00" * 40)  # a raw pickle stream


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"abc", "too small"),
    (b"\xff" * 64, "not a safetensors"),
    (b"hello world, this is a text file and not a checkpoint at all.", "not a safetensors"),
])
def test_rejects_garbage(data: bytes, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        from_bytes(data)


def test_rejects_foreign_safetensors_and_truncation() -> None:
    with pytest.raises(CheckpointError, match="not a checkpoint saved by this app"):
        from_bytes(save_tensors({"w": torch.zeros(3)}))
    blob = _valid_blob()
    with pytest.raises(CheckpointError):
        from_bytes(blob[: len(blob) // 2])


def test_rejects_weights_that_do_not_fit_the_config() -> None:
    blob = _valid_blob()
    bigger = json.dumps(RecurrentConfig(d_vocab=14, d_hidden=12).to_dict())
    with pytest.raises(CheckpointError, match="shape"):
        from_bytes(_with_metadata(blob, model_config=bigger))
    gru = json.dumps(RecurrentConfig(cell="gru", d_vocab=14, d_hidden=8).to_dict())
    with pytest.raises(CheckpointError, match="shape"):
        from_bytes(_with_metadata(blob, model_config=gru))
    bad = json.dumps({**RecurrentConfig(d_vocab=14).to_dict(), "d_hidden": -3})
    with pytest.raises(CheckpointError, match="configuration is invalid"):
        from_bytes(_with_metadata(blob, model_config=bad))
    with pytest.raises(CheckpointError, match="not valid JSON"):
        from_bytes(_with_metadata(blob, model_config="{nope"))


def test_rejects_nan_weights_and_oversized_files() -> None:
    trainer = _trained(lambda v: RecurrentConfig(d_vocab=v, d_hidden=8))
    ckpt = checkpoint_from_trainer(trainer, "x")
    ckpt.state_dict["embed.weight"][0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        from_bytes(to_bytes(ckpt))
    with pytest.raises(CheckpointError, match="limited to"):
        from_bytes(_valid_blob(), max_bytes=100)
