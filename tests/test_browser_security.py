"""In a real browser: a shared checkpoint whose vocabulary holds a script cannot run it in a viewer's page."""

from __future__ import annotations

import pytest
from browser_helpers import needs_browser, offline_page, running_app
from test_security import injection_checkpoint

pytestmark = [needs_browser, pytest.mark.browser]


def test_an_injection_checkpoint_runs_no_script_through_bertviz(tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    path = tmp_path / "shared_model.safetensors"
    path.write_bytes(injection_checkpoint())
    dialogs: list[str] = []
    blocked: list[str] = []
    with running_app(tmp_path) as url, sync_playwright() as p, offline_page(p, blocked) as page:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{url}/runs")
        page.locator("input[type=file]").first.set_input_files(str(path))
        page.locator("input[value='shared model']").wait_for(timeout=60_000)  # its row on Your runs
        page.get_by_role("link", name="Attention", exact=True).first.click()  # the same session (goto starts anew)
        page.wait_for_selector(".js-plotly-plot", timeout=120_000)
        title = page.title()
        page.get_by_text("bertviz", exact=True).first.click()
        page.wait_for_selector("iframe", timeout=60_000)
        frame = page.frame_locator("iframe").first
        frame.locator("svg text").first.wait_for(timeout=60_000)  # bertviz drew the tokens
        page.wait_for_timeout(1500)
        inner = next(f for f in page.frames if f.url.startswith("data:"))
        shown = inner.evaluate("() => Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)")
        assert any(PAYLOAD_TEXT in text for text in shown), shown[:8]  # the token drawn as plain text
        reach = inner.evaluate("() => { try { return window.parent.document.title; } catch (e) { return 'blocked'; } }")
        assert reach == "blocked", "the bertviz frame must not reach the app's page"
        assert page.title() == title
    assert dialogs == [], f"a script ran: {dialogs}"
    assert blocked == [], f"the page tried to reach the internet: {blocked[:5]}"


PAYLOAD_TEXT = "onload=alert"
