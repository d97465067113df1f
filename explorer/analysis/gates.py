"""Gates, candidate, cell and hidden state of a recurrent model, recorded once per input and sliced per step.

:func:`record_gates` runs the model's explicit-cell replay (``run_with_cache``) once and keeps every
quantity of every layer as a NumPy array ``[pos, d_hidden]``; moving through time then only slices it.
:data:`QUANTITIES` says, per cell, what each recorded quantity is in the lecture's notation:

LSTM (Hochreiter & Schmidhuber 1997): fₜ, iₜ, C̃ₜ, Cₜ = fₜ∗Cₜ₋₁ + iₜ∗C̃ₜ, oₜ, hₜ = oₜ∗tanh(Cₜ).
GRU (Cho et al. 2014) as torch computes it: hₜ = (1 − z)∗h̃ₜ + z∗hₜ₋₁, so torch's z keeps the *old* state
and the lecture's update gate zₜ (share of the new candidate) is 1 − z; the reset gate multiplies
W_hn·hₜ₋₁ *after* the matrix product (the lecture writes W·[rₜ∗hₜ₋₁, xₜ]).
Elman (1990): hₜ = tanh(W_hh·hₜ₋₁ + W_xh·xₜ + b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from explorer.data.tokenizers import UNK, Tokenizer
from explorer.models import RecurrentModel

MAX_TOKENS = 512  # longer inputs are cut (the replay is a Python loop over time)
NEAR = 0.1  # a gate value below NEAR is "near 0" (closed), above 1 - NEAR "near 1" (open)


@dataclass(frozen=True)
class Quantity:
    """One recorded (or derived) quantity of a cell, described in the lecture's notation."""

    key: str  # the cache name suffix (``rnn.L.hook_<key>``) or a derived name
    symbol: str  # e.g. "fₜ"
    name: str  # e.g. "forget gate"
    equation: str  # unicode, no LaTeX (figures export without MathJax)
    kind: str  # "gate" in [0, 1], "signed" in [-1, 1], "state" unbounded
    overview: bool = True  # shown in the whole-sequence heatmaps


QUANTITIES: dict[str, tuple[Quantity, ...]] = {
    "lstm": (
        Quantity("f", "fₜ", "forget gate", "fₜ = σ(W_f·[hₜ₋₁, xₜ] + b_f)", "gate"),
        Quantity("i", "iₜ", "input gate", "iₜ = σ(W_i·[hₜ₋₁, xₜ] + b_i)", "gate"),
        Quantity("g", "C̃ₜ", "candidate", "C̃ₜ = tanh(W_C·[hₜ₋₁, xₜ] + b_C)", "signed"),
        Quantity("c", "Cₜ", "cell state", "Cₜ = fₜ ∗ Cₜ₋₁ + iₜ ∗ C̃ₜ", "state"),
        Quantity("o", "oₜ", "output gate", "oₜ = σ(W_o·[hₜ₋₁, xₜ] + b_o)", "gate"),
        Quantity("h", "hₜ", "hidden state", "hₜ = oₜ ∗ tanh(Cₜ)", "signed"),
    ),
    "gru": (
        Quantity("r", "rₜ", "reset gate", "rₜ = σ(W_r·[hₜ₋₁, xₜ] + b_r)", "gate"),
        Quantity("update", "zₜ", "update gate (lecture's zₜ = 1 − torch's z)",
                 "zₜ = 1 − z,  z = σ(W_z·[hₜ₋₁, xₜ] + b_z)", "gate"),
        Quantity("z", "z", "torch's z: the share kept from hₜ₋₁", "z = σ(W_z·[hₜ₋₁, xₜ] + b_z) = 1 − zₜ", "gate",
                 overview=False),
        Quantity("n", "h̃ₜ", "candidate (reset applied after W_hn)",
                 "h̃ₜ = tanh(W_in·xₜ + b_in + rₜ ∗ (W_hn·hₜ₋₁ + b_hn))", "signed"),
        Quantity("h", "hₜ", "hidden state", "hₜ = (1 − zₜ) ∗ hₜ₋₁ + zₜ ∗ h̃ₜ", "signed"),
    ),
    "rnn": (
        Quantity("h", "hₜ", "hidden state", "hₜ = tanh(W_hh·hₜ₋₁ + W_xh·xₜ + b)", "signed"),
    ),
}
STATES = ("c", "h")  # quantities with an initial value (zeros) before the first step


def quantity(cell: str, key: str) -> Quantity:
    return next(q for q in QUANTITIES[cell] if q.key == key)


# ----------------------------------------------------------------------------------------- input
@dataclass(frozen=True)
class PreparedInput:
    """Token ids ready for the model, with what the user typed and what had to change."""

    ids: tuple[int, ...]
    pieces: tuple[str, ...]  # the token strings as typed (unknown ones too)
    unknown: tuple[bool, ...]  # True where the piece is not in the vocabulary (read as <unk>)
    n_original: int  # tokens before cutting

    @property
    def truncated(self) -> bool:
        return self.n_original > len(self.ids)

    @property
    def n_unknown(self) -> int:
        return sum(self.unknown)

    def __len__(self) -> int:
        return len(self.ids)

    def in_reading_order(self, backwards: bool) -> PreparedInput:
        """The same input as a model reads it: reversed for one that reads backwards (``go_backwards``), so the
        pieces line up with the recorded steps."""
        if not backwards:
            return self
        return PreparedInput(self.ids[::-1], self.pieces[::-1], self.unknown[::-1], self.n_original)


def prepare_text(tokenizer: Tokenizer, text: str, max_tokens: int = MAX_TOKENS) -> PreparedInput:
    """Tokenize ``text``; unknown pieces become ``<unk>`` (and are marked); keep the first ``max_tokens``."""
    ids, pieces, unknown = tokenizer.encode_marked(text)
    n = len(ids)
    return PreparedInput(tuple(ids[:max_tokens]), tuple(pieces[:max_tokens]), tuple(unknown[:max_tokens]), n)


def prepare_ids(tokenizer: Tokenizer, ids: list[int], max_tokens: int = MAX_TOKENS) -> PreparedInput:
    """An already-tokenized example (e.g. from the validation split)."""
    kept = [int(i) for i in ids[:max_tokens]]
    pieces = tokenizer.to_str_tokens(kept)
    return PreparedInput(tuple(kept), tuple(pieces), tuple(i == UNK for i in kept), len(ids))


# ----------------------------------------------------------------------------------------- recording
@dataclass
class GateRecord:
    """Every quantity of every layer for one input. ``layers[L][key]``: float32 ``[pos, d_hidden]``."""

    cell: str
    ids: tuple[int, ...]
    layers: list[dict[str, np.ndarray]]
    logits: np.ndarray  # [pos, d_vocab] (language model) or [n_classes] (classifier); [pos, 0]: no output per step
    initial: list[dict[str, np.ndarray]] | None = None  # the state before step 0 per layer (None: zeros)

    @property
    def n_pos(self) -> int:
        return len(self.ids)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def d_hidden(self) -> int:
        return self.layers[0]["h"].shape[1]

    def quantities(self, overview_only: bool = False) -> tuple[Quantity, ...]:
        return tuple(q for q in QUANTITIES[self.cell] if q.overview or not overview_only)

    def series(self, layer: int, key: str) -> np.ndarray:
        """``[pos, d_hidden]`` values of one quantity over the whole input."""
        return self.layers[layer][key]

    def at(self, layer: int, key: str, t: int) -> np.ndarray:
        """``[d_hidden]`` values at step ``t``."""
        return self.layers[layer][key][t]

    def previous(self, layer: int, key: str, t: int) -> np.ndarray | None:
        """Values at step ``t - 1``; at t = 0 the initial state (zeros, or a decoder's start state) for Cₜ and hₜ,
        None for gates."""
        if t > 0:
            return self.layers[layer][key][t - 1]
        if key in STATES:
            if self.initial is not None and key in self.initial[layer]:
                return self.initial[layer][key]
            return np.zeros(self.d_hidden, dtype=np.float32)
        return None


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def record_gates(model: RecurrentModel, ids: tuple[int, ...] | list[int]) -> GateRecord:
    """Replay ``ids`` through the explicit cells once and keep every gate of every layer.

    The values are exactly the ``run_with_cache`` cache ``rnn.{L}.hook_*`` (batch of one), as float32
    NumPy arrays; GRUs also get the lecture's update gate ``update = 1 - z``. ``ids`` are given in input order;
    the record keeps them, and every step, in the order the model reads them (reversed for ``go_backwards``).
    """
    if len(ids) == 0:
        raise ValueError("Nothing to record: the input has no tokens.")
    cfg = model.config
    tokens = torch.tensor([list(ids)], dtype=torch.long, device=_device(model))  # [1, pos]
    logits, cache = model.run_with_cache(tokens, names_filter=lambda name: name.startswith("rnn."))
    layers = []
    for layer in range(cfg.n_layers):
        values = {name[len(f"rnn.{layer}.hook_"):]: tensor[0].float().cpu().numpy()  # [pos, d_hidden]
                  for name, tensor in cache.items() if name.startswith(f"rnn.{layer}.hook_")}
        if cfg.cell == "gru":
            values["update"] = 1.0 - values["z"]
        layers.append(values)
    read = tuple(ids)[::-1] if cfg.go_backwards else tuple(ids)
    return GateRecord(cell=cfg.cell, ids=read, layers=layers, logits=logits[0].float().cpu().numpy())


# ----------------------------------------------------------------------------------------- slicing
def step_table(record: GateRecord, layer: int, t: int) -> pd.DataFrame:
    """One row per unit: every quantity at step ``t`` and at ``t - 1`` (empty at t = 0 for gates)."""
    columns: dict[str, np.ndarray] = {"unit": np.arange(record.d_hidden)}
    for q in record.quantities():
        columns[f"{q.symbol} (t)"] = record.at(layer, q.key, t)
        prev = record.previous(layer, q.key, t)
        columns[f"{q.symbol} (t−1)"] = prev if prev is not None else np.full(record.d_hidden, np.nan, np.float32)
    return pd.DataFrame(columns)


def saturation(record: GateRecord, layer: int, near: float = NEAR) -> pd.DataFrame:
    """Per sigmoid gate: the share of (step, unit) values near 0 (< near), near 1 (> 1 - near) and between."""
    rows = []
    for q in record.quantities():
        if q.kind != "gate":
            continue
        values = record.series(layer, q.key)  # [pos, d_hidden]
        low = float((values < near).mean())
        high = float((values > 1 - near).mean())
        rows.append({"gate": f"{q.symbol} {q.name}", "key": q.key, "near 0": low, "near 1": high,
                     "in between": 1.0 - low - high})
    return pd.DataFrame(rows, columns=["gate", "key", "near 0", "near 1", "in between"])


def window(pieces: tuple[str, ...], t: int, radius: int = 6) -> tuple[int, int]:
    """``[start, stop)`` of the neighbourhood of step ``t`` shown beside the current token."""
    return max(0, t - radius), min(len(pieces), t + radius + 1)


@torch.no_grad()
def record_batch(model: RecurrentModel, sequences: list[list[int]], layer: int, key: str,
                 batch_size: int = 128) -> list[np.ndarray]:
    """One quantity of one layer for many inputs: a list of ``[len_i, d_hidden]`` arrays, one per input (empty
    inputs give ``[0, d_hidden]``).

    Inputs are right-padded in batches; a recurrent state at step t depends only on the tokens read up to t, so
    the padding after an input never changes its values. Like :func:`record_gates`, steps are in reading order.
    """
    out: list[np.ndarray] = []
    name = f"rnn.{layer}.hook_{'z' if key == 'update' else key}"
    device = _device(model)
    for start in range(0, len(sequences), batch_size):
        chunk = [list(s) for s in sequences[start:start + batch_size]]
        width = max(len(s) for s in chunk)
        if width == 0:  # only empty inputs: nothing to run, but keep one (empty) array per input
            out.extend(np.zeros((0, model.config.d_hidden), dtype=np.float32) for _ in chunk)
            continue
        tokens = torch.zeros(len(chunk), width, dtype=torch.long, device=device)  # [batch, pos], <pad> = 0
        for row, seq in enumerate(chunk):
            tokens[row, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        _, cache = model.run_with_cache(tokens, names_filter=lambda n: n == name)
        values = cache[name].float().cpu().numpy()  # [batch, pos, d_hidden]
        if key == "update":
            values = 1.0 - values
        out.extend(values[row, :len(seq)] for row, seq in enumerate(chunk))
    return out
