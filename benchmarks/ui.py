"""Server-side rerun time of the Train page, idle and while training, and time to a healthy server.

Reruns are timed through streamlit.testing.v1.AppTest on the Train page with a run of 600 steps
(curves, predictions and the confusion matrix drawn). While training, the scheduler's worker thread trains in
the background of the same process (as on a server): the rerun times include that competition.
Startup: from ``streamlit run app.py`` to HTTP 200 on /_stcore/health.

Last line: {"rerun_ms_p50": …, "rerun_ms_p95": …, "startup_s": …, ...}
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import _common
from _common import percentile, report

sys.path.insert(0, str(_common.ROOT / "tests"))
from apptest_helpers import open_page, state

REPEATS = 30


def timed_reruns(at, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        at.run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def rerun_times() -> tuple[list[float], list[float]]:
    at = open_page()
    at.button(key="home.quick.lecture_lstm").click().run()
    run = state(at).current_run
    run.trainer.pause()
    run.trainer.step(n_steps=600)
    at.run()  # warm: first draw of curves and predictions
    idle = timed_reruns(at, REPEATS)
    run.trainer.keep_training()
    run.trainer.set_max_steps(10**6)
    run.trainer.start()
    training = timed_reruns(at, REPEATS)
    run.trainer.pause()
    return idle, training


def startup_seconds() -> float:
    port = 8765
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port)], cwd=_common.ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not become healthy within 60 s")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    idle, training = rerun_times()
    both = idle + training
    report({
        "rerun_ms_p50": round(percentile(both, 50), 1), "rerun_ms_p95": round(percentile(both, 95), 1),
        "idle_rerun_ms_p50": round(percentile(idle, 50), 1), "idle_rerun_ms_p95": round(percentile(idle, 95), 1),
        "training_rerun_ms_p50": round(percentile(training, 50), 1),
        "training_rerun_ms_p95": round(percentile(training, 95), 1),
        "startup_s": round(startup_seconds(), 2),
    })


if __name__ == "__main__":
    main()
