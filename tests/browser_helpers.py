"""Start the real app with ``streamlit run`` and drive it with Playwright and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium (CI installs it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(tmp_path: Path):
    """``streamlit run app.py`` on a free port; yields the base URL; stops the server afterwards."""
    port = free_port()
    env = {**os.environ, "EXPLORER_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1",
           "EXPLORER_DEVICE": "cpu"}
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not become healthy: " + (tmp_path / "streamlit.log").read_text())
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextmanager
def offline_page(playwright, blocked: list[str], viewport: dict | None = None):
    """A Chromium page whose requests outside localhost are aborted and recorded in ``blocked``."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1000})

    def route(request_route):
        host = request_route.request.url.split("/")[2] if "://" in request_route.request.url else ""
        if host.startswith(("127.0.0.1", "localhost")) or request_route.request.url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    try:
        yield page
    finally:
        browser.close()


def curve_points(page) -> int:
    """The most x values in any plotly trace on the page (0 when no chart is drawn yet)."""
    return page.evaluate(
        "() => Math.max(0, ...Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".flatMap(el => (el._fullData || []).map(t => (t.x && t.x.length) || 0)))"
    )
