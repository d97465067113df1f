"""Replicas behind nginx (deploy/replicas.sh): each browser stays on its replica across reruns and page changes,
and both train."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest
from browser_helpers import LAUNCH_ARGS, ROOT, free_port, needs_browser

pytestmark = [needs_browser, pytest.mark.browser,
              pytest.mark.skipif(shutil.which("nginx") is None, reason="no nginx: apt-get install nginx")]


def _replica_of(page) -> str:
    text = page.get_by_text(re.compile(r"Server: replica_\d")).first.inner_text(timeout=60_000)
    return re.search(r"replica_\d", text).group(0)


def _step(page) -> int:
    text = page.get_by_text(re.compile(r"step \d+/")).first.inner_text(timeout=60_000)
    return int(re.search(r"step (\d+)/", text).group(1))


def test_two_browsers_stay_on_their_replicas_and_both_train(tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    port, base = free_port(), free_port()
    env = {**os.environ, "EXPLORER_REPLICA_BASE_PORT": str(base), "EXPLORER_CACHE_DIR": str(tmp_path / "cache"),
           "HF_HUB_OFFLINE": "1", "PYTHON": str(ROOT / ".venv" / "bin" / "python")
           if (ROOT / ".venv" / "bin" / "python").exists() else "python3"}
    proc = subprocess.Popen([str(ROOT / "deploy" / "replicas.sh"), "2", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("nginx did not come up: " + (proc.stdout.read() if proc.poll() is not None else ""))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=LAUNCH_ARGS)
            seen = {}
            for replica in ("replica_0", "replica_1"):
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                context.add_cookies([{"name": "explorer_replica", "value": replica, "url": url}])
                page = context.new_page()
                page.goto(url)
                page.get_by_role("button", name="Train the lecture's LSTM").click()
                page.wait_for_selector(".js-plotly-plot", timeout=90_000)
                assert _replica_of(page) == replica
                page.get_by_role("link", name="Inside the RNN", exact=True).first.click()
                page.wait_for_selector(".js-plotly-plot", timeout=90_000)
                assert _replica_of(page) == replica, "the session stayed on its replica after a page change"
                seen[replica] = (page, _step(page))
            fresh = browser.new_context().new_page()  # no cookie: nginx picks one and sticks to it
            fresh.goto(url)
            first = _replica_of(fresh)
            fresh.reload()
            assert _replica_of(fresh) == first
            for replica, (page, step) in seen.items():
                page.wait_for_timeout(1500)
                assert _step(page) > step or _step(page) > 0, f"{replica} trains"
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
