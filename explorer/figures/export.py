"""Export figures as PNG, SVG (kaleido driving a local Chromium) and self-contained HTML.

One kaleido browser is started per process and kept warm for every export (~0.3 s each instead of
~4 s for a fresh browser). It runs on an event loop of its own, so every wait has a deadline: the
start (which includes a tiny test render, so a browser that launches but cannot render counts as
failed) and each render. After a failure or a timeout the browser is thrown away and the next export
starts a fresh one instead of waiting on a dead one. A lock keeps concurrent sessions from sharing
the browser; it is acquired with a timeout, so a slow export makes others fail with "try again"
rather than queue behind it. Without a working Chromium, PNG/SVG raise :class:`ExportUnavailable`
saying how to get one; HTML always works and embeds plotly.js, so the file opens offline.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import shutil
import threading
from collections.abc import Coroutine
from typing import Any

import plotly.graph_objects as go

from explorer.figures.theme import SLIDE_SIZE, themed

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
START_TIMEOUT_S = 30.0  # launch Chromium, load plotly.js into its page and render a test image
EXPORT_TIMEOUT_S = 30.0  # one render; a normal figure takes well under a second
LOCK_WAIT_S = 10.0  # how long an export waits for another session's export before giving up
_LOCK = threading.Lock()
_log = logging.getLogger(__name__)
_server: _Server | None = None  # the warm browser, once it has rendered its test image

INSTALL_HINT = ("on Debian/Ubuntu run `sudo apt-get install chromium` (or set BROWSER_PATH to a Chrome binary). "
                "HTML export works without it.")
NO_BROWSER_MESSAGE = f"PNG and SVG export needs a Chromium or Chrome browser on the server: {INSTALL_HINT}"
BUSY_MESSAGE = "Another image export is in progress; try again in a moment."
_PROBE = {"data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}], "layout": {}}
_PROBE_OPTS = {"format": "png", "width": 20, "height": 20, "scale": 1}


class ExportUnavailable(RuntimeError):
    """PNG/SVG export cannot run here or failed; the message says why and how to fix it."""


class ExportBusy(ExportUnavailable):
    """Another session's image export holds the browser; try again shortly."""


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


def _reason(err: BaseException) -> str:
    """The first line of an error (choreographer's run to several lines of advice that does not apply)."""
    text = str(err.args[0]) if len(err.args) > 1 else str(err)
    return (text.strip().splitlines() or [type(err).__name__])[0]


class _Server:
    """One Chromium driven by kaleido, on an asyncio loop in a daemon thread: every call has a deadline."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._browser: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="kaleido-export", daemon=True)
        self._thread.start()

    def _run_loop(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:  # after stop(): end what choreographer left running, then free the loop
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Run ``coro`` on the browser's loop; on timeout cancel it and raise TimeoutError."""
        outcome: concurrent.futures.Future = concurrent.futures.Future()
        started: list[asyncio.Task] = []

        def settle(task: asyncio.Task) -> None:  # also marks an error after a timeout as seen
            if task.cancelled():
                outcome.cancel()
            elif task.exception() is not None:
                outcome.set_exception(task.exception())
            else:
                outcome.set_result(task.result())

        def begin() -> None:
            started.append(self._loop.create_task(coro))
            started[0].add_done_callback(settle)

        self._loop.call_soon_threadsafe(begin)
        try:
            return outcome.result(timeout)
        except concurrent.futures.TimeoutError:
            self._loop.call_soon_threadsafe(lambda: [task.cancel() for task in started])
            raise TimeoutError from None

    def start(self, timeout: float) -> None:
        """Launch the browser and render a test image; raises if either fails or takes over ``timeout`` s."""
        import kaleido

        async def open_and_probe() -> None:
            # No MathJax (it would come from a CDN); plotly.js comes from the plotly package.
            self._browser = kaleido.Kaleido(path=self.path, mathjax=False, timeout=EXPORT_TIMEOUT_S)
            await self._browser.open()
            await self._browser.calc_fig(_PROBE, opts=_PROBE_OPTS)

        self._call(open_and_probe(), timeout)

    def render(self, fig: dict, opts: dict, timeout: float) -> bytes:
        return self._call(self._browser.calc_fig(fig, opts=opts), timeout)

    def stop(self, wait: float = 0.0, graceful: bool = False) -> None:
        """End the browser and the loop in the background, waiting up to ``wait`` s.

        ``graceful`` asks a healthy browser to close; otherwise (a browser that failed or hung) its
        process is terminated first, since choreographer would wait on or give up on one that does not answer.
        """

        async def shutdown() -> None:
            browser = self._browser
            process = getattr(browser, "subprocess", None)
            try:
                if process is not None and not graceful and process.poll() is None:
                    process.terminate()  # choreographer's launcher passes it on to Chromium
                    await asyncio.to_thread(process.wait, 6)
                if browser is not None:  # also cleans up its temporary profile
                    await asyncio.wait_for(browser.close(), 10)
            except (Exception, asyncio.CancelledError) as err:  # a browser that never started may not close cleanly
                _log.info("kaleido browser did not close cleanly: %s", _reason(err))
            finally:
                if process is not None and process.poll() is None:
                    process.kill()
                asyncio.get_running_loop().stop()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        except RuntimeError:  # the loop is already closed
            return
        self._thread.join(wait)


def _start_server() -> _Server:
    """A browser that has rendered its test image, or :class:`ExportUnavailable` saying why not."""
    path = chromium_path()
    if path is None:
        raise ExportUnavailable(NO_BROWSER_MESSAGE)
    server = _Server(path)
    try:
        server.start(START_TIMEOUT_S)
    except TimeoutError:
        server.stop()
        raise ExportUnavailable(
            f"PNG and SVG export could not start the browser {path}: no test image within {START_TIMEOUT_S:.0f} s. "
            f"Try again; if it keeps failing, {INSTALL_HINT}") from None
    except Exception as err:
        server.stop()
        raise ExportUnavailable(
            f"PNG and SVG export could not start the browser {path} ({_reason(err)}). To get a working one, "
            f"{INSTALL_HINT}") from err
    return server


def _discard_server() -> None:
    global _server
    server, _server = _server, None
    if server is not None:
        server.stop()


def _render(fig: dict, opts: dict) -> bytes:
    """Render on the warm browser (starting it if needed); caller holds ``_LOCK``."""
    global _server
    from kaleido.errors import JavascriptError, KaleidoError

    if _server is None:
        _server = _start_server()
    try:
        return _server.render(fig, opts, EXPORT_TIMEOUT_S)
    except TimeoutError:
        _discard_server()  # it may be wedged: the next export starts a fresh one
        raise ExportUnavailable(f"The image export did not finish within {EXPORT_TIMEOUT_S:.0f} s; "
                                "the browser was restarted, try again.") from None
    except (KaleidoError, JavascriptError) as err:  # the figure failed, the browser is fine
        raise ExportUnavailable(f"The image export failed: {_reason(err)}") from err
    except Exception as err:
        _discard_server()
        raise ExportUnavailable(f"The image export failed ({_reason(err)}); the browser was restarted, "
                                "try again.") from err


def export_image(fig: go.Figure, fmt: str = "png", slide: bool = False, scale: float = 2.0) -> bytes:
    """PNG or SVG bytes of ``fig`` in the app or slide theme (slides: 1600×900).

    Raises :class:`ExportUnavailable` (with a message for the page) when there is no working browser, the
    render fails or times out, and :class:`ExportBusy` when another export holds the browser too long.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"Image format must be png or svg, not {fmt!r}.")
    figure = themed(fig, slide)
    width, height = SLIDE_SIZE if slide else (figure.layout.width or 1000, figure.layout.height or 600)
    opts = {"format": fmt, "width": width, "height": height, "scale": 1.0 if fmt == "svg" else scale}
    spec = figure.to_dict()
    if not _LOCK.acquire(timeout=LOCK_WAIT_S):
        raise ExportBusy(BUSY_MESSAGE)
    try:
        return _render(spec, opts)
    finally:
        _LOCK.release()


@atexit.register
def _close_at_exit() -> None:
    server = _server
    if server is not None:
        server.stop(wait=5, graceful=True)


def export_html(fig: go.Figure, slide: bool = False) -> str:
    """A standalone HTML page with plotly.js inlined (~4.8 MB): opens offline in any browser."""
    return themed(fig, slide).to_html(include_plotlyjs=True, full_html=True, include_mathjax=False,
                                      config={"displaylogo": False, "responsive": True})
