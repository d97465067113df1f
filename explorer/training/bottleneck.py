"""The bottleneck experiment of the second deck: the same GRU encoder–decoder without attention, with additive
attention and with location-aware attention, and a transformer encoder–decoder, trained on reverse with lengths 4–12,
then measured at every length up to 24.

Without attention the decoder sees the source only through one start state of d_hidden numbers, so the longer the
input the more it must squeeze in (Cho et al. 2014 saw translation quality fall with sentence length; Bahdanau et
al. 2015 fixed it with attention). With additive attention it looks back at every encoder state hⱼ at every step;
but its score sees only the decoder's state and hⱼ, so on reverse it finds the mirrored position by matching two
counts (steps written, positions from the end) that it learned on lengths up to 12 only. Location-aware attention
(Chorowski et al. 2015) also sees where the previous step looked, so it can learn "one position left of last time",
a rule that holds at every length. All three GRUs read the source both ways (hⱼ = [→hⱼ; ←hⱼ], as Bahdanau et al.'s
encoder), so that hⱼ stands for xⱼ and the alignment on reverse is the anti-diagonal.

Exact-match accuracy is measured with one teacher-forced pass: a sequence whose every token is right under teacher
forcing is exactly what greedy decoding writes (the decoder then reads its own outputs, which are the truth).
"""

from __future__ import annotations

import pandas as pd
import torch

from explorer.data.batches import format_split
from explorer.data.dataset import TaskData
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import PAD
from explorer.models import Model, ModelConfig, Seq2SeqConfig, TransformerConfig
from explorer.training.config import TrainConfig
from explorer.training.metrics import accuracy_counts, forward
from explorer.training.run import Run, new_run

PRESET = "Bottleneck experiment"
SPEC = TaskSpec(name="reverse", seq_len=12, min_len=4, n_symbols=10, n_train=20_000, n_val=500)
TRAINED = (SPEC.min_len, SPEC.seq_len)
LENGTHS = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24)
STEPS = 1500
N_EXAMPLES = 128  # per length
NONE, ADDITIVE, LOCATION = "GRU · no attention", "GRU · additive attention", "GRU · location-aware attention"
TRANSFORMER = "Transformer encoder–decoder"
VARIANTS = (NONE, ADDITIVE, LOCATION, TRANSFORMER)
RECURRENT_VARIANTS = {"none": NONE, "additive": ADDITIVE, "location": LOCATION}  # by Seq2SeqConfig.attention


def variant_configs(data: TaskData, steps: int = STEPS) -> dict[str, tuple[ModelConfig, TrainConfig]]:
    """The four models: three GRUs alike but for attention, and a small transformer encoder–decoder."""
    vocab = data.tokenizer.vocab_size
    gru = {"cell": "gru", "d_vocab": vocab, "d_embed": 32, "d_hidden": 64, "bidirectional": True, "pad_id": PAD}
    train = TrainConfig(lr=3e-3, max_steps=steps, batch_size=64, eval_every=100, snapshot_every=100)
    transformer = TransformerConfig(d_vocab=vocab, n_ctx=2 * max(LENGTHS), d_model=64, n_heads=4, n_layers=2,
                                    d_mlp=256, positional="sinusoidal", encoder_decoder=True, pad_id=PAD)
    return {
        NONE: (Seq2SeqConfig(attention="none", **gru), train),
        ADDITIVE: (Seq2SeqConfig(attention="additive", **gru), train),
        LOCATION: (Seq2SeqConfig(attention="location", **gru), train),
        TRANSFORMER: (transformer, TrainConfig(lr=1e-3, max_steps=steps, batch_size=64, eval_every=100,
                                               snapshot_every=100)),
    }


def make_runs(data: TaskData, steps: int = STEPS, names: dict[str, str] | None = None) -> list[Run]:
    """One run per variant on the same data (not started); ``names`` renames them (e.g. made unique)."""
    runs = []
    for variant, (model_cfg, train_cfg) in variant_configs(data, steps).items():
        run = new_run((names or {}).get(variant, variant), data, model_cfg, train_cfg, preset=PRESET)
        runs.append(run)
    return runs


def variant_of(run: Run) -> str | None:
    """Which variant of the experiment a run is (None for other runs)."""
    if run.preset != PRESET:
        return None
    if isinstance(run.config, TransformerConfig):
        return TRANSFORMER
    return RECURRENT_VARIANTS.get(run.config.attention)


def latest_group(runs: list[Run]) -> dict[str, Run]:
    """The newest run of each variant of the experiment."""
    group: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r.created):
        if (variant := variant_of(run)) is not None:
            group[variant] = run
    return group


def length_set(length: int, n_examples: int = N_EXAMPLES, seed: int = 0) -> TaskData:
    """Fresh reverse examples of exactly ``length`` symbols (never the training examples: another seed)."""
    return make_task(TaskSpec(name="reverse", seq_len=length, n_symbols=SPEC.n_symbols, n_train=1,
                              n_val=n_examples, seed=10_000 + 97 * length + seed))


@torch.no_grad()
def accuracy_by_length(model: Model, lengths: tuple[int, ...] = LENGTHS, n_examples: int = N_EXAMPLES) -> pd.DataFrame:
    """Exact-match (whole sequence) and token accuracy of ``model`` (eval mode) at each source length."""
    rows = []
    device = next(model.parameters()).device
    for length in lengths:
        data = length_set(length, n_examples)
        batch = format_split(data.val, data, model.config).to(device)
        logits = forward(model, batch)
        correct, total, rows_ok, n_rows = accuracy_counts(logits, batch.labels)
        rows.append({"length": length, "exact match": rows_ok / n_rows, "token accuracy": correct / total,
                     "trained": TRAINED[0] <= length <= TRAINED[1]})
    return pd.DataFrame(rows, columns=["length", "exact match", "token accuracy", "trained"])


@torch.no_grad()
def mirror_mass(model: Model, lengths: tuple[int, ...] = (4, 6, 8, 10, 12), n_examples: int = 64) -> dict[str, float]:
    """On reverse, output step t should look at source position L − 1 − t. Returns the mean attention weight on
    that position and how often it gets the most weight, over fresh examples of the trained lengths."""
    mass, top, count = 0.0, 0.0, 0
    device = next(model.parameters()).device
    for length in lengths:
        data = length_set(length, n_examples, seed=1)
        batch = format_split(data.val, data, model.config).to(device)
        _, cache = model.run_with_cache(batch.inputs, batch.decoder_inputs,
                                        names_filter=lambda n: n == "decoder.attn.hook_pattern")
        pattern = cache["decoder.attn.hook_pattern"]  # [batch, dec_pos, enc_pos]
        mirror = torch.arange(length - 1, -1, -1, device=device)  # [dec_pos]
        on_mirror = pattern[:, torch.arange(length, device=device), mirror]  # [batch, dec_pos]
        mass += float(on_mirror.sum())
        top += float((pattern.argmax(-1) == mirror).sum())
        count += on_mirror.numel()
    return {"mass": mass / count, "argmax": top / count}
