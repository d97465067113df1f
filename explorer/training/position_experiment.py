"""The same small transformer trained with no / sinusoidal / learned / rotary positions on a task that needs order.

Default: an encoder-decoder (Vaswani et al. 2017) on reverse. Its encoder is bidirectional, so without positions
it is permutation-equivariant: it hands the decoder a bag of tokens, and reverse or copy cannot be learned
(sort can: it needs the tokens, not their order). A causal decoder-only model is different: the causal mask
lets it count how many tokens precede it, so it can learn positions without any encoding (Haviv et al. 2022,
"Transformer language models without positional encodings still learn positional information") — the page
offers it to show exactly that.

Length generalisation: evaluate on sequences longer than those trained on. A learned table has n_ctx rows and
cannot place a token beyond them (we say so); its rows past the training length were never trained.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd
import torch

from explorer.data.batches import format_split
from explorer.data.dataset import Split, TaskData
from explorer.data.tasks import TaskSpec, make_task, symbols
from explorer.data.tokenizers import PAD, Tokenizer
from explorer.models import TransformerConfig
from explorer.training.config import TrainConfig
from explorer.training.metrics import accuracy_counts, forward
from explorer.training.run import Run, new_run
from explorer.training.snapshots import live_copy

VARIANTS = ("none", "sinusoidal", "learned", "rotary")
TASKS = ("reverse", "sort", "copy")
ARCHITECTURES = ("encoder-decoder", "decoder-only")
EXPERIMENT_PRESET = "Position experiment"
FILLER = "."  # the offset variant's filler token
N_SYMBOLS = 10
MAX_SEQ_LEN = 24
MAX_STEPS = 5000


@dataclass(frozen=True)
class ExperimentSpec:
    """One experiment: the task, the architecture and the training budget shared by the four variants.

    ``max_offset`` > 0 is the offset variant: each source starts with 0..max_offset filler tokens, so the same
    sequence appears at different absolute positions (relative encodings should not mind).
    """

    task: str = "reverse"
    seq_len: int = 8
    architecture: str = "encoder-decoder"
    max_offset: int = 0
    steps: int = 600
    d_model: int = 32
    n_layers: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"The experiment's task must be one of {', '.join(TASKS)}; got {self.task!r}.")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}; got {self.architecture!r}.")
        if not 2 <= self.seq_len <= MAX_SEQ_LEN:
            raise ValueError(f"seq_len must be between 2 and {MAX_SEQ_LEN}; got {self.seq_len}.")
        if not 0 <= self.max_offset <= MAX_SEQ_LEN:
            raise ValueError(f"max_offset must be between 0 and {MAX_SEQ_LEN}; got {self.max_offset}.")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}; got {self.steps}.")
        if self.d_model not in (32, 64):
            raise ValueError(f"d_model must be 32 or 64 (4 heads with an even d_head); got {self.d_model}.")
        if not 1 <= self.n_layers <= 4:
            raise ValueError(f"n_layers must be between 1 and 4; got {self.n_layers}.")

    @property
    def title(self) -> str:
        offset = f", offset 0-{self.max_offset}" if self.max_offset else ""
        return f"{self.task} · length {self.seq_len}{offset} · {self.architecture}"


# ----------------------------------------------------------------- data
def experiment_task(spec: ExperimentSpec, seq_len: int | None = None, n_train: int = 5000, n_val: int = 500,
                    seed: int | None = None) -> TaskData:
    """The task of the experiment (or the same task at another length, for length generalisation)."""
    length = spec.seq_len if seq_len is None else seq_len
    seed = spec.seed if seed is None else seed
    plain = make_task(TaskSpec(name=spec.task, seq_len=length, n_symbols=N_SYMBOLS, n_train=n_train, n_val=n_val,
                               seed=seed))
    if not spec.max_offset:
        return plain
    tok = Tokenizer.from_symbols([*symbols(N_SYMBOLS), FILLER])  # the symbols keep their ids; the filler is last
    filler = tok.id_of(FILLER)
    rng = random.Random(seed + 1)

    def shifted(split: Split) -> Split:
        sources = [[filler] * rng.randint(0, spec.max_offset) + src for src in split.sources]
        return Split(sources=sources, targets=split.targets)

    params = {**plain.params, "max_offset": spec.max_offset}
    return TaskData(f"{spec.task}+offset", "seq2seq", tok, shifted(plain.train), shifted(plain.val),
                    f"{plain.description} Each source starts with 0 to {spec.max_offset} filler tokens '{FILLER}'.",
                    params=params)


def positions_needed(spec: ExperimentSpec, seq_len: int) -> int:
    """Positions a model reads for sources of ``seq_len`` (longest offset): encoder-decoder the longer of source
    and target; decoder-only source, separator and target but its last token."""
    source = seq_len + spec.max_offset
    return max(source, seq_len) if spec.architecture == "encoder-decoder" else source + seq_len


# ----------------------------------------------------------------- models
def variant_configs(spec: ExperimentSpec, data: TaskData, positional: str) -> tuple[TransformerConfig, TrainConfig]:
    """Identical models except for the position encoding; n_ctx covers the training examples exactly."""
    if positional not in VARIANTS:
        raise ValueError(f"positional must be one of {', '.join(VARIANTS)}; got {positional!r}.")
    model = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=data.max_length(), d_model=spec.d_model,
                              n_heads=4, n_layers=spec.n_layers, d_mlp=2 * spec.d_model, positional=positional,
                              causal=True, head="lm", encoder_decoder=spec.architecture == "encoder-decoder",
                              pad_id=PAD)
    train = TrainConfig(lr=3e-3, max_steps=spec.steps, batch_size=64, eval_every=50, snapshot_every=50,
                        seed=spec.seed)
    return model, train


def variant_name(spec: ExperimentSpec, positional: str) -> str:
    return f"{positional} positions · {spec.task}{'+offset' if spec.max_offset else ''} ({spec.architecture})"


def make_runs(spec: ExperimentSpec, variants: tuple[str, ...] = VARIANTS, data: TaskData | None = None) -> list[Run]:
    """One run per variant, same data, same seed, same budget (not started)."""
    data = data or experiment_task(spec)
    runs = []
    for positional in variants:
        model_cfg, train_cfg = variant_configs(spec, data, positional)
        runs.append(new_run(variant_name(spec, positional), data, model_cfg, train_cfg, preset=EXPERIMENT_PRESET,
                            seed=spec.seed))
    return runs


def spec_of(run: Run) -> ExperimentSpec | None:
    """The experiment a run belongs to (None for other runs)."""
    if run.preset != EXPERIMENT_PRESET or run.data is None or run.trainer is None:
        return None
    params = run.data.params
    return ExperimentSpec(task=params["name"], seq_len=params["seq_len"],
                          architecture="encoder-decoder" if run.config.encoder_decoder else "decoder-only",
                          max_offset=params.get("max_offset", 0), steps=run.trainer.config.max_steps,
                          d_model=run.config.d_model, n_layers=run.config.n_layers, seed=params["seed"])


def group_runs(runs: list[Run]) -> dict[ExperimentSpec, dict[str, Run]]:
    """Experiment runs by experiment, then by variant (the newest run of each variant)."""
    groups: dict[ExperimentSpec, dict[str, Run]] = {}
    for run in sorted(runs, key=lambda r: r.created):
        spec = spec_of(run)
        if spec is not None:
            groups.setdefault(spec, {})[run.config.positional] = run
    return groups


# ----------------------------------------------------------------- results
def results(group: dict[str, Run]) -> pd.DataFrame:
    """Latest validation accuracy of each variant (token accuracy and whole-sequence accuracy)."""
    rows = []
    for positional in VARIANTS:
        run = group.get(positional)
        if run is None:
            continue
        last = run.trainer.val_history[-1] if run.trainer.val_history else {}
        rows.append({"positions": positional, "step": run.step, "of": run.trainer.config.max_steps,
                     "status": run.status, "token accuracy": last.get("val_accuracy"),
                     "sequence accuracy": last.get("val_sequence_accuracy"), "run": run.name})
    return pd.DataFrame(rows, columns=["positions", "step", "of", "status", "token accuracy", "sequence accuracy",
                                       "run"])


def learning_curves(group: dict[str, Run]) -> pd.DataFrame:
    """Validation token and sequence accuracy over steps, per variant (long frame)."""
    frames = [pd.DataFrame(run.trainer.val_history).assign(positions=positional)
              for positional, run in group.items() if run.trainer.val_history]
    return pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=["step", "val_loss", "val_accuracy", "val_sequence_accuracy", "positions"])


@torch.no_grad()
def evaluate_length(run: Run, spec: ExperimentSpec, seq_len: int, n_examples: int = 256) -> dict:
    """Token and sequence accuracy of a run on fresh examples of ``seq_len`` (teacher-forced: a fully right
    sequence under teacher forcing is exactly what greedy decoding writes). A learned table that is too short
    gives a note instead of numbers."""
    needed = positions_needed(spec, seq_len)
    row = {"length": seq_len, "positions": run.config.positional, "positions needed": needed,
           "token accuracy": None, "sequence accuracy": None, "note": ""}
    n_ctx = run.config.n_ctx
    trained = positions_needed(spec, spec.seq_len)
    if run.config.positional == "learned" and needed > n_ctx:
        row["note"] = (f"not evaluated: the learned table has {n_ctx} rows (positions 0-{n_ctx - 1}); "
                       f"a length-{seq_len} example needs {needed}.")
        return row
    if run.config.positional == "learned" and needed > trained:
        row["note"] = f"positions {trained}-{needed - 1} are rows of the table that training never reached."
    data = experiment_task(spec, seq_len=seq_len, n_train=1, n_val=n_examples, seed=spec.seed + 1000 + seq_len)
    batch = format_split(data.val, data, run.config)
    model = live_copy(run)  # never the live model: switching it to eval would switch dropout off for the trainer
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = forward(model, batch.to(device))
    correct, total, rows_ok, rows = accuracy_counts(logits, batch.labels.to(device))
    row["token accuracy"] = correct / max(total, 1)
    row["sequence accuracy"] = rows_ok / max(rows, 1)
    return row


def length_generalisation(group: dict[str, Run], spec: ExperimentSpec, lengths: list[int]) -> pd.DataFrame:
    """:func:`evaluate_length` for every variant and length (long frame)."""
    rows = [evaluate_length(run, spec, length) for run in group.values() for length in lengths]
    return pd.DataFrame(rows)
