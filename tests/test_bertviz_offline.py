"""bertviz rendered offline: no external script source, and (in a real browser with the internet blocked) it draws."""

from __future__ import annotations

import re

import pytest
import torch
from browser_helpers import needs_browser, offline_page, running_app

from explorer.analysis.attention import record_attention
from explorer.analysis.bertviz_offline import MAX_TOKENS, bertviz_html, make_offline
from explorer.models import TransformerConfig, build_model

EXTERNAL_SRC = re.compile(r"<script[^>]*\bsrc\s*=", re.I)


def _sets(encoder_decoder: bool = False, n: int = 6):
    cfg = TransformerConfig(d_vocab=12, n_ctx=256, d_model=16, n_heads=2, n_layers=2, d_mlp=32,
                            encoder_decoder=encoder_decoder, causal=True, positional="sinusoidal")
    model = build_model(cfg).eval()
    tokens = torch.randint(4, 12, (1, n))
    if encoder_decoder:
        return record_attention(model, tokens, [f"s{i}" for i in range(n)], causal=False,
                                decoder_tokens=torch.randint(4, 12, (1, 4)), decoder_str=list("wxyz"))
    return record_attention(model, tokens, [f"t{i}" for i in range(n)], causal=True)


def _assert_offline(html: str) -> None:
    assert not EXTERNAL_SRC.search(html), "no <script src=…>: nothing loads from a CDN"
    assert "cdnjs" not in html and "require.min.js" not in html
    assert "window.requirejs" in html and "jQuery" in html and "d3" in html


@pytest.mark.parametrize("view", ["head", "model"])
def test_bertviz_html_has_no_external_script(view: str) -> None:
    html, note = bertviz_html(_sets(), view)
    _assert_offline(html)
    assert note == "" and '"t0"' in html


def test_bertviz_encoder_decoder_shows_all_three_attentions() -> None:
    html, _ = bertviz_html(_sets(encoder_decoder=True), "head")
    _assert_offline(html)
    for name in ("Encoder", "Decoder", "Cross"):
        assert name in html


def test_long_inputs_are_cut_to_a_span_with_a_note() -> None:
    html, note = bertviz_html(_sets(n=MAX_TOKENS + 40), "head", start=30)
    assert f"Tokens 30–{30 + MAX_TOKENS - 1}" in note
    assert '"t30"' in html and '"t29"' not in html


def test_unexpected_bertviz_output_is_an_error() -> None:
    from explorer.analysis.bertviz_offline import BertvizUnavailable

    with pytest.raises(BertvizUnavailable):
        make_offline("<div>no scripts</div>")


@needs_browser
@pytest.mark.browser
def test_bertviz_draws_with_the_internet_blocked(tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with running_app(tmp_path) as url, sync_playwright() as p, offline_page(p, blocked) as page:
        page.goto(f"{url}/attention")
        page.wait_for_selector(".js-plotly-plot", timeout=120_000)
        page.get_by_text("bertviz", exact=True).first.click()
        page.wait_for_selector("iframe", timeout=60_000)
        frame = page.frame_locator("iframe").first
        frame.locator("svg text").first.wait_for(timeout=60_000)  # d3 drew the tokens
        assert frame.locator("svg text").count() > 10
        assert frame.locator("svg line, svg path").count() > 10  # and the attention lines
    assert blocked == [], f"the page tried to reach the internet: {blocked[:5]}"
