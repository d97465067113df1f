"""Class mode: tighter limits for every session, said in a banner, refused with the limit named; a teacher's code
lifts them for one session."""

from __future__ import annotations

import pytest
from apptest_helpers import open_page, state, texts

from explorer.ui import class_mode


@pytest.fixture
def class_server(monkeypatch):
    monkeypatch.setenv("EXPLORER_CLASS_MODE", "1")
    monkeypatch.setenv("EXPLORER_TRAIN_BACKEND", "threads")  # the test runs in one process
    monkeypatch.setattr(class_mode, "_secrets_section", lambda: {"teacher_code": "owl", "max_runs": 2})
    class_mode.class_settings.cache_clear()
    yield
    class_mode.class_settings.cache_clear()


def test_class_limits_apply_to_every_session_and_the_teacher_lifts_them(class_server) -> None:
    at = open_page("train")
    assert any("Class server" in c.value for c in at.sidebar.caption)
    assert state(at).limits.max_runs == 2 and not state(at).limits.hub_downloads
    at.selectbox(key="data.task").set_value("reverse").run()
    at.selectbox(key="model.preset").set_value("Tiny GPT 2 layers × 4 heads").run()
    prefix = "model.Tiny GPT 2 layers × 4 heads.reverse.seq2seq"
    at.number_input(key=f"{prefix}.d_model").set_value(512).run()
    assert any("this server allows 2,000,000" in t for t in texts(at, "error"))
    at.number_input(key=f"{prefix}.d_model").set_value(64).run()
    at.number_input(key=f"{prefix}.max_steps").set_value(50_000).run()
    assert any("this server allows 20,000" in t for t in texts(at, "error"))
    at.sidebar.text_input(key="class.teacher_code").input("owl").run()
    assert state(at).limits.max_runs == 8 and not any("this server allows" in t for t in texts(at, "error"))
    other = open_page("train")
    assert other.session_state["explorer_state"].limits.max_runs == 2  # only the teacher's session
