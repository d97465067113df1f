"""``streamlit run app.py`` on a local port for a benchmark: started, waited for, measured (RSS with any worker
processes) and stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import _common
import psutil


class Server:
    def __init__(self, port: int, env: dict[str, str], args: tuple[str, ...] = ()):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(port), *args], cwd=_common.ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the server did not start")

    def rss_gb(self) -> float:
        proc = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**30

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time so far (user + system): the web server's own process, and all its descendants together
        (in class mode: Ray and its training hosts)."""
        proc = psutil.Process(self.proc.pid)

        def used(p: psutil.Process) -> float:
            try:
                times = p.cpu_times()
            except psutil.NoSuchProcess:
                return 0.0
            return times.user + times.system

        return used(proc), sum(used(child) for child in proc.children(recursive=True))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
