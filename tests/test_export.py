"""Figure export: PNG and SVG are real images (slide theme 16:9), HTML opens offline."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from PIL import Image

from explorer.figures.export import ExportUnavailable, chromium_path, export_html, export_image
from explorer.figures.theme import SLIDE_SIZE, themed
from explorer.figures.training import training_curves

needs_chromium = pytest.mark.skipif(chromium_path() is None,
                                    reason="PNG/SVG export needs Chromium (apt-get install chromium); CI installs it")


def _figure():
    frame = pd.DataFrame({"step": range(1, 51), "loss": [2.0 / s for s in range(1, 51)],
                          "accuracy": [min(1.0, s / 40) for s in range(1, 51)]})
    frame["val_loss"] = frame["loss"].where(frame["step"] % 10 == 0)
    return training_curves({"run": frame}, "loss")


@needs_chromium
def test_png_export_in_the_slide_theme_is_a_16_9_image() -> None:
    png = export_image(_figure(), "png", slide=True)
    image = Image.open(io.BytesIO(png))
    image.verify()
    width, height = Image.open(io.BytesIO(png)).size
    assert width / height == pytest.approx(16 / 9, rel=0.01) and width >= SLIDE_SIZE[0]


@needs_chromium
def test_svg_export_is_valid_svg() -> None:
    svg = export_image(_figure(), "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert b"Cross-entropy loss" in svg


def test_html_export_loads_nothing_from_the_internet() -> None:
    html = export_html(_figure(), slide=True)
    external_sources = re.findall(r"<script[^>]+src=[\"'](https?:)?//", html)
    assert external_sources == []
    assert "Plotly" in html and len(html) > 1_000_000  # plotly.js is inlined


def test_slide_theme_is_large_and_sixteen_by_nine() -> None:
    slide = themed(_figure(), slide=True)
    app = themed(_figure(), slide=False)
    assert (slide.layout.width, slide.layout.height) == SLIDE_SIZE
    assert slide.layout.template.layout.font.size >= 2 * app.layout.template.layout.font.size - 2


def test_without_a_browser_png_export_says_how_to_get_one(monkeypatch) -> None:
    import explorer.figures.export as export

    monkeypatch.setattr(export, "_server_started", False)
    monkeypatch.setattr(export, "chromium_path", lambda: None)
    with pytest.raises(ExportUnavailable, match="apt-get install chromium"):
        export.export_image(_figure(), "png")
    assert export.export_html(_figure())  # HTML still works
