"""Ready-trained example models shipped in ``assets/``: opened in an instant, trainable further, with their metric
history and snapshots to scrub through training.

``make assets`` (``python -m explorer.training.assets``) trains each one with the app's own trainer, seeded, on one
CPU thread (so the bytes are the same on every run on this kind of machine), and writes a checkpoint: safetensors
with the JSON config in its header, snapshots at half precision. Each file stays under MAX_ASSET_BYTES.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from explorer.data.tasks import TaskSpec, make_task
from explorer.training.checkpoints import checkpoint_from_trainer, from_bytes, to_bytes
from explorer.training.induction_lab import create_lab_run, lab_task
from explorer.training.position_experiment import ExperimentSpec, experiment_task, make_runs
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run, run_from_checkpoint

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets"
MAX_ASSET_BYTES = 2 * 2**20
MAX_TOTAL_BYTES = 15 * 2**20
SNAPSHOT_BYTES = 1_600_000  # the half-precision snapshots of one asset at most


@dataclass(frozen=True)
class Asset:
    """One ready-trained model: how it is made, and what it shows."""

    key: str
    title: str
    about: str
    make: Callable[[], Run]  # builds the run (seeded), not yet trained
    steps: int
    short: str = ""  # a button's label

    def __post_init__(self) -> None:
        if not self.short:
            object.__setattr__(self, "short", self.title)

    @property
    def path(self) -> Path:
        return ASSET_DIR / f"{self.key}.safetensors"


def _preset_run(name: str, spec: TaskSpec, preset: str, steps: int, **train) -> Callable[[], Run]:
    def make() -> Run:
        data = make_task(spec)
        model_cfg, train_cfg = PRESETS[preset].build(data)
        train_cfg = dataclasses.replace(train_cfg, max_steps=steps, **train)
        return new_run(name, data, model_cfg, train_cfg, preset=preset)
    return make


def _lab() -> Run:
    return create_lab_run("Induction lab (trained)", data=lab_task())


def _positions(positional: str) -> Callable[[], Run]:
    def make() -> Run:
        spec = ExperimentSpec()
        (run,) = make_runs(spec, variants=(positional,), data=experiment_task(spec))
        return run
    return make


LONG_GAP = TaskSpec(name="remember_first", seq_len=40)
ASSETS: dict[str, Asset] = {a.key: a for a in [
    Asset("lecture_lstm", "Lecture lab LSTM on balanced brackets",
          "The lecture's Keras LSTM (4 units, reading backwards) after it learned balanced brackets.",
          _preset_run("Lecture lab LSTM · brackets (trained)", TaskSpec(name="brackets", seq_len=20),
                      "Lecture lab LSTM", 800), 800, "Lecture LSTM (brackets)"),
    *[Asset(f"long_gap_{cell}", f"{title} on remember-the-first-token (gap 40)",
            f"{title} trained 1,000 steps on the long-gap task, for the gradient comparison with the other cells.",
            _preset_run(f"{title} · remember_first (trained)", LONG_GAP, title, 1000), 1000, f"{title} (gap 40)")
      for cell, title in (("rnn", "Elman RNN"), ("gru", "GRU"), ("lstm", "LSTM"))],
    Asset("gpt_reverse", "Tiny GPT on reverse", "A 2-layer, 4-head decoder that learned to reverse 8 symbols.",
          _preset_run("Tiny GPT · reverse (trained)", TaskSpec(name="reverse", seq_len=8),
                      "Tiny GPT 2 layers × 4 heads", 600), 600, "Tiny GPT (reverse)"),
    Asset("induction_lab", "Induction lab (2-layer attention-only)",
          "The induction-head lab's model, trained through its phase change: scrub the snapshots to watch the "
          "induction head form.", _lab, 1500, "Induction lab"),
    *[Asset(f"positions_{p}", f"Positions experiment: {p}",
            f"The positions experiment's {p} variant on reverse (encoder-decoder), 600 steps.", _positions(p), 600,
            f"Positions: {p}")
      for p in ("none", "sinusoidal", "learned", "rotary")],
]}
TRIO = ("long_gap_rnn", "long_gap_gru", "long_gap_lstm")
POSITION_VARIANTS = tuple(f"positions_{p}" for p in ("none", "sinusoidal", "learned", "rotary"))


def build_asset(asset: Asset) -> bytes:
    """Train ``asset`` from its seed and return the checkpoint's bytes (deterministic on one thread)."""
    torch.manual_seed(0)
    run = asset.make()
    trainer = run.trainer
    weights = sum(v.numel() for v in trainer.model.state_dict().values()) * 2  # half precision
    keep = max(2, min(trainer.config.max_snapshots, SNAPSHOT_BYTES // max(weights, 1)))
    trainer.config = dataclasses.replace(trainer.config, max_snapshots=keep, max_steps=asset.steps)
    trainer.step(n_steps=asset.steps)
    trainer.pause()
    ckpt = checkpoint_from_trainer(trainer, run.name, with_snapshots=True, preset=run.preset)
    return to_bytes(ckpt)


def is_available(key: str) -> bool:
    return ASSETS[key].path.is_file()


def open_asset(key: str) -> Run:
    """The ready-trained run, validated like any uploaded checkpoint (trainable further: its task is rebuilt)."""
    asset = ASSETS[key]
    return run_from_checkpoint(from_bytes(asset.path.read_bytes()))


def main(keys: list[str]) -> None:
    torch.set_num_threads(1)
    ASSET_DIR.mkdir(exist_ok=True)
    total = 0
    for key in keys or list(ASSETS):
        start = time.perf_counter()
        blob = build_asset(ASSETS[key])
        if len(blob) > MAX_ASSET_BYTES:
            raise SystemExit(f"{key} is {len(blob) / 2**20:.2f} MB, over the {MAX_ASSET_BYTES / 2**20:.0f} MB limit")
        ASSETS[key].path.write_bytes(blob)
        total += len(blob)
        print(f"{key}: {len(blob) / 2**20:.2f} MB in {time.perf_counter() - start:.0f} s", flush=True)
    sizes = sum(a.path.stat().st_size for a in ASSETS.values() if a.path.is_file())
    print(f"assets/: {sizes / 2**20:.2f} MB in all")
    if sizes > MAX_TOTAL_BYTES:
        raise SystemExit(f"assets/ holds {sizes / 2**20:.1f} MB, over {MAX_TOTAL_BYTES / 2**20:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
