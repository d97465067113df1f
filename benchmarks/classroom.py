"""A class on one server: N simulated students against ``streamlit run app.py`` on this machine.

Each student is a browserless client (benchmarks/st_client.py, Streamlit's own websocket protocol): it opens the
app, starts the lecture's LSTM from the Train page (a step target it will not reach, so every student trains for
the whole window), then every few seconds changes page or steps the RNN view (a click inside the stepper's
fragment, which, as in a browser, reruns that fragment only), and ticks the page's live fragments as a browser's
timers would. Ten seconds into the window one student in ten goes quiet (a hidden tab: no ticks, no clicks) and is
checked at the end. Printed for N = 1, 10, 30: errors, steps per student (min / median / max,
min ÷ median), rerun round trips p50/p95 (client-measured: server time plus the local transfer), server RSS
(with any worker processes), the CPU of the web server and of its training processes, the simulator's own CPU,
and the throughput of all students together against two bare training processes of the same model on this
machine (the machine's limit). Also: opening a ready-trained model from Home and reaching the gates view while the
students train (a latecomer's fresh session).

The server runs as the README's "For a class" serves one: class mode (its limits, training in Ray worker processes,
one per core); CLASSROOM_CLASS_MODE=0 measures the laptop default (training threads in the server process).

Last line: one JSON object (n30_errors, n30_fairness, n30_rerun_p95_s, n30_rss_gb, n30_throughput_ratio,
instant_open_s, simulator_cpu_share, …). Environment: CLASSROOM_SECONDS (default 120), CLASSROOM_SIZES ("1,10,30").
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field

import _common
import psutil
from _common import percentile, report
from st_client import StreamlitClient
from st_server import Server

WINDOW_S = float(os.environ.get("CLASSROOM_SECONDS", 120))
SIZES = [int(n) for n in os.environ.get("CLASSROOM_SIZES", "1,10,30").split(",")]
STEP_PATTERN = re.compile(r"step ([\d,]+)\s*/")
PRESET = "Lecture lab LSTM"
PREFIX = f"model.{PRESET}.brackets.classification"
ACTIONS = ("lstm", "step", "train", "lstm", "step", "runs")
STEP_TARGET = 20_000  # class mode's most steps per run; nobody reaches it in the window
SERVER_ENV = {"HF_HUB_OFFLINE": "1", "EXPLORER_CLASS_MODE": os.environ.get("CLASSROOM_CLASS_MODE", "1")}


def _bare_process(seconds: float, queue) -> None:
    """One bare training process: the lecture LSTM on brackets with the app's trainer, no server."""
    sys.path.insert(0, str(_common.ROOT))
    import dataclasses

    import torch

    torch.set_num_threads(1)
    from explorer.data.tasks import TaskSpec, make_task
    from explorer.training.presets import PRESETS
    from explorer.training.run import new_run

    data = make_task(TaskSpec(name="brackets", seq_len=20))
    model_cfg, train_cfg = PRESETS[PRESET].build(data)
    run = new_run("bare", data, model_cfg, dataclasses.replace(train_cfg, max_steps=10**6))
    run.trainer.step(n_steps=20)  # warm
    start, first = time.perf_counter(), run.step
    while time.perf_counter() - start < seconds:
        run.trainer.step(time_budget_s=0.2)
    queue.put((run.step - first) / (time.perf_counter() - start))


def bare_throughput(seconds: float = 15.0) -> float:
    """Steps per second of two bare training processes together (the most two cores give this model)."""
    queue = multiprocessing.get_context("spawn").Queue()
    procs = [multiprocessing.get_context("spawn").Process(target=_bare_process, args=(seconds, queue))
             for _ in range(2)]
    for proc in procs:
        proc.start()
    rates = [queue.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join()
    return sum(rates)


@dataclass
class Student:
    client: StreamlitClient
    quiet_from: float | None = None  # a hidden tab from this time on
    errors: list[str] = field(default_factory=list)
    reruns: list[float] = field(default_factory=list)
    first_step: int | None = None
    last_step: int = 0
    page: object = None  # what the last page change or click drew (a browser's page; a timer's tick leaves it)

    def record(self, result) -> None:
        if not result.finished:
            self.errors.append("a script run did not finish in time")
        self.errors += result.exceptions
        for text in result.progress:
            if match := STEP_PATTERN.search(text):
                step = int(match.group(1).replace(",", ""))
                self.last_step = max(self.last_step, step)
                self.first_step = step if self.first_step is None else self.first_step


def start_training(student: Student) -> None:
    """Train page → brackets → the lecture LSTM with a step target it will not reach → Train."""
    c = student.client
    student.record(c.open_page())
    result = c.open_page("train")
    result = c.set_value(result, "data.task", "Balanced brackets")
    result = c.set_value(result, "model.preset", PRESET)
    result = c.set_value(result, f"{PREFIX}.max_steps", float(STEP_TARGET))
    student.record(c.click(result, "train.create"))


def act(student: Student, rng: random.Random) -> None:
    c = student.client
    action = rng.choice(ACTIONS)
    start = time.perf_counter()
    if action == "step" and student.page is not None and "lstm.forward" in student.page.widgets:
        result = c.click(student.page, "lstm.forward")  # inside the stepper's fragment: that fragment reruns
    else:
        result = c.open_page(action if action != "step" else "lstm")
    student.reruns.append(time.perf_counter() - start)
    student.record(result)
    student.page = result


def play(student: Student, seed: int, until: float, window_start: float) -> None:
    rng = random.Random(seed)
    next_action = time.monotonic() + rng.uniform(1, 4)
    next_ticks: dict[str, float] = {}
    try:
        while time.monotonic() < until:
            now = time.monotonic()
            if student.quiet_from is not None and now - window_start >= student.quiet_from:
                time.sleep(0.2)  # a hidden tab: the browser sends nothing
                continue
            for fragment, interval in list(student.client.auto_reruns.items()):
                if now >= next_ticks.setdefault(fragment, now + interval):
                    next_ticks[fragment] = now + interval
                    student.record(student.client.tick(fragment))
            if now >= next_action:
                act(student, rng)
                next_action = time.monotonic() + rng.uniform(3, 6)
                next_ticks.clear()
            time.sleep(0.05)
    except Exception as err:  # a broken connection is a result to report, not a crash of the benchmark
        student.errors.append(f"{type(err).__name__}: {err}")


def instant_open(url: str) -> tuple[float, list[str]]:
    """A latecomer: open the app, click the ready-trained lecture LSTM on Home, then reach the gates view."""
    client = StreamlitClient(url, timeout=120)
    try:
        start = time.perf_counter()
        home = client.open_page()
        opened = client.click(home, "home.asset.lecture_lstm")
        gates = client.open_page("lstm")
        seconds = time.perf_counter() - start
        problems = home.exceptions + opened.exceptions + gates.exceptions
        if not gates.finished or "lstm.forward" not in gates.widgets:
            problems.append("the gates view did not appear")
        return seconds, problems
    finally:
        client.close()


def final_steps(student: Student) -> int:
    """The run's step now (one sidebar tick), also for a quiet student."""
    try:
        student.record(student.client.open_page("runs"))
    except Exception as err:
        student.errors.append(f"{type(err).__name__}: {err}")
    return student.last_step


def session(n: int, port: int, bare: float) -> dict:
    server = Server(port, SERVER_ENV)
    me = psutil.Process()
    try:
        students = [Student(StreamlitClient(server.url, timeout=120)) for _ in range(n)]
        setup = [threading.Thread(target=start_training, args=(s,)) for s in students]
        for thread in setup:
            thread.start()
        for thread in setup:
            thread.join()
        for k, student in enumerate(students):
            if k % 10 == 9 or n == 1:  # a hidden tab (alone: the only student, after 10 s)
                student.quiet_from = 10.0
        cpu_before, server_before = me.cpu_times(), server.cpu_seconds()
        start = time.monotonic()
        rss_peak = server.rss_gb()
        first = [final_steps(s) for s in students]
        threads = [threading.Thread(target=play, args=(s, k, start + WINDOW_S, start)) for k, s in enumerate(students)]
        for thread in threads:
            thread.start()
        time.sleep(min(20.0, WINDOW_S / 3))  # everyone is training now
        instant_s, instant_problems = instant_open(server.url)
        while any(t.is_alive() for t in threads):
            rss_peak = max(rss_peak, server.rss_gb())
            time.sleep(2)
        elapsed = time.monotonic() - start
        last = [final_steps(s) for s in students]
        cpu_after, server_after = me.cpu_times(), server.cpu_seconds()
        steps = [b - a for a, b in zip(first, last)]
        reruns = [r for s in students for r in s.reruns]
        errors = [e for s in students for e in s.errors] + instant_problems
        quiet = [steps[k] for k, s in enumerate(students) if s.quiet_from is not None]
        median = statistics.median(steps) if steps else 0
        sim_cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / elapsed
        for s in students:
            s.client.close()
        return {"errors": len(errors), "error_examples": errors[:3], "steps_min": min(steps), "steps_median": median,
                "steps_max": max(steps), "fairness": round(min(steps) / median, 3) if median else 0.0,
                "rerun_p50_s": round(percentile(reruns, 50), 3) if reruns else None,
                "rerun_p95_s": round(percentile(reruns, 95), 3) if reruns else None,
                "rss_gb": round(rss_peak, 2), "throughput_ratio": round(sum(steps) / elapsed / bare, 3),
                "hidden_tab_steps_min": min(quiet) if quiet else None,
                "simulator_cpu_cores": round(sim_cpu, 3),
                "web_server_cpu_cores": round((server_after[0] - server_before[0]) / elapsed, 2),
                "training_cpu_cores": round((server_after[1] - server_before[1]) / elapsed, 2),
                "instant_open_s": round(instant_s, 2)}
    finally:
        server.stop()


def main() -> None:
    bare = bare_throughput()
    figures: dict = {"bare_two_processes_steps_per_s": round(bare, 1), "window_s": WINDOW_S,
                     "class_mode": SERVER_ENV["EXPLORER_CLASS_MODE"] == "1"}
    for k, n in enumerate(SIZES):
        result = session(n, 8870 + k, bare)
        print(f"N = {n}: {result}", flush=True)
        for key, value in result.items():
            figures[f"n{n}_{key}"] = value
    figures["simulator_cpu_share"] = figures.get(f"n{SIZES[-1]}_simulator_cpu_cores")
    figures["instant_open_s"] = figures.get(f"n{SIZES[-1]}_instant_open_s")
    report(figures)


if __name__ == "__main__":
    main()
