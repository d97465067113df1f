"""All QK/OV circuits, copying and composition scores of MiniLM (6 layers × 12 heads), from its weights.

"All circuits": every head's factored W_QK and W_OV with their singular values and eigenvalues, the eigenvalues of
every full OV circuit W_E W_OV W_U (vocab 30,522, kept factored), copying scores, and Q-, K- and V-composition
between all 72 heads. One torch thread; the model is loaded first (not timed). The machine's CPU may be shared:
figures are indicative.

Last line: {"minilm_all_circuits_s": …, ...}
"""

from __future__ import annotations

import time

import _common  # noqa: F401  (import path)
import torch
from _common import median, report

from explorer.analysis.circuits import all_full_ov_eigenvalues, all_ov, all_qk, composition_scores, copying_scores
from explorer.models.pretrained import MINILM, load_pretrained

ROUNDS = 3


def all_circuits(model) -> dict[str, float]:
    """Each stage's seconds for one pass over every head."""
    seconds = {}
    start = time.perf_counter()
    qk, ov = all_qk(model), all_ov(model)
    _ = qk.S, ov.S, qk.svd(), ov.svd(), ov.eigenvalues
    seconds["spectra_s"] = time.perf_counter() - start
    start = time.perf_counter()
    all_full_ov_eigenvalues(model)
    seconds["full_ov_eigenvalues_s"] = time.perf_counter() - start
    start = time.perf_counter()
    copying_scores(model)
    seconds["copying_s"] = time.perf_counter() - start
    for kind in "QKV":
        start = time.perf_counter()
        composition_scores(model, kind)
        seconds[f"composition_{kind}_s"] = time.perf_counter() - start
    seconds["total_s"] = sum(seconds.values())
    return seconds


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    model = load_pretrained(MINILM)
    load_s = time.perf_counter() - start
    rounds = [all_circuits(model) for _ in range(ROUNDS)]
    figures = {f"median_{k}": round(median([r[k] for r in rounds]), 3) for k in rounds[0] if k != "total_s"}
    report({"model": MINILM, "threads": 1, "load_s": round(load_s, 2), **figures,
            "minilm_all_circuits_s": round(median([r["total_s"] for r in rounds]), 3)})


if __name__ == "__main__":
    main()
