"""No input takes a shared server down or runs script in a viewer's page: injection through bertviz, memory bombs
in checkpoints and forms, Markdown in names, unreadable encodings, deep JSON."""

from __future__ import annotations

import json
import re
import struct
import time

import pytest
import torch
from apptest_helpers import open_page, state

from explorer.analysis.attention import record_attention
from explorer.analysis.bertviz_offline import bertviz_html, opaque_origin_url, script_safe_json
from explorer.data.names import plain_markdown, safe_name
from explorer.data.tasks import MAX_TASK_TOKENS, TaskSpec, make_task
from explorer.data.tokenizers import SPECIALS, Tokenizer
from explorer.data.uploads import UploadError, read_csv_upload
from explorer.models import RecurrentConfig, TransformerConfig, build_model
from explorer.training.checkpoints import Checkpoint, CheckpointError, checkpoint_from_trainer, from_bytes, to_bytes
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer

PAYLOAD = "</script><svg/onload=alert(document.title)>"


def injection_checkpoint() -> bytes:
    """A shared checkpoint whose symbol vocabulary holds a script-breaking token (the attack of the issue)."""
    tokenizer = Tokenizer(mode="symbol", tokens=[*SPECIALS, PAYLOAD, "a", "b"])
    config = TransformerConfig(d_vocab=tokenizer.vocab_size, n_ctx=16, d_model=16, n_heads=2, n_layers=1, d_mlp=32)
    model = build_model(config, seed=0)
    return to_bytes(Checkpoint(name="shared model", model_config=config, state_dict=model.state_dict(),
                               tokenizer=tokenizer, data={"name": "hand-made", "origin": "upload"}))


def test_a_token_cannot_break_out_of_bertviz_s_script() -> None:
    model = build_model(TransformerConfig(d_vocab=8, n_ctx=16, d_model=16, n_heads=2, n_layers=1, d_mlp=32))
    tokens = [PAYLOAD, "a", "<b>&amp;", "</SCRIPT>"]
    sets = record_attention(model.eval(), torch.tensor([[4, 5, 6, 7]]), tokens, causal=True)
    for view in ("head", "model"):
        html, _ = bertviz_html(sets, view)
        assert PAYLOAD not in html and "</SCRIPT>" not in html and "<svg/onload" not in html
        line = next(line for line in html.splitlines() if "const params = " in line)
        params = json.loads(line.split("const params = ", 1)[1].split("; //", 1)[0].rstrip(";"))
        assert PAYLOAD in json.dumps(params, ensure_ascii=False)  # the same string for JavaScript
    assert script_safe_json('"</script>"') == '"\\u003c/script\\u003e"'
    assert opaque_origin_url("<p>x</p>").startswith("data:text/html;charset=utf-8;base64,")


def _generated_checkpoint(**params) -> bytes:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=50, n_val=10))
    trainer = Trainer(build_model(RecurrentConfig(d_vocab=data.tokenizer.vocab_size, d_hidden=8)), data,
                      TrainConfig(max_steps=2))
    blob = to_bytes(checkpoint_from_trainer(trainer, "x"))
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    info = json.loads(header["__metadata__"]["data"])
    info["params"].update(params)
    header["__metadata__"]["data"] = json.dumps(info)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + blob[8 + n:]


def test_a_small_checkpoint_cannot_ask_for_a_huge_task() -> None:
    bomb = _generated_checkpoint(n_train=200_000, n_val=50_000, seq_len=1024)
    assert len(bomb) < 200_000
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=f"limited to {MAX_TASK_TOKENS:,} tokens"):
        from_bytes(bomb)
    assert time.perf_counter() - start < 1.0  # refused before anything is generated


def test_deeply_nested_headers_and_big_snapshot_budgets_are_refused() -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    blob = struct.pack("<Q", len(nested)) + nested
    with pytest.raises(CheckpointError, match="nested"):
        from_bytes(blob)
    with pytest.raises(ValueError, match="snapshot_budget_mb"):
        TrainConfig(snapshot_budget_mb=1024)


def test_the_form_s_maxima_are_refused_before_any_generation() -> None:
    with pytest.raises(ValueError, match="limited to"):
        TaskSpec(name="reverse", seq_len=512, n_train=200_000)
    at = open_page("train")
    at.selectbox(key="data.task").set_value("reverse").run()
    at.number_input(key="data.seq_len.reverse").set_value(512).run()
    at.number_input(key="data.n_train").set_value(200_000).run()
    assert not at.exception
    assert any(f"limited to {MAX_TASK_TOKENS:,} tokens" in e.value for e in at.error)
    assert not any(b.key == "train.create" for b in at.button)


def test_large_tasks_are_generated_only_on_request() -> None:
    at = open_page("train")
    at.selectbox(key="data.task").set_value("reverse").run()
    at.number_input(key="data.seq_len.reverse").set_value(100).run()
    at.number_input(key="data.n_train").set_value(9_000).run()  # ≈ 1.9 M tokens: allowed, not instant
    assert any(b.key == "data.generate" for b in at.button)
    assert not any(b.key == "train.create" for b in at.button)
    at.button(key="data.generate").click().run()
    assert not at.exception and any(b.key == "train.create" for b in at.button)


def test_names_are_inert_in_markdown() -> None:
    name = safe_name("![x](http://example.invalid/x.png) <img src=y> **bold**")
    assert "![" not in name and "<" not in name and "*" not in name and "(http" in name
    assert safe_name("LSTM · copy (2)") == "LSTM · copy (2)"
    assert safe_name("Transformer encoder–decoder · reverse 4–12") == "Transformer encoder–decoder · reverse 4–12"
    assert plain_markdown("![x](y) <b>") == "\\!\\[x\\](y) \\<b\\>"
    at = open_page("train")
    at.text_input(key="train.run_name").input("![x](http://example.invalid/x.png)").run()
    at.button(key="train.create").click().run()
    run = state(at).current_run
    assert "![" not in run.name
    at.run()
    rendered = " ".join(str(e.value) for kind in ("markdown", "caption", "subheader") for e in at.get(kind))
    assert "![" not in rendered


def test_utf16_without_a_byte_order_mark_is_named_as_such() -> None:
    text = "text,label\n" + "".join(f"review number {i} was good,pos\nreview {i} was bad,neg\n" for i in range(20))
    with pytest.raises(UploadError, match="UTF-16"):
        read_csv_upload("reviews.csv", text.encode("utf-16-le"))


def test_a_session_s_memory_is_capped_in_total(monkeypatch) -> None:
    from explorer.training.limits import Limits
    from explorer.training.run import new_run
    from explorer.ui import state as state_module

    session = state_module.SessionState(limits=Limits(max_session_mb=1))
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=50, n_val=10))
    big = new_run("big", data, RecurrentConfig(d_vocab=data.tokenizer.vocab_size, d_embed=64, d_hidden=256),
                  TrainConfig(max_steps=2))
    with pytest.raises(state_module.NoRoom, match=re.escape("of its 1 MB")):
        session.add_run(big)
    assert session.runs == {}
