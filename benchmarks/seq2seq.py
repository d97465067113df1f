"""The bottleneck experiment of the Seq2seq page, as the page's one-click preset trains it.

On reverse with training lengths 4–12 (10 symbols, 20,000 examples), the same steps budget for each model (the
preset's 1,500 steps; goal: at most 3 minutes each on 2 cores): a GRU encoder–decoder without attention, the same
GRU with additive attention (both bidirectional encoders, 64 units), and a transformer encoder–decoder (2 layers,
d_model 64, sinusoidal positions). Then exact match on fresh examples of every length up to 24, and how much of the
attention model's weight sits on the mirrored source position (L − 1 − t) at the trained lengths.

Goals from issue 18: attention ≥ 30 points above no attention at length 20; mirror mass ≥ 0.8.

Measured once on a shared, busy 2-core machine (one torch thread): 17 s / 37 s / 72 s; exact match at length 12
(a trained length) 0.008 / 1.0 / 0.96, at length 16 0 / 0.05 / 0, at length 20 0 / 0 / 0 (token accuracy 0.50 /
0.65 / 0.18); mirror mass 0.58, the mirrored position gets the most weight 88 % of the time. So the bottleneck is
plain inside the trained lengths, but neither length-20 goal is met: past ~14 symbols every model meets encoder
states and decoder steps it never saw. Tried too (not kept): 3,000–4,000 steps, 128 units, a one-way encoder
(≈ 5 % at 20, but its alignment sits one position after the mirror: the state that has just read x_{L−t} also holds
x_{L−1−t}), an LSTM — none reached 30 % at length 20.

Last line: {"gru_none_len20": …, "gru_attention_len20": …, "transformer_len20": …, "attention_mirror_mass": …,
"seconds_each": {…}, …}
"""

from __future__ import annotations

import sys
import time

import _common  # noqa: F401  (import path)
import torch
from _common import report

from explorer.data.tasks import make_task
from explorer.training.bottleneck import (
    ADDITIVE,
    NONE,
    SPEC,
    STEPS,
    TRANSFORMER,
    accuracy_by_length,
    make_runs,
    mirror_mass,
)

KEYS = {NONE: "gru_none", ADDITIVE: "gru_attention", TRANSFORMER: "transformer"}


def main(steps: int = STEPS) -> None:
    torch.set_num_threads(1)  # as the app runs each server process (README: one torch thread)
    data = make_task(SPEC)
    figures: dict = {"steps": steps, "seconds_each": {}}
    for run in make_runs(data, steps=steps):
        key = KEYS[run.name]
        start = time.perf_counter()
        run.trainer.start()
        while run.trainer.is_running:
            run.trainer.step(time_budget_s=1.0)
        seconds = time.perf_counter() - start
        figures["seconds_each"][key] = round(seconds, 1)
        model = run.model.eval()
        by_length = accuracy_by_length(model).set_index("length")
        for length in (8, 12, 16, 20, 24):
            figures[f"{key}_len{length}"] = round(float(by_length.loc[length, "exact match"]), 3)
        figures[f"{key}_token_accuracy_len20"] = round(float(by_length.loc[20, "token accuracy"]), 3)
        if run.name == ADDITIVE:
            mirror = mirror_mass(model)
            figures["attention_mirror_mass"] = round(mirror["mass"], 3)
            figures["attention_mirror_argmax"] = round(mirror["argmax"], 3)
        print(f"{run.name}: {seconds:.0f} s, exact match by length {by_length['exact match'].round(3).to_dict()}",
              flush=True)
    gap = figures["gru_attention_len20"] - figures["gru_none_len20"]
    figures["attention_minus_none_len20"] = round(gap, 3)
    figures["goal_gap_len20_met"] = gap >= 0.30
    figures["goal_mirror_met"] = figures["attention_mirror_mass"] >= 0.8
    figures["goal_seconds_met"] = max(figures["seconds_each"].values()) <= 180
    report(figures)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else STEPS)
