"""Export figures as PNG, SVG (kaleido driving a local Chromium) and self-contained HTML.

One kaleido server is started per process and reused for every export (~0.3 s each instead of
~4 s for a fresh browser); a lock keeps concurrent sessions from sharing its reply queue. Without a
Chromium, PNG/SVG raise :class:`ExportUnavailable` saying how to get one; HTML always works and
embeds plotly.js, so the file opens offline.
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings

import plotly.graph_objects as go

from explorer.figures.theme import SLIDE_SIZE, themed

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
EXPORT_TIMEOUT_S = 60.0
_LOCK = threading.Lock()
_server_started = False


class ExportUnavailable(RuntimeError):
    """PNG/SVG export cannot run here (no Chromium); the message says how to fix it."""


def chromium_path() -> str | None:
    """The browser kaleido will drive: $BROWSER_PATH, else the first Chromium/Chrome on PATH."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit and os.path.exists(explicit):
        return explicit
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def image_export_available() -> bool:
    return chromium_path() is not None


NO_BROWSER_MESSAGE = (
    "PNG and SVG export needs a Chromium or Chrome browser on the server: on Debian/Ubuntu run "
    "`sudo apt-get install chromium` (or set BROWSER_PATH to a Chrome binary). HTML export works without it."
)


def _ensure_server() -> None:
    global _server_started
    if _server_started:
        return
    import kaleido

    path = chromium_path()
    if path is None:
        raise ExportUnavailable(NO_BROWSER_MESSAGE)
    os.environ.setdefault("BROWSER_PATH", path)
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)  # no CDN: plotly.js comes from the package
    _server_started = True


def export_image(fig: go.Figure, fmt: str = "png", slide: bool = False, scale: float = 2.0) -> bytes:
    """PNG or SVG bytes of ``fig`` in the app or slide theme (slides: 1600×900)."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"Image format must be png or svg, not {fmt!r}.")
    figure = themed(fig, slide)
    width, height = SLIDE_SIZE if slide else (figure.layout.width or 1000, figure.layout.height or 600)
    result: dict[str, bytes | BaseException] = {}

    def work() -> None:
        try:
            with warnings.catch_warnings():  # plotly passes options the shared server does not need
                warnings.simplefilter("ignore", UserWarning)
                result["image"] = figure.to_image(format=fmt, width=width, height=height,
                                                  scale=1.0 if fmt == "svg" else scale)
        except BaseException as err:  # handed to the caller below
            result["error"] = err

    with _LOCK:
        _ensure_server()
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(EXPORT_TIMEOUT_S)
    if worker.is_alive():
        raise ExportUnavailable(f"The image export did not finish within {EXPORT_TIMEOUT_S:.0f} s; try again.")
    if "error" in result:
        raise ExportUnavailable(f"The image export failed: {result['error']}")
    return result["image"]  # type: ignore[return-value]


def export_html(fig: go.Figure, slide: bool = False) -> str:
    """A standalone HTML page with plotly.js inlined (~4.8 MB): opens offline in any browser."""
    return themed(fig, slide).to_html(include_plotlyjs=True, full_html=True, include_mathjax=False,
                                      config={"displaylogo": False, "responsive": True})
