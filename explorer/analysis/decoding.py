"""Choosing the next token: the distribution reshaped by temperature, top-k and top-p, and three ways to decode.

At each step a language model gives logits z over its vocabulary; p = softmax(z / T) with temperature T (T → 0:
all mass on the argmax; T > 1 flattens). Top-k keeps the k most likely tokens; top-p (nucleus sampling, Holtzman et
al. 2020) keeps the smallest set whose probability reaches p; what is kept is renormalised. Decoding then:
- greedy: always the most likely token;
- sampling: draw from the reshaped distribution with a seeded generator (the same seed gives the same text);
- beam search: keep the n best partial sequences by their summed log-probability, extend each by its best tokens,
  set aside those that end with a stop token (<eos>), return the n best (the decks: "keep the n best, stop at
  <eos>"). Beam width 1 is greedy.
Works for any model that maps ids [batch, pos] to logits [batch, pos, d_vocab]: the app's transformer and recurrent
language models and pretrained decoders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

LogitsFn = Callable[[torch.Tensor], torch.Tensor]  # ids [batch, pos] -> next-token logits [batch, d_vocab]
MAX_NEW_TOKENS = 500
MAX_BEAM = 16


def next_token_fn(model: Any, window: int | None = None, banned: Sequence[int] = ()) -> LogitsFn:
    """The model's next-token logits for each row of ``ids``: the last ``window`` tokens are read (a learned
    position table has no more rows); ``banned`` ids (padding) get −∞."""
    device = next(model.parameters()).device
    banned = list(banned)

    @torch.no_grad()
    def fn(ids: torch.Tensor) -> torch.Tensor:
        context = ids[:, -window:] if window else ids
        logits = model(context.to(device))[:, -1].float().cpu()  # [batch, d_vocab]
        if banned:
            logits[:, banned] = float("-inf")
        return logits

    return fn


# --------------------------------------------------------------------------------------------- the distribution
def top_k_mask(probs: torch.Tensor, k: int) -> torch.Tensor:
    """[d_vocab] bool: the ``k`` most likely tokens (k ≤ 0: all)."""
    if k <= 0 or k >= probs.numel():
        return torch.ones_like(probs, dtype=torch.bool)
    mask = torch.zeros_like(probs, dtype=torch.bool)
    mask[probs.topk(k).indices] = True
    return mask


def top_p_mask(probs: torch.Tensor, p: float) -> torch.Tensor:
    """[d_vocab] bool: the smallest set of most likely tokens whose total probability is at least ``p``."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top-p must be in (0, 1], got {p}.")
    if p >= 1.0:
        return probs > 0
    ordered, order = probs.sort(descending=True)
    before = ordered.cumsum(0) - ordered  # mass of the tokens ranked above each one
    keep_sorted = before < p - 1e-6  # needed while the mass above it is still short of p (beyond float rounding)
    keep_sorted[0] = True
    mask = torch.zeros_like(probs, dtype=torch.bool)
    mask[order[keep_sorted]] = True
    return mask


@dataclass
class Distribution:
    """The model's next-token distribution and what the sliders make of it."""

    probs: torch.Tensor  # [d_vocab] softmax(logits)
    reshaped: torch.Tensor  # [d_vocab] after temperature, top-k and top-p, renormalised (sums to 1)
    kept: torch.Tensor  # [d_vocab] bool, the tokens sampling may still choose
    temperature: float
    top_k: int
    top_p: float


def check_settings(temperature: float, top_k: int, top_p: float) -> None:
    if not 0.0 <= temperature <= 10.0:
        raise ValueError(f"The temperature must be between 0 and 10, got {temperature}.")
    if top_k < 0:
        raise ValueError(f"top-k must be 0 (off) or a positive number of tokens, got {top_k}.")
    if not 0.0 < top_p <= 1.0:
        raise ValueError(f"top-p must be in (0, 1], got {top_p}.")


def reshape(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Distribution:
    """``logits`` [d_vocab] -> the distribution sampling draws from (temperature first, then top-k, then top-p,
    as Hugging Face's generate). Temperature 0 puts all mass on the most likely token."""
    check_settings(temperature, top_k, top_p)
    logits = logits.float()
    probs = torch.softmax(logits, dim=-1)
    if temperature == 0:
        kept = torch.zeros_like(probs, dtype=torch.bool)
        kept[logits.argmax()] = True
        return Distribution(probs, kept.float(), kept, temperature, top_k, top_p)
    tempered = torch.softmax(logits / temperature, dim=-1)
    kept = top_k_mask(tempered, top_k) & top_p_mask(tempered, top_p) if (top_k or top_p < 1) else tempered > 0
    reshaped = torch.where(kept, tempered, torch.zeros_like(tempered))
    return Distribution(probs, reshaped / reshaped.sum(), kept, temperature, top_k, top_p)


# --------------------------------------------------------------------------------------------- decoding
def _check_length(n_new: int) -> int:
    if n_new < 0:
        raise ValueError("The number of new tokens cannot be negative.")
    return min(n_new, MAX_NEW_TOKENS)


def greedy(fn: LogitsFn, prompt: Sequence[int], n_new: int, stop_ids: Sequence[int] = ()) -> list[int]:
    """The most likely token at every step; stops after a stop token (kept). Returns the new ids."""
    ids = list(prompt)
    new: list[int] = []
    for _ in range(_check_length(n_new)):
        next_id = int(fn(torch.tensor([ids]))[0].argmax())
        ids.append(next_id)
        new.append(next_id)
        if next_id in stop_ids:
            break
    return new


def sample(fn: LogitsFn, prompt: Sequence[int], n_new: int, temperature: float = 1.0, top_k: int = 0,
           top_p: float = 1.0, seed: int = 0, stop_ids: Sequence[int] = ()) -> list[int]:
    """Draw each token from the reshaped distribution with a generator seeded by ``seed``. Returns the new ids."""
    check_settings(temperature, top_k, top_p)
    generator = torch.Generator().manual_seed(seed)
    ids = list(prompt)
    new: list[int] = []
    for _ in range(_check_length(n_new)):
        logits = fn(torch.tensor([ids]))[0]
        if temperature == 0:
            next_id = int(logits.argmax())
        else:
            next_id = int(torch.multinomial(reshape(logits, temperature, top_k, top_p).reshaped, 1,
                                            generator=generator))
        ids.append(next_id)
        new.append(next_id)
        if next_id in stop_ids:
            break
    return new


@dataclass
class Beam:
    """One hypothesis of beam search: the new ids, their summed log-probability, whether it hit a stop token."""

    ids: list[int]
    score: float
    finished: bool

    def normalized(self, length_penalty: float) -> float:
        """score / length^α (α = 0: the plain sum, which favours short hypotheses)."""
        return self.score / max(1, len(self.ids)) ** length_penalty


def beam_search(fn: LogitsFn, prompt: Sequence[int], n_new: int, beam_width: int = 4, n_best: int | None = None,
                stop_ids: Sequence[int] = (), length_penalty: float = 0.0) -> list[Beam]:
    """The ``n_best`` (default ``beam_width``) hypotheses, best first, by normalised score."""
    if not 1 <= beam_width <= MAX_BEAM:
        raise ValueError(f"The beam width must be between 1 and {MAX_BEAM}, got {beam_width}.")
    n_best = beam_width if n_best is None else max(1, min(n_best, beam_width))
    alive = [Beam([], 0.0, False)]
    done: list[Beam] = []
    for _ in range(_check_length(n_new)):
        batch = torch.tensor([list(prompt) + b.ids for b in alive])  # [n_alive, pos]: all the same length
        logp = torch.log_softmax(fn(batch), dim=-1)  # [n_alive, d_vocab]
        totals = torch.tensor([b.score for b in alive])[:, None] + logp  # [n_alive, d_vocab]
        values, flat = totals.flatten().topk(min(2 * beam_width, totals.numel()))
        extended: list[Beam] = []
        for value, index in zip(values.tolist(), flat.tolist()):
            if value == float("-inf"):
                break
            beam, token = alive[index // logp.shape[1]], index % logp.shape[1]
            hypothesis = Beam([*beam.ids, token], value, token in stop_ids)
            (done if hypothesis.finished else extended).append(hypothesis)
            if len(extended) == beam_width:
                break
        alive = extended
        done.sort(key=lambda b: b.normalized(length_penalty), reverse=True)
        best_alive = max((b.normalized(length_penalty) for b in alive), default=float("-inf"))
        if not alive or (length_penalty == 0 and len(done) >= beam_width
                         and best_alive <= done[beam_width - 1].normalized(0)):
            break  # scores only fall as sequences grow: no live hypothesis can beat the finished ones
    ranked = sorted(done + alive, key=lambda b: b.normalized(length_penalty), reverse=True)
    return ranked[:n_best]


# --------------------------------------------------------------------------------------------- prompts
def continuation_logprob(fn: LogitsFn, prompt: Sequence[int], continuation: Sequence[int]) -> float:
    """log p(continuation | prompt) = Σ_t log p(c_t | prompt, c_<t), one forward pass per token."""
    ids, total = list(prompt), 0.0
    for token in continuation:
        total += float(torch.log_softmax(fn(torch.tensor([ids]))[0], dim=-1)[token])
        ids.append(token)
    return total
