"""Checkpoints round-trip exactly and reject anything that is not one of ours (never unpickling)."""

from __future__ import annotations

import io
import json
import re
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


def test_a_small_file_describing_a_big_model_is_refused_without_building_it(monkeypatch) -> None:
    """The weights are checked against a model on the meta device: no parameter memory is spent."""
    import explorer.training.checkpoints as checkpoints

    built_on: list[set[str]] = []

    def recording_build(config, seed=0):
        model = build_model(config, seed=seed)
        built_on.append({p.device.type for p in model.parameters()})
        return model

    monkeypatch.setattr(checkpoints, "build_model", recording_build)
    big = TransformerConfig(d_vocab=10_000, n_ctx=4096, d_model=512, n_heads=8, n_layers=6, d_mlp=1024)  # ~25 M
    blob = _with_metadata(_valid_blob(), model_config=json.dumps(big.to_dict()))
    with pytest.raises(CheckpointError, match="do not match"):
        from_bytes(blob)
    assert built_on == [{"meta"}]


def test_a_config_over_the_size_limit_is_a_checkpoint_error() -> None:
    huge = {**TransformerConfig().to_dict(), "d_vocab": 60_000, "n_ctx": 4096, "d_model": 1024, "n_heads": 8,
            "n_layers": 12, "d_mlp": 4096}
    with pytest.raises(CheckpointError, match="configuration is invalid"):
        from_bytes(_with_metadata(_valid_blob(), model_config=json.dumps(huge)))
    with pytest.raises(CheckpointError, match="JSON object"):
        from_bytes(_with_metadata(_valid_blob(), model_config="[1, 2]"))


def _train_config(**changes) -> str:
    return json.dumps({**TrainConfig(max_steps=15).to_dict(), **changes})


@pytest.mark.parametrize(("changes", "message"), [
    ({"step": "-5"}, "step must be a whole number from 0"),
    ({"step": "abc"}, "step must be a whole number"),
    ({"step": "1.5"}, "step must be a whole number"),
    ({"step": str(10**8)}, "step must be a whole number"),
    ({"step": "9" * 5000}, "step must be a whole number"),
    ({"history": json.dumps("abc")}, "'history' must be a list"),
    ({"history": json.dumps([1, 2])}, "Row 1 of the checkpoint's 'history' must be an object"),
    ({"history": json.dumps([{"step": 1}])}, "lacks loss"),
    ({"history": json.dumps([{"step": 1, "loss": "x", "accuracy": 0.5, "lr": 0.1, "grad_norm": 1,
                              "tokens_per_s": 9}])}, "'loss' must be a number"),
    ({"history": json.dumps([{"step": -1, "loss": 1, "accuracy": 0.5, "lr": 0.1, "grad_norm": 1,
                              "tokens_per_s": 9}])}, "'step' must be a whole number"),
    ({"val_history": json.dumps([1, 2])}, "'val_history' must be an object"),
    ({"val_history": json.dumps({"step": 1})}, "'val_history' must be a list"),
    ({"val_history": json.dumps([{"step": 5, "val_loss": 1.0, "val_accuracy": True}])}, "'val_accuracy' must be"),
    ({"val_history": json.dumps([{"step": 5, "val_loss": 1.0}])}, "lacks val_accuracy"),
    ({"train_config": _train_config(weight_decay="x")}, "training settings are invalid: weight_decay"),
    ({"train_config": _train_config(grad_clip="x")}, "training settings are invalid: grad_clip"),
    ({"train_config": _train_config(lr=[1])}, "training settings are invalid: The learning rate"),
    ({"train_config": _train_config(batch_size="64")}, "training settings are invalid: batch_size"),
    ({"train_config": _train_config(optimizer=["adam"])}, "training settings are invalid: optimizer"),
    ({"train_config": _train_config(snapshot_budget_mb=10**9)}, "snapshot_budget_mb"),
    ({"train_config": json.dumps([1])}, "training settings must be a JSON object"),
    ({"data": json.dumps("reverse")}, "'data' entry must be a JSON object"),
    ({"tokenizer": json.dumps({"mode": "char", "tokens": ["<pad>", "<unk>", "<bos>", "<sep>", 5]})},
     "every token must be text"),
    ({"tokenizer": json.dumps([1])}, "tokenizer is invalid"),
])
def test_edited_metadata_is_refused_with_a_readable_message(changes: dict[str, str], message: str) -> None:
    with pytest.raises(CheckpointError, match=re.escape(message)):
        from_bytes(_with_metadata(_valid_blob(), **changes))


def test_metadata_checks_keep_what_the_app_reads() -> None:
    rows = [{"step": 1, "loss": 2.0, "accuracy": 0.5, "lr": 0.01, "grad_norm": 1.0, "tokens_per_s": 99.0,
             "note": "dropped"}]
    vals = [{"step": 1, "val_loss": 2.0, "val_accuracy": 0.5}]  # older checkpoints lack val_sequence_accuracy
    ckpt = from_bytes(_with_metadata(_valid_blob(), step="1", history=json.dumps(rows), val_history=json.dumps(vals),
                                     name="  a\nname " + "x" * 500))
    assert ckpt.step == 1 and ckpt.history == [{k: v for k, v in rows[0].items() if k != "note"}]
    assert ckpt.val_history == vals
    assert ckpt.name.startswith("a name x") and len(ckpt.name) == 80


def test_train_config_refuses_wrong_types_with_a_value_error() -> None:
    for changes in ({"weight_decay": "x"}, {"grad_clip": "x"}, {"lr": "0.1"}, {"lr": True}, {"lr": float("nan")},
                    {"seed": "0"}, {"seed": -1}, {"snapshot_budget_mb": "16"}, {"optimizer": None},
                    {"grad_clip": float("inf")}, {"weight_decay": 10**400}):
        with pytest.raises(ValueError):
            TrainConfig(**changes)
    assert TrainConfig(grad_clip=None, lr=1, weight_decay=0).grad_clip is None
