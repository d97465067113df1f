"""Server-side rerun time of the "Inside the recurrent cell" page when the user moves one time step, and the
time to record the gates once.

A 2-layer LSTM with 128 units (classifier on balanced brackets) reads a 256-token bracket string typed into the
page. Reruns are timed through streamlit.testing.v1.AppTest after moving the step slider (the gates are recorded
once; each step only re-slices them and updates the figure in place). ``record_ms`` is the median time of
``record_gates`` for that input. The "Whole sequence" view (heatmaps of every gate, re-sent on each step) is
timed too.

Last line: {"step_rerun_ms_p50": …, "step_rerun_ms_p95": …, "record_ms": …, ...}
"""

from __future__ import annotations

import random
import sys
import time

import _common
import torch
from _common import median, percentile, report, timed

sys.path.insert(0, str(_common.ROOT / "tests"))
from apptest_helpers import open_page, state

from explorer.analysis.gates import record_gates
from explorer.data.tasks import TaskSpec, make_task
from explorer.models import RecurrentConfig
from explorer.training.config import TrainConfig
from explorer.training.run import new_run

N_TOKENS = 256
MOVES = 40
RECORDS = 5


def make_run():
    data = make_task(TaskSpec(name="brackets", seq_len=20, n_train=512, n_val=64))
    cfg = RecurrentConfig(cell="lstm", d_vocab=data.tokenizer.vocab_size, d_embed=32, d_hidden=128, n_layers=2,
                          head="classifier", n_classes=2, pad_id=0)
    return new_run("bench LSTM 2×128", data, cfg, TrainConfig(max_steps=10))


def step_times(at, n_tokens: int) -> list[float]:
    rng = random.Random(0)
    out = []
    t = 0
    for _ in range(MOVES):
        t = min(n_tokens - 1, max(0, t + rng.choice([-1, 1, 1, 1, 5])))
        slider = at.slider(key="lstm.step")
        start = time.perf_counter()
        slider.set_value(t).run()
        out.append((time.perf_counter() - start) * 1000)
        assert not at.exception, at.exception
    return out


def main() -> None:
    torch.set_num_threads(1)
    text = "".join(random.Random(1).choice("()") for _ in range(N_TOKENS))
    at = open_page("lstm")
    run = make_run()
    state(at).add_run(run)
    at.run()
    at.radio(key=f"lstm.source.{run.id}").set_value("My own text").run()
    first = timed(lambda: at.text_area(key=f"lstm.text.{run.id}").set_value(text).run()) * 1000
    assert at.slider(key="lstm.step").max == N_TOKENS - 1
    ids = run.tokenizer.encode(text)
    record = median([timed(lambda: record_gates(run.model, ids)) * 1000 for _ in range(RECORDS)])
    steps = step_times(at, N_TOKENS)
    at.segmented_control(key="lstm.section").set_value("🗺️ Whole sequence").run()
    sequence = step_times(at, N_TOKENS)
    report({
        "step_rerun_ms_p50": round(percentile(steps, 50), 1), "step_rerun_ms_p95": round(percentile(steps, 95), 1),
        "record_ms": round(record, 1), "first_view_ms": round(first, 1),
        "sequence_step_rerun_ms_p50": round(percentile(sequence, 50), 1),
        "sequence_step_rerun_ms_p95": round(percentile(sequence, 95), 1),
        "n_tokens": N_TOKENS, "d_hidden": 128, "n_layers": 2,
    })


if __name__ == "__main__":
    main()
