"""A whole session in one Chromium context at 1280×720, the internet blocked: a teacher trains the lecture LSTM,
steps through it, reads MiniLM's attention on a pasted text, visits other pages and comes back to find everything
as left; every token of a heatmap is labelled; a preset that needs more room than the session has says so and
closes nothing."""

from __future__ import annotations

import re

import pytest
from browser_helpers import needs_browser, offline_page, running_app

pytestmark = [needs_browser, pytest.mark.browser]

PASTED = "The teacher wrote the formula on the board and the students copied it into their notebooks."
TITLE_HAS = """([needle]) => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .some(el => el._fullLayout && JSON.stringify((el._fullLayout.title || {}).text || '').includes(needle))"""
PATTERN_TICKS = """() => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(el =>
        el._fullLayout && JSON.stringify((el._fullLayout.title || {}).text || '').startsWith('"Pattern'));
    if (!plots.length) return null;
    const el = plots[0];
    return {rows: el._fullData[0].y.length, labels: el.querySelectorAll('g.ytick text').length};
}"""


def settle(page, timeout: int = 120_000) -> None:
    page.wait_for_timeout(600)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                           "!document.querySelector('[data-stale=\"true\"]')", timeout=timeout)


def first_choice(page) -> str:
    """What the page's first selectbox (its model picker) shows."""
    return page.locator("[data-testid='stMain'] [data-testid='stSelectbox'] input[role=combobox]").first.input_value()


PATHS = {"Home": "", "Inside the RNN": "lstm", "Attention": "attention", "Circuits": "circuits",
         "Positions": "positions", "Your runs": "runs"}


def go(page, link: str) -> None:
    """A click in the sidebar: the same session (a reload would start anew); retried if a rerun swallowed it."""

    path = PATHS[link]
    for _ in range(3):
        page.get_by_role("link", name=link, exact=True).first.click()
        try:
            page.wait_for_url(re.compile(rf"/{path}(\?.*)?$"), timeout=10_000)
            break
        except Exception:
            settle(page)
    settle(page)


def test_a_teachers_session_keeps_everything_as_left(tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with running_app(tmp_path) as url, sync_playwright() as p, \
            offline_page(p, blocked, viewport={"width": 1280, "height": 720}) as page:
        page.goto(url)
        settle(page)
        page.get_by_role("button", name="Train the lecture's LSTM").click()
        page.wait_for_selector(".js-plotly-plot", timeout=90_000)
        settle(page)

        go(page, "Inside the RNN")
        page.wait_for_function(TITLE_HAS, arg=["Step t = 0"], timeout=60_000)
        settle(page)  # the page has finished drawing: "→" is the button the user sees, not one about to be replaced
        page.get_by_role("button", name="→").first.click()
        page.wait_for_function(TITLE_HAS, arg=["Step t = 1"], timeout=90_000)
        page.get_by_text("Whole sequence").first.click()
        settle(page)

        go(page, "Attention")
        assert "MiniLM" in first_choice(page)  # no transformer run yet
        box = page.locator("textarea").first
        box.fill(PASTED)
        box.press("Control+Enter")
        settle(page)
        ticks = page.evaluate(PATTERN_TICKS)
        assert ticks is not None and ticks["rows"] > 15
        assert ticks["labels"] == ticks["rows"], f"every token labelled: {ticks}"

        go(page, "Circuits")
        go(page, "Positions")
        go(page, "Attention")
        assert page.locator("textarea").first.input_value() == PASTED, "the pasted text is still there"
        assert "MiniLM" in first_choice(page)
        go(page, "Inside the RNN")
        assert page.get_by_text(re.compile("The whole input, layer")).count() > 0 or \
            page.evaluate(TITLE_HAS, ["The whole input"]), "the section chosen before is still chosen"

        go(page, "Your runs")
        assert page.locator("input[value^='Lecture lab LSTM']").count() == 1
        go(page, "Home")
        for name in ("Elman RNN (gap 40)", "GRU (gap 40)", "LSTM (gap 40)", "Tiny GPT (reverse)",
                     "Induction lab", "Positions: none"):
            page.get_by_role("button", name=f"⚡ {name}").click()
            settle(page)
        go(page, "Your runs")
        assert page.locator("[data-testid='stTextInput'] input").count() == 7
        go(page, "Positions")
        page.get_by_text("5 · What positions do").first.click()
        settle(page)
        assert page.get_by_text(re.compile("This needs 4 new runs and the session has room for 1")).count() > 0
        assert page.get_by_role("button", name=re.compile("Train the four variants")).is_disabled()
        go(page, "Your runs")
        assert page.locator("[data-testid='stTextInput'] input").count() == 7, "no run was closed"
    assert blocked == [], f"the app tried to reach the internet: {blocked[:5]}"
