"""Figure export: PNG and SVG are real images (slide theme 16:9), HTML opens offline; a broken browser
fails fast with a reason on the page and is started afresh next time."""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from typing import ClassVar

import pandas as pd
import pytest
from apptest_helpers import by_key, open_page
from PIL import Image

import explorer.figures.export as export
from explorer.figures.export import ExportBusy, ExportUnavailable, chromium_path, export_html, export_image
from explorer.figures.theme import SLIDE_SIZE, fit_dense_ticks, fixed_margins, themed
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


def test_fixed_margins_hold_in_the_app_and_a_slide_fits_its_own() -> None:
    """A figure redrawn on each click skips plotly's measure-and-redraw margins in the app; its slide export, in
    larger type, gets automatic margins again, and switching back restores the fixed ones."""
    fig = fixed_margins(_figure(), left=70, right=20, top=60, bottom=55)
    assert (fig.layout.margin.l, fig.layout.margin.t) == (70, 60) and fig.layout.xaxis.automargin is False
    slide = themed(fig, slide=True)
    assert slide.layout.margin.l is None and slide.layout.yaxis.automargin is None  # the template's: automatic
    fit_dense_ticks(fig, slide=True)
    fit_dense_ticks(fig, slide=False)
    assert fig.layout.margin.b == 55 and fig.layout.yaxis.automargin is False


def test_without_a_browser_png_export_says_how_to_get_one(monkeypatch) -> None:
    monkeypatch.setattr(export, "_server", None)
    monkeypatch.setattr(export, "chromium_path", lambda: None)
    with pytest.raises(ExportUnavailable, match="apt-get install chromium"):
        export.export_image(_figure(), "png")
    assert export.export_html(_figure())  # HTML still works


# ------------------------------------------------------------------ a browser that fails, hangs or is busy

def test_a_browser_that_cannot_start_fails_with_the_reason_and_is_retried_next_time(monkeypatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/bin/false")
    monkeypatch.setattr(export, "_server", None)
    starts = []
    real_start = export._Server.start
    monkeypatch.setattr(export._Server, "start", lambda self, timeout: starts.append(self) or real_start(self, timeout))
    for attempt in (1, 2):
        with pytest.raises(ExportUnavailable, match=r"start the browser /bin/false.*apt-get install chromium"):
            export_image(_figure(), "png")
        assert export._server is None  # not marked started: the next export does not wait on a dead browser
        assert len(starts) == attempt  # ...but starts a fresh one
    assert export_html(_figure())


def test_a_browser_that_hangs_at_start_times_out_and_its_process_is_ended(monkeypatch, tmp_path) -> None:
    hangs = tmp_path / "chromium"
    hangs.write_text("#!/bin/sh\nexec sleep 60\n")
    hangs.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(hangs))
    monkeypatch.setattr(export, "_server", None)
    monkeypatch.setattr(export, "START_TIMEOUT_S", 1.0)
    stopped = []
    real_stop = export._Server.stop
    monkeypatch.setattr(export._Server, "stop", lambda self, **kw: stopped.append(self) or real_stop(self, **kw))
    with pytest.raises(ExportUnavailable, match=r"no test image within 1 s.*apt-get install chromium"):
        export_image(_figure(), "svg")
    assert export._server is None and len(stopped) == 1
    stopped[0]._browser.subprocess.wait(15)  # the launcher (and the sleeping "browser" under it) is ended
    stopped[0]._thread.join(15)
    assert not stopped[0]._thread.is_alive()


class _FakeServer:
    """Stands in for the kaleido browser: ``renders`` says what each render does."""

    made: ClassVar[list[_FakeServer]] = []
    renders: ClassVar[list] = []

    def __init__(self, path: str) -> None:
        self.path, self.stopped = path, False
        _FakeServer.made.append(self)

    def start(self, timeout: float) -> None:
        pass

    def render(self, fig: dict, opts: dict, timeout: float) -> bytes:
        outcome = _FakeServer.renders.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self, wait: float = 0.0, graceful: bool = False) -> None:
        self.stopped = True


@pytest.fixture
def fake_server(monkeypatch):
    monkeypatch.setattr(export, "_server", None)
    monkeypatch.setattr(export, "_Server", _FakeServer)
    monkeypatch.setattr(export, "chromium_path", lambda: "/usr/bin/chromium")
    _FakeServer.made, _FakeServer.renders = [], []
    return _FakeServer


def test_a_render_that_times_out_drops_the_browser_and_the_next_export_starts_a_fresh_one(fake_server) -> None:
    from kaleido.errors import KaleidoError

    fake_server.renders = [b"first", TimeoutError(), b"second", KaleidoError(1, "bad figure"), b"third"]
    assert export_image(_figure(), "png") == b"first"
    with pytest.raises(ExportUnavailable, match="did not finish within"):
        export_image(_figure(), "png")
    assert fake_server.made[0].stopped and export._server is None
    assert export_image(_figure(), "png") == b"second"
    assert len(fake_server.made) == 2
    with pytest.raises(ExportUnavailable, match="bad figure"):  # the figure failed, not the browser: kept warm
        export_image(_figure(), "png")
    assert export_image(_figure(), "png") == b"third"
    assert len(fake_server.made) == 2 and not fake_server.made[1].stopped


def test_an_export_waits_only_so_long_for_another_sessions_export(fake_server, monkeypatch) -> None:
    monkeypatch.setattr(export, "LOCK_WAIT_S", 0.05)
    fake_server.renders = [b"image"]
    holder_has_lock, release = threading.Event(), threading.Event()

    def other_session() -> None:
        with export._LOCK:
            holder_has_lock.set()
            release.wait(10)

    other = threading.Thread(target=other_session)
    other.start()
    try:
        holder_has_lock.wait(10)
        with pytest.raises(ExportBusy, match="Another image export is in progress; try again"):
            export_image(_figure(), "png")
        assert fake_server.made == []  # it never touched the browser
    finally:
        release.set()
        other.join()
    assert export_image(_figure(), "png") == b"image"


# ------------------------------------------------------------------ the export popover on a page

FIGURE = "positions.sin.table"  # a figure the Positions page shows without a run


@pytest.fixture
def browser_at(monkeypatch):
    """Point the app at a browser path (a fresh export server, the cached availability forgotten)."""
    from explorer.ui import figure

    monkeypatch.setattr(export, "_server", None)
    figure._browser_available.clear()

    def use(path: str) -> None:
        monkeypatch.setenv("BROWSER_PATH", path)

    yield use
    figure._browser_available.clear()


def test_a_failed_png_export_shows_why_on_the_page(browser_at) -> None:
    browser_at("/bin/false")
    at = open_page("positions")
    at.button(key=f"png.{FIGURE}").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert any("start the browser /bin/false" in e and "apt-get install chromium" in e for e in errors), errors
    keys = {b.key for b in at.get("download_button")}
    assert f"image.{FIGURE}" not in keys and f"html.{FIGURE}" in keys  # HTML still offered


@needs_chromium
@pytest.mark.browser
def test_a_rendered_png_is_offered_until_the_theme_changes(browser_at) -> None:
    browser_at(chromium_path())
    at = open_page("positions")
    at.button(key=f"png.{FIGURE}").click().run()
    assert not at.exception and not at.error, [str(e.value) for e in at.error]
    assert by_key(at, "download_button", f"image.{FIGURE}").label == "Download PNG"
    at.run()  # kept across reruns
    assert by_key(at, "download_button", f"image.{FIGURE}")
    at.sidebar.toggle(key="sidebar.slide_theme").set_value(True).run()  # another theme: render again
    assert f"image.{FIGURE}" not in {b.key for b in at.get("download_button")}
