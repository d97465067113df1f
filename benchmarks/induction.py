"""Train the induction-head lab's model from scratch on the CPU and report when its induction head forms.

The lab run exactly as the page's button creates it (2 attention-only layers × 4 heads, d_model 64, Adam 1e-3,
batch 64), one torch thread. Every 50 steps the induction score of every head is measured on the lab's fixed
probe (32 random sequences of 16 symbols shown twice); training stops at the lab's step target or after
TIME_BUDGET_S seconds of training. ``seconds`` counts training only (not the measurements). The CPU may be shared
with other work: the figures are indicative.

Last line: {"best_induction_score": …, "seconds": …, "steps": …, "seconds_to_0.5": …, "steps_to_0.5": …}
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (import path)
import torch
from _common import report

from explorer.analysis.induction import measure_induction
from explorer.training.induction_lab import LabSpec, create_lab_run, lab_probe, lab_task

TIME_BUDGET_S = 120.0
CHUNK = 50
THRESHOLD = 0.5


def train_once(seed: int) -> dict[str, float | int | None]:
    spec = LabSpec()
    start = time.perf_counter()
    run = create_lab_run(data=lab_task(spec), spec=spec, seed=seed)
    setup_s = time.perf_counter() - start
    probe = lab_probe(spec)
    trainer = run.trainer
    trainer.start()
    seconds, reached, score = 0.0, None, 0.0
    while trainer.is_running and seconds < TIME_BUDGET_S:
        seconds += trainer.step(n_steps=CHUNK).seconds
        measured = measure_induction(run.model, probe)
        score = float(measured.induction[1:].max())  # heads of layer 1 (layer 0 cannot be an induction head)
        if reached is None and score >= THRESHOLD:
            reached = (round(seconds, 1), trainer.step_count)
        print(f"seed {seed} step {trainer.step_count:5d} {seconds:6.1f}s induction {score:.3f} "
              f"loss first/repeat {measured.loss_first:.2f}/{measured.loss_second:.2f}", flush=True)
    return {"best_induction_score": round(score, 3), "seconds": round(seconds, 1), "steps": trainer.step_count,
            "seconds_to_0.5": reached[0] if reached else None, "steps_to_0.5": reached[1] if reached else None,
            "setup_s": round(setup_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=1, help="train this many seeds (0, 1, …); report the first")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = [train_once(seed) for seed in range(args.seeds)]
    extra = {f"seed{i}_seconds_to_0.5": r["seconds_to_0.5"] for i, r in enumerate(results[1:], start=1)}
    report({"threads": 1, **results[0], **extra})


if __name__ == "__main__":
    main()
