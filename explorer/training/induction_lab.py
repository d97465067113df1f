"""The induction-head lab: a 2-layer attention-only transformer trained on repeated random sequences.

Why the period and the place of the repeat vary (in the generated 'induction' task): with a fixed period the
second copy is always exactly T positions after the first, so a single head can learn "attend T-1 positions
back" from positions alone — it solves the task without any induction head (measured here: induction score
0.04 on a sequence of another period). So the task draws both:

    <bos>  noise(a)  r_1 … r_t  r_1 … r_t  noise(b)      t ∈ [min_period, max_period], a + 2t + b fixed

Only "find the earlier occurrence of my token and copy what came next" works for every example: a previous-token
head in layer 0 and an induction head in layer 1 that K-composes with it (Olsson et al. 2022). With the settings
below (Adam 3e-3; measured on seeds 0-1: 1e-3 needs about 1,100 steps, 2e-3 about 650, 3e-3 about 525) the phase
change comes after about 500 steps: 30-70 s on one CPU thread, stable afterwards (induction score ≈ 0.9).
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.analysis.induction import RepeatedTokens, repeated_random_tokens
from explorer.data.dataset import TaskData
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import BOS, PAD, SPECIALS
from explorer.models import TransformerConfig
from explorer.training.config import TrainConfig
from explorer.training.run import Run, new_run

LAB_PRESET = "Attention-only 2 layers (induction heads)"
LAB_TASK = "induction"  # explorer.data.tasks: a repeat of random period at a random place
PROBE_SEED = 1234  # the fixed repeated sequences the lab measures every snapshot on
PROBE_BATCH = 32


@dataclass(frozen=True)
class LabSpec:
    """The lab's data: ``n_symbols`` random symbols, repeats of period ``min_period .. max_period``."""

    n_symbols: int = 30
    max_period: int = 16
    n_train: int = 20_000
    n_val: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.max_period <= 128:
            raise ValueError("max_period must be between 2 and 128.")
        if not 2 <= self.n_symbols <= 500:
            raise ValueError("n_symbols must be between 2 and 500.")

    @property
    def min_period(self) -> int:
        return max(2, self.max_period // 4)

    @property
    def seq_len(self) -> int:
        """Tokens per example, <bos> included."""
        return 2 * self.max_period + 1


def lab_task(spec: LabSpec = LabSpec()) -> TaskData:
    """The generated 'induction' task with the lab's settings (periods max_period // 4 .. max_period)."""
    return make_task(TaskSpec(name="induction", seq_len=spec.max_period, n_symbols=spec.n_symbols,
                              n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed))


def lab_configs(data: TaskData, spec: LabSpec = LabSpec()) -> tuple[TransformerConfig, TrainConfig]:
    """The lab's model (2 attention-only layers × 4 heads, d_model 64, learned positions) and training."""
    model = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=spec.seq_len + 1, d_model=64, n_heads=4,
                              n_layers=2, attn_only=True, layer_norm=True, positional="learned", causal=True,
                              head="lm", pad_id=PAD)
    train = TrainConfig(lr=3e-3, batch_size=64, max_steps=2000, eval_every=100, snapshot_every=20,
                        max_snapshots=100, seed=spec.seed)
    return model, train


def create_lab_run(name: str = "Induction lab", data: TaskData | None = None, spec: LabSpec = LabSpec(),
                   seed: int = 0) -> Run:
    """A new (not yet started) lab run."""
    data = data if data is not None else lab_task(spec)
    model_cfg, train_cfg = lab_configs(data, spec)
    return new_run(name, data, model_cfg, train_cfg, preset=LAB_PRESET, seed=seed)


def is_lab_run(run: Run) -> bool:
    return run.preset == LAB_PRESET and run.data is not None and run.data.name == LAB_TASK


def lab_probe(spec: LabSpec = LabSpec()) -> RepeatedTokens:
    """The fixed sequences ``<bos> r r`` (period max_period, no repeated symbol in r) measured at every step."""
    first = len(SPECIALS)
    return repeated_random_tokens(first, first + spec.n_symbols, spec.max_period, batch=PROBE_BATCH, bos=BOS,
                                  seed=PROBE_SEED)


def probe_for(run: Run) -> RepeatedTokens:
    """The probe of a lab run, rebuilt from its task parameters."""
    params = run.data.params if run.data else {}
    return lab_probe(LabSpec(n_symbols=params.get("n_symbols", 30), max_period=params.get("seq_len", 16)))
