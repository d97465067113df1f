"""Helpers for driving the app through ``streamlit.testing.v1.AppTest``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


def open_page(page: str | None = None) -> AppTest:
    """Run the app (home page), then switch to ``views/<page>.py`` if given."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
    return at


def state(at: AppTest):
    return at.session_state["explorer_state"]


def by_key(at: AppTest, kind: str, key: str):
    """The widget of element type ``kind`` (e.g. "file_uploader") with this key."""
    for element in at.get(kind):
        if getattr(element, "key", None) == key:
            return element
    raise KeyError(f"No {kind} with key {key!r}; keys: {[getattr(e, 'key', None) for e in at.get(kind)]}")


def texts(at: AppTest, kind: str) -> list[str]:
    """The texts of every element of ``kind``, as a reader sees them (Markdown's backslash escapes removed)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in at.get(kind)]


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "the condition") -> None:
    """Wait for background training (the scheduler's workers) to reach ``condition``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
