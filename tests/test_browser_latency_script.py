"""CI runs benchmarks/browser_latency.py once (with fewer repeats) to prove it still works against today's pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from browser_helpers import ROOT, needs_browser

KEYS = ("rnn_next_s", "rnn_first_render_s", "attention_512_s", "circuits_change_head_s", "umap_30_snapshots_s",
        "run_with_cache_ratio", "run_with_cache_patterns_ratio")


@needs_browser
def test_browser_latency_script_measures_every_action() -> None:
    env = {**os.environ, "BROWSER_LATENCY_REPEATS": "2"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "browser_latency.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for key in KEYS:
        assert key in figures, (key, figures)
        assert 0 < figures[key] < 300, (key, figures[key])
    for key in KEYS[:5]:  # the page's own clock runs inside the span Playwright sees around it
        assert figures[key] <= figures[key.removesuffix("_s") + "_playwright_s"], (key, figures)
