"""Every page opens without an exception, with and without a run in the session."""

from __future__ import annotations

import pytest
from apptest_helpers import open_page, state

PAGES = ["home", "train", "compare", "lstm", "seq2seq", "tokens", "forward", "attention", "circuits", "positions",
         "embeddings", "finetune", "runs"]


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_in_a_new_session(page: str) -> None:
    at = open_page(page)
    assert not at.exception
    assert at.title, "every page has a title"


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_with_a_trained_run(page: str) -> None:
    at = open_page()
    at.button(key="home.quick.lecture_lstm").click().run()
    assert state(at).current_run is not None
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception
    assert at.sidebar.toggle(key="sidebar.slide_theme") is not None  # the shared sidebar is on every page


def test_sidebar_switches_between_runs() -> None:
    at = open_page()
    at.button(key="home.quick.lecture_lstm").click().run()
    at.switch_page("views/home.py").run()
    at.button(key="home.quick.gpt_reverse").click().run()
    runs = list(state(at).runs.values())
    assert len(runs) == 2 and state(at).current == runs[1].id
    at.sidebar.selectbox(key="sidebar.model").set_value(runs[0].id).run()
    assert state(at).current == runs[0].id
    at.switch_page("views/train.py").run()
    assert any(runs[0].name in str(h.value) for h in at.subheader)
