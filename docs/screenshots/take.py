"""Screenshots of every page at 1280×720 (`make screenshots`): the app in Debian's Chromium, the internet blocked,
walked as one session — open ready-trained models, then visit each page and its main sections.

Writes docs/screenshots/<page>.png (and <page>_<section>.png for a few sections) so that layout changes show in
review. Needs Chromium (apt-get install chromium fonts-noto-color-emoji) and playwright (pip).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_helpers import offline_page, running_app  # noqa: E402

VIEWPORT = {"width": 1280, "height": 720}
SHOTS = [  # (file, page link text, section to click or None)
    ("home", "Home", None),
    ("train", "Train", None),
    ("lstm", "Inside the RNN", None),
    ("lstm_sequence", "Inside the RNN", "Whole sequence"),
    ("attention", "Attention", None),
    ("attention_grid", "Attention", "Grid"),
    ("circuits", "Circuits", None),
    ("circuits_lab", "Circuits", "Induction-head lab"),
    ("positions", "Positions", None),
    ("embeddings", "Embeddings", None),
    ("compare", "Compare runs", None),
    ("runs", "Your runs", None),
]


def settle(page, timeout: int = 90_000) -> None:
    """Wait until Streamlit has finished the run (nothing stale, no running status) and the figures are drawn."""
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                           "!document.querySelector('[data-stale=\"true\"]')", timeout=timeout)
    page.wait_for_timeout(1500)


def main() -> None:
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp)) as url, sync_playwright() as p, \
            offline_page(p, blocked, viewport=VIEWPORT) as page:
        page.goto(url)
        settle(page)
        for name in ("Lecture LSTM (brackets)", "Tiny GPT (reverse)", "Induction lab"):
            page.get_by_role("button", name=f"⚡ {name}").click()
            settle(page)
        for file, link, section in SHOTS:
            page.get_by_role("link", name=link, exact=True).first.click()
            settle(page)
            if section:
                page.get_by_text(section).first.click()
                settle(page)
            page.screenshot(path=str(HERE / f"{file}.png"))
            print(f"{file}.png", flush=True)
    if blocked:
        raise SystemExit(f"the app tried to reach the internet: {blocked[:5]}")


if __name__ == "__main__":
    main()
