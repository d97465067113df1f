"""The Positions page: what its computations cost, and the experiment's result at the page's default settings.

1. Trainer steps/s of each experiment variant (encoder-decoder, d_model 32, 4 heads, 1 layer, batch 64, reverse of
   length 8), one CPU thread; the wall time of the whole four-variant experiment follows from it.
2. The experiment itself at the page's defaults (600 steps): final validation token / whole-sequence accuracy per
   variant — the page's claim that no positions cannot reverse while rotary (and the others) can — and the
   accuracy on longer sequences (length generalisation).
3. Page computations: the sinusoid section at 512 positions × d 64 (table, distances, similarity, shift check),
   one token at 64 positions (PCA), attention-by-offset over 64 examples, MiniLM's 512 × 384 table (similarity + PCA).

Last line: {"steps_per_s_none": …, …, "experiment_s": …, "acc_none": …, "acc_rotary": …, …}
"""

from __future__ import annotations

import time

import _common  # noqa: F401  (import path)
import torch
from _common import median, report, timed

from explorer.analysis.positions.inputs import run_inputs
from explorer.analysis.positions.offsets import offset_profiles, self_attention_patterns
from explorer.analysis.positions.sinusoidal import (
    SinusoidSettings,
    closest_pair,
    cosine_similarity,
    nearest_distances,
    pca,
    shift_check,
    similarity_by_offset,
)
from explorer.analysis.positions.tables import token_at_positions
from explorer.models.positional import sinusoidal_table
from explorer.training.position_experiment import VARIANTS, ExperimentSpec, length_generalisation, make_runs


def experiment(figures: dict) -> None:
    spec = ExperimentSpec()  # the page's defaults: reverse, length 8, encoder-decoder, 600 steps
    runs = make_runs(spec)
    start = time.perf_counter()
    for run in runs:
        run.trainer.start()
        t0 = time.perf_counter()
        run.trainer.step(n_steps=spec.steps)
        figures[f"steps_per_s_{run.config.positional}"] = round(spec.steps / (time.perf_counter() - t0), 1)
        last = run.trainer.val_history[-1]
        figures[f"acc_{run.config.positional}"] = round(last["val_accuracy"], 3)
        figures[f"seq_acc_{run.config.positional}"] = round(last["val_sequence_accuracy"], 3)
    figures["experiment_s"] = round(time.perf_counter() - start, 1)
    group = {r.config.positional: r for r in runs}
    lengths = [spec.seq_len + 2, 2 * spec.seq_len, 2 * spec.seq_len + 2]
    frame = length_generalisation(group, spec, lengths)
    for row in frame.to_dict("records"):
        accuracy = row["token accuracy"]
        missing = accuracy is None or accuracy != accuracy  # None or NaN: a learned table too short for the length
        figures[f"len{row['length']}_acc_{row['positions']}"] = "n/a" if missing else round(accuracy, 3)
    inputs = run_inputs(group["rotary"], 64)
    figures["offsets_64_examples_s"] = round(median([timed(lambda: offset_profiles(
        self_attention_patterns(group["rotary"].model, *inputs.args), inputs.masks, 12)) for _ in range(5)]), 4)


def sinusoid_section(figures: dict) -> None:
    settings = SinusoidSettings(n_pos=512, d_model=64, base=10000.0)

    def section() -> None:
        table = sinusoidal_table(settings.n_pos, settings.d_model)
        closest_pair(table)
        nearest_distances(table)
        similarity_by_offset(cosine_similarity(table))
        shift_check(settings, 5)

    figures["sinusoid_section_512_s"] = round(median([timed(section) for _ in range(5)]), 4)
    table = sinusoidal_table(64, 64)
    E_rows = torch.randn(2, 64)
    figures["token_at_positions_s"] = round(median([timed(lambda: token_at_positions(E_rows, table, ["a", "b"]))
                                                     for _ in range(5)]), 4)


def minilm(figures: dict) -> None:
    from explorer.models.pretrained import MINILM, PRETRAINED_MODELS, load_pretrained

    if not PRETRAINED_MODELS[MINILM].installed():
        figures["minilm_table_s"] = "not installed"
        return
    start = time.perf_counter()
    model = load_pretrained(MINILM)
    figures["minilm_load_s"] = round(time.perf_counter() - start, 1)
    table = model.W_pos.detach().float()  # [512, 384]
    figures["minilm_table_s"] = round(median([timed(lambda: (cosine_similarity(table), pca(table, 3)))
                                              for _ in range(3)]), 4)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    figures: dict = {"variants": ",".join(VARIANTS)}
    sinusoid_section(figures)
    minilm(figures)
    experiment(figures)
    report(figures)


if __name__ == "__main__":
    main()
