"""The first deck's "if the biggest eigenvalue > 1: gradient explosion (gradient clipping)", as a pair of runs.

Two Elman RNNs, identical but for clipping, on 'remember the first token' across 20 digits: W_hh starts at twice
torch's initialisation (spectral radius ≈ 1.23 instead of ≈ 0.62), plain SGD (momentum 0) at ε = 0.1. Without
clipping one gradient spike (measured here with the preset's seed: ‖ĝ‖ ≈ 640 at step ≈ 364) throws the weights far
away and the run falls back to chance; with ‖ĝ‖ clipped to 1 (Pascanu et al. 2013) the same spike is a step of
length ε and the run learns the task. Seeded: the same pair gives the same curves; another seed may spike
elsewhere or not at all, which :func:`story` reports as it is.
"""

from __future__ import annotations

import pandas as pd

from explorer.data.dataset import TaskData
from explorer.data.tasks import TaskSpec
from explorer.data.tokenizers import PAD
from explorer.models import RecurrentConfig
from explorer.training.config import TrainConfig
from explorer.training.run import Run, new_run

PRESET = "Clipping pair"
SPEC = TaskSpec(name="remember_first", seq_len=20)
SCALE, LR, CLIP, STEPS = 2.0, 0.1, 1.0, 600
UNCLIPPED, CLIPPED = "Elman RNN · no clipping", f"Elman RNN · clipped at {CLIP:g}"
SPIKE = 50.0  # a gradient norm this many times the clip counts as an explosion


def pair_configs(data: TaskData) -> dict[str, tuple[RecurrentConfig, TrainConfig]]:
    model = RecurrentConfig(cell="rnn", d_vocab=data.tokenizer.vocab_size, d_embed=32, d_hidden=64, head="classifier",
                            n_classes=data.n_classes, pooling="last", hh_init_scale=SCALE, pad_id=PAD)
    train = {"lr": LR, "optimizer": "sgd", "momentum": 0.0, "max_steps": STEPS, "eval_every": 25, "batch_size": 64}
    return {UNCLIPPED: (model, TrainConfig(grad_clip=None, **train)),
            CLIPPED: (model, TrainConfig(grad_clip=CLIP, **train))}


def make_pair(data: TaskData, names: dict[str, str] | None = None) -> list[Run]:
    return [new_run((names or {}).get(label, label), data, model, train, preset=PRESET)
            for label, (model, train) in pair_configs(data).items()]


def pair_of(runs: list[Run]) -> dict[str, Run]:
    """The newest run of each half of the pair."""
    pair: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r.created):
        if run.preset == PRESET and run.trainer is not None:
            pair[CLIPPED if run.trainer.config.grad_clip else UNCLIPPED] = run
    return pair


def story(frames: dict[str, pd.DataFrame]) -> str:
    """What the two runs did, in words true of their histories."""
    parts = []
    for label, frame in frames.items():
        if frame.empty:
            continue
        peak = frame.loc[frame["grad_norm"].idxmax()]
        val = frame.dropna(subset=["val_accuracy"])
        best = val["val_accuracy"].max() if not val.empty else float("nan")
        last = val["val_accuracy"].iloc[-1] if not val.empty else float("nan")
        text = (f"{label}: largest ‖ĝ‖ {peak['grad_norm']:.3g} at step {int(peak['step'])}; validation accuracy "
                f"best {best:.0%}, now {last:.0%}")
        if peak["grad_norm"] > SPIKE * CLIP:
            before = val[val["step"] < peak["step"]]["val_accuracy"]
            after = val[val["step"] > peak["step"]]["val_accuracy"]
            if not before.empty and not after.empty:
                text += f" (before the spike {before.iloc[-1]:.0%}, after it {after.max():.0%} at best)"
        parts.append(text + ".")
    return " ".join(parts)
