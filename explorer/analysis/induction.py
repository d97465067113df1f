"""Previous-token and induction heads, measured on repeated random sequences (Olsson et al. 2022).

On ``[bos] r_0 … r_{T-1} r_0 … r_{T-1}`` (a random sequence shown twice) the second copy is predictable only by
looking back: find where the current token appeared before and copy the token that followed it. Two heads do
this together (Elhage et al. 2021): a previous-token head in one layer writes "my previous token was r_{i-1}" into
each position; an induction head in a later layer, through K-composition, attends from r_i in the second copy
to the position just after r_i's first occurrence, and copies what it finds there.

- previous-token score of a head: mean attention from each position to the position before it;
- induction score: mean attention from each token of the second copy (position start + T + i) to the token
  after its first occurrence (position start + i + 1) — 1 for a perfect induction head, about 1/position for
  a head that spreads its attention evenly;
- in-context learning shows in the loss: the first copy is random (loss ≈ ln n_symbols), the second copy is
  free for a model with induction heads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch.nn import functional

PATTERN = "blocks.{layer}.attn.hook_pattern"


@dataclass(frozen=True)
class RepeatedTokens:
    """Token ids [batch, start + 2·half_len]: an optional <bos>, then the same random half twice."""

    tokens: torch.Tensor
    half_len: int
    start: int  # position of the first copy's first token: 1 after a <bos>, else 0

    @property
    def second_copy(self) -> torch.Tensor:
        """Query positions of the second copy [half_len]."""
        return torch.arange(self.half_len) + self.start + self.half_len


def repeated_random_tokens(low: int, high: int, half_len: int, batch: int = 16, bos: int | None = None,
                           seed: int = 0) -> RepeatedTokens:
    """``batch`` sequences ``[bos] r r`` with r drawn from token ids ``low .. high-1``.

    When the id range allows it, each half has no repeated token (drawn without replacement), so the token
    an induction head should look at is unambiguous.
    """
    if high - low < 2 or half_len < 2:
        raise ValueError("Need at least two candidate tokens and a half of at least two tokens.")
    gen = torch.Generator().manual_seed(seed)
    n_ids = high - low
    if half_len <= n_ids:
        half = torch.stack([torch.randperm(n_ids, generator=gen)[:half_len] for _ in range(batch)]) + low
    else:
        half = torch.randint(low, high, (batch, half_len), generator=gen)  # [batch, half_len]
    parts = [half, half]
    if bos is not None:
        parts.insert(0, torch.full((batch, 1), bos, dtype=torch.long))
    return RepeatedTokens(torch.cat(parts, dim=1), half_len, start=1 if bos is not None else 0)


def _device(model) -> torch.device:
    return next(model.parameters()).device


@contextmanager
def evaluating(model) -> Iterator[None]:
    """Eval mode (no dropout) for the duration of a measurement, then the mode the model had (a live run's
    model keeps training afterwards)."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def attention_patterns(model, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward pass: (output, patterns [n_layers, batch, head, q_pos, k_pos]) on the CPU."""
    with evaluating(model):
        output, cache = model.run_with_cache(tokens.to(_device(model)),
                                             names_filter=lambda n: n.endswith("hook_pattern"))
    patterns = torch.stack([cache[PATTERN.format(layer=layer)] for layer in range(model.config.n_layers)])
    return output.detach().float().cpu(), patterns.float().cpu()


def prev_token_from_patterns(patterns: torch.Tensor) -> torch.Tensor:
    """patterns [n_layers, batch, head, q, k] -> mean attention to the previous position [n_layers, n_heads]."""
    stripe = patterns.diagonal(offset=-1, dim1=-2, dim2=-1)  # [L, batch, head, q-1]: entries (q, q-1)
    return stripe.mean(dim=(1, 3))


def induction_from_patterns(patterns: torch.Tensor, rep: RepeatedTokens) -> torch.Tensor:
    """patterns [n_layers, batch, head, q, k] -> mean attention from the second copy to the token after each
    token's first occurrence [n_layers, n_heads]."""
    queries = rep.second_copy  # [T]
    keys = queries - rep.half_len + 1  # [T]
    return patterns[..., queries, keys].mean(dim=(1, 3))


def prev_token_scores(model, tokens: torch.Tensor) -> torch.Tensor:
    """Previous-token score of every head [n_layers, n_heads] on ``tokens`` [batch, pos]."""
    return prev_token_from_patterns(attention_patterns(model, tokens)[1])


def induction_scores(model, rep: RepeatedTokens) -> torch.Tensor:
    """Induction score of every head [n_layers, n_heads] on repeated random tokens."""
    return induction_from_patterns(attention_patterns(model, rep.tokens)[1], rep)


def copy_losses(logits: torch.Tensor, rep: RepeatedTokens) -> tuple[float, float]:
    """Mean next-token loss on the first and on the second copy: predictions of r_1 … r_{T-1} the first time
    (positions start … start+T-2) and again in the repeat (positions start+T … start+2T-2)."""
    first = torch.arange(rep.start, rep.start + rep.half_len - 1)  # positions predicting r_1..r_{T-1}, first copy
    second = first + rep.half_len

    def loss_at(positions: torch.Tensor) -> float:
        pred = logits[:, positions]  # [batch, T-1, vocab]
        target = rep.tokens[:, positions + 1].to(pred.device)  # [batch, T-1]
        return float(functional.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.reshape(-1)))

    return loss_at(first), loss_at(second)


@dataclass
class InductionMeasurement:
    """Everything the lab shows about one model state, from one forward pass on repeated random tokens."""

    prev_token: torch.Tensor  # [n_layers, n_heads]
    induction: torch.Tensor  # [n_layers, n_heads]
    loss_first: float | None  # None for models without a language-model head
    loss_second: float | None
    example_patterns: torch.Tensor  # [n_layers, head, q, k] of the first sequence

    @property
    def best_induction_head(self) -> tuple[int, int]:
        """(layer, head) with the highest induction score."""
        flat = int(self.induction.flatten().argmax())
        return divmod(flat, self.induction.shape[1])

    @property
    def best_prev_token_head(self) -> tuple[int, int]:
        flat = int(self.prev_token.flatten().argmax())
        return divmod(flat, self.prev_token.shape[1])


@torch.no_grad()
def measure_induction(model, rep: RepeatedTokens) -> InductionMeasurement:
    """Previous-token and induction scores of every head, and the loss on each copy (language models)."""
    output, patterns = attention_patterns(model, rep.tokens)
    cfg = model.config
    has_lm = output.dim() == 3 and output.shape[-1] == cfg.d_vocab and bool(getattr(cfg, "causal", True))
    first, second = copy_losses(output, rep) if has_lm else (None, None)
    return InductionMeasurement(prev_token_from_patterns(patterns), induction_from_patterns(patterns, rep),
                                first, second, patterns[:, 0])
