"""Uploading an edited or broken checkpoint on the Train page: an error, and the session keeps what it had."""

from __future__ import annotations

import json

import pytest
from apptest_helpers import by_key, open_page, state, texts
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

import explorer.ui.checkpoints as panel
from explorer.training.checkpoints import checkpoint_from_trainer, to_bytes

UPLOAD = "ckpt.upload"


def _session_with_a_run():
    """The Train page with one paused run (the home page's quick start)."""
    at = open_page()
    at.button(key="home.quick.gpt_reverse").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    run.trainer.pause()
    at.switch_page("views/train.py").run()
    assert not at.exception, at.exception
    return at, run


def _edited(blob: bytes, **changes: str) -> bytes:
    """The same checkpoint with some metadata entries replaced (as a user editing the header would)."""
    n = int.from_bytes(blob[:8], "little")
    metadata = {**json.loads(blob[8:8 + n])["__metadata__"], **changes}
    return save_tensors(load_tensors(blob), metadata=metadata)


def _snapshot(at) -> tuple[list[str], str | None, int]:
    s = state(at)
    return list(s.runs), s.current, len(s.saved)


def _pages_still_open(at) -> None:
    for page in ("home", "compare", "train"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, at.exception)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda run: {"step": "-5"}, "step must be a whole number"),
    (lambda run: {"history": json.dumps("abc")}, "'history' must be a list"),
    (lambda run: {"train_config": json.dumps({**run.trainer.config.to_dict(), "weight_decay": "x"})},
     "training settings are invalid: weight_decay"),
], ids=["negative step", "history as text", "weight decay as text"])
def test_an_edited_checkpoint_shows_an_error_and_keeps_the_session(edit, message: str) -> None:
    at, run = _session_with_a_run()
    blob = _edited(to_bytes(checkpoint_from_trainer(run.trainer, "edited")), **edit(run))
    before = _snapshot(at)
    by_key(at, "file_uploader", UPLOAD).upload("edited.safetensors", blob, "application/octet-stream").run()
    assert not at.exception, at.exception
    assert any(message in t for t in texts(at, "error")), texts(at, "error")
    assert _snapshot(at) == before and state(at).current_run is run
    _pages_still_open(at)
    assert _snapshot(at) == before


def test_a_refused_upload_is_remembered_not_parsed_again(monkeypatch) -> None:
    at, run = _session_with_a_run()
    calls = []
    real = panel.from_bytes
    monkeypatch.setattr(panel, "from_bytes", lambda data: (calls.append(len(data)), real(data))[1])
    by_key(at, "file_uploader", UPLOAD).upload("broken.safetensors", b"not a checkpoint at all").run()
    assert len(calls) == 1 and any("not a safetensors checkpoint" in t for t in texts(at, "error"))
    at.run()
    at.run()
    assert len(calls) == 1, "the same refused file was parsed again on a rerun"
    assert any("broken.safetensors" in t and "not a safetensors checkpoint" in t for t in texts(at, "error"))
    assert list(state(at).runs) == [run.id]


def test_a_checkpoint_that_cannot_become_a_run_shows_an_error(monkeypatch) -> None:
    at, run = _session_with_a_run()
    good = to_bytes(checkpoint_from_trainer(run.trainer, "fine file"))

    def refuse(ckpt):
        raise TypeError("unsupported operand type(s) for <=: 'int' and 'str'")

    monkeypatch.setattr(panel, "run_from_checkpoint", refuse)
    before = _snapshot(at)
    by_key(at, "file_uploader", UPLOAD).upload("fine.safetensors", good, "application/octet-stream").run()
    assert not at.exception, at.exception
    assert any("fine.safetensors" in t and "unsupported operand" in t for t in texts(at, "error")), texts(at, "error")
    assert _snapshot(at) == before and state(at).current_run is run
    # A checkpoint saved in the session that cannot be opened: a message, the runs as they were.
    at.button(key="ckpt.save").click().run()
    before = _snapshot(at)
    at.button(key="ckpt.open.0").click().run()
    assert not at.exception, at.exception
    assert any("Could not open" in t for t in texts(at, "warning")), texts(at, "warning")
    assert _snapshot(at) == before and state(at).current_run is run


def test_a_header_nested_100000_deep_is_refused_in_words() -> None:
    at, run = _session_with_a_run()
    nested = b"[" * 100_000 + b"]" * 100_000
    blob = len(nested).to_bytes(8, "little") + nested
    by_key(at, "file_uploader", UPLOAD).upload("deep.safetensors", blob, "application/octet-stream").run()
    assert not at.exception, at.exception
    errors = texts(at, "error")
    assert any("deep.safetensors" in t and "nested far too deeply" in t for t in errors), errors
    assert not any("recursion" in t for t in errors), errors
    assert list(state(at).runs) == [run.id]
