"""A real browser (Playwright + Debian's Chromium) against ``streamlit run``, with the internet blocked."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from browser_helpers import curve_points, needs_browser, offline_page, running_app

pytestmark = [needs_browser, pytest.mark.browser]


@contextmanager
def lecture_lstm_training(tmp_path, blocked: list[str]):
    """The app in Chromium, offline, after the home page's one-click start: yields the page once a plot shows."""
    from playwright.sync_api import sync_playwright

    with running_app(tmp_path) as url, sync_playwright() as p, offline_page(p, blocked) as page:
        page.goto(url)
        page.get_by_role("button", name="Train the lecture's LSTM").click()
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        yield page


def test_one_click_training_grows_the_loss_curve_offline(tmp_path) -> None:
    blocked: list[str] = []
    with lecture_lstm_training(tmp_path, blocked) as page:
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0")
        first = curve_points(page)
        page.wait_for_timeout(4000)
        later = curve_points(page)
        # The lecture LSTM learns brackets in about 750 steps, a few seconds at full speed: the curve grows while
        # it trains; a curve that stood still must belong to a run that has stopped (learned), shown whole. The
        # Pause button is read after the wait, since the page redraws a finished run at the next live tick.
        if later == first:
            from playwright.sync_api import expect

            expect(page.get_by_role("button", name="Pause").first).to_be_disabled(timeout=10_000)
            assert first >= 100, first
        else:
            assert later > first > 0, (first, later)
        assert page.get_by_text("training", exact=False).count() > 0
    assert blocked == [], f"the app tried to reach the internet: {blocked[:5]}"


def test_loss_plot_downloads_as_a_slide_png(tmp_path) -> None:
    """The issue's 'done when': train, switch on the slide theme, download the loss plot as a PNG."""
    import struct
    from pathlib import Path

    blocked: list[str] = []
    with lecture_lstm_training(tmp_path, blocked) as page:
        from playwright.sync_api import expect

        pause = page.get_by_role("button", name="Pause").first
        if pause.is_enabled():  # still training: a finishing run redraws the page (and its menus)
            pause.click(force=True)  # no wait for it to be enabled: the run may finish meanwhile
        expect(pause).to_be_disabled(timeout=10_000)  # paused or finished, it no longer changes the page
        page.wait_for_timeout(1500)
        page.get_by_text("Slide theme for figures").click()
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Export").first.click()
        page.get_by_role("button", name="Render PNG").first.click()
        download_button = page.get_by_role("button", name="Download PNG")
        download_button.wait_for(timeout=90_000)  # the first export starts the warm browser
        with page.expect_download(timeout=30_000) as download:
            download_button.click()
        path = download.value.path()
        assert download.value.suggested_filename.endswith("_slide.png")
        data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (3200, 1800)  # 1600 × 900 slide at scale 2
    assert blocked == [], f"the app tried to reach the internet: {blocked[:5]}"


def test_tokens_and_forward_pages_draw_offline(tmp_path) -> None:
    """The 🔤 Tokens and 🧮 Forward pass pages, opened by their links with the internet blocked, draw figures."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with running_app(tmp_path) as url, sync_playwright() as p, offline_page(p, blocked) as page:
        for path, text in (("tokens", "From text to tokens"), ("forward", "One forward pass")):
            page.goto(f"{url}/{path}")
            page.get_by_text(text).first.wait_for(timeout=60_000)
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0",
                                   timeout=90_000)
        page.get_by_role("radio", name="One head").click()
        page.get_by_text("hook_resid_mid", exact=False).first.wait_for(timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 8", timeout=60_000)
    assert blocked == [], f"the app tried to reach the internet: {blocked[:5]}"
