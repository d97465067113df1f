"""Attention patterns of any model with our hook names: recording, per-head summaries, words, windows, √d_k.

Notation as in the lecture: for a query position q and key position k, the pattern is
A[q, k] = softmax_k(Q_q · K_k / √d_k), each row sums to 1 over the keys the query may see (a decoder's query q
sees keys 0..q). Every function here is pure: tensors in, tensors or DataFrames out.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch

from explorer.models.pretrained.model import PretrainedModel

SEPARATORS = frozenset({"[SEP]", "<sep>", "</s>", "<|endoftext|>", "<|im_end|>", "<eos>"})
SPECIAL_TOKENS = SEPARATORS | {"[CLS]", "[PAD]", "<pad>", "<bos>", "<s>", "<unk>", "[UNK]", "<|im_start|>", "[MASK]"}
PUNCTUATION = frozenset(string.punctuation) | {"…", "–", "—", "“", "”", "‘", "’"}

# The per-head summaries, in display order: (column, label, what it measures).
METRICS: dict[str, tuple[str, str]] = {
    "entropy": ("spread (entropy)",
                "entropy of each query's row ÷ log(number of keys it may see): 0 = one key, 1 = spread evenly"),
    "first": ("first token", "attention to position 0 ([CLS] for BERT, BOS for GPT-2, else the first token)"),
    "previous": ("previous token", "attention from position q to q − 1 (a pure previous-token head scores 1)"),
    "next": ("next token", "attention from q to q + 1 (encoders only: a decoder cannot look ahead)"),
    "self": ("itself", "attention from a position to itself (the diagonal)"),
    "duplicate": ("same token elsewhere", "attention to other positions holding the same token as the query"),
    "separators": ("separators", "attention to [SEP] / <sep> / end-of-text tokens"),
    "punctuation": ("punctuation", "attention to punctuation marks (. , ; ! ? …)"),
    "distance": ("distance (tokens)", "average |q − k| weighted by attention: how far a head looks"),
}


@dataclass
class AttentionSet:
    """All heads of one kind of attention for one input.

    ``patterns`` and ``scores`` are [layer, head, q_pos, k_pos] (float16 to keep long inputs small; summaries
    are computed in float32 before the cast). ``scores`` are QKᵀ/√d_k before the softmax, -inf where masked.
    """

    kind: str  # "self" | "encoder" | "decoder" | "cross"
    title: str
    patterns: torch.Tensor
    scores: torch.Tensor
    q_tokens: list[str]
    k_tokens: list[str]
    causal: bool
    hook: str  # hook-name template, e.g. "blocks.{L}.attn"
    summaries: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_layers(self) -> int:
        return self.patterns.shape[0]

    @property
    def n_heads(self) -> int:
        return self.patterns.shape[1]

    @property
    def is_self(self) -> bool:
        return self.kind != "cross"

    def allowed(self) -> torch.Tensor:
        """[q_pos, k_pos] bool: where a query may attend (the same for every head)."""
        return torch.isfinite(self.scores[0, 0])


# --------------------------------------------------------------------------------------------- recording
ATTENTION_KINDS = {  # kind -> (hook template, title)
    "self": ("blocks.{L}.attn", "Self-attention"),
    "encoder": ("encoder.{L}.attn", "Encoder self-attention"),
    "decoder": ("blocks.{L}.attn", "Decoder self-attention (masked)"),
    "cross": ("blocks.{L}.cross_attn", "Cross-attention (decoder queries → encoder keys)"),
}


def record_attention(model: torch.nn.Module, tokens: torch.Tensor, q_tokens: list[str], *, causal: bool,
                     decoder_tokens: torch.Tensor | None = None, decoder_str: list[str] | None = None,
                     ) -> list[AttentionSet]:
    """Run ``model`` once on ``tokens`` [1, pos] and collect every layer's pattern and raw scores.

    Works for any model whose hooks use our names: our transformers (decoder, encoder, encoder-decoder with
    ``decoder_tokens`` [1, dec_pos]) and pretrained models. Returns one :class:`AttentionSet` per kind.
    """
    def wanted(name: str) -> bool:
        return name.endswith(("hook_pattern", "hook_attn_scores"))

    args = (tokens,) if decoder_tokens is None else (tokens, decoder_tokens)
    extra = {"return_type": None} if isinstance(model, PretrainedModel) else {}  # no logits needed here
    # Recorded in half precision as they come (what the sets keep anyway): a 512-token pass of a 6-layer, 12-head
    # model holds 37 MB of patterns and as much of scores instead of 75 MB each.
    _, cache = model.run_with_cache(*args, names_filter=wanted, cache_dtype=torch.float16, **extra)
    if decoder_tokens is None:
        kinds = {"self": (q_tokens, q_tokens, causal)}
    else:
        dec = decoder_str or []
        kinds = {"encoder": (q_tokens, q_tokens, False), "decoder": (dec, dec, True), "cross": (dec, q_tokens, False)}
    sets = []
    for kind, (queries, keys, is_causal) in kinds.items():
        template, title = ATTENTION_KINDS[kind]
        layers = _layers(cache, template)
        # Taken out of the cache as they are stacked.
        patterns = torch.stack([cache.pop(f"{template.format(L=L)}.hook_pattern")[0] for L in layers])
        allowed = torch.isfinite(cache[f"{template.format(L=layers[0])}.hook_attn_scores"][0, 0])  # [query, key]
        scores = torch.stack([cache.pop(f"{template.format(L=L)}.hook_attn_scores")[0] for L in layers])
        # One layer at a time: the summaries work in float32 and on copies, six times less memory at their peak.
        summary = pd.concat([head_summaries(patterns[i], allowed, queries, keys, self_attention=kind != "cross")
                             .assign(layer=i) for i in range(len(layers))], ignore_index=True)
        sets.append(AttentionSet(kind, title, patterns, scores, list(queries), list(keys), is_causal,
                                 template, summary))  # [layer, head, query, key] each, half precision
    return sets


def _layers(cache: dict[str, torch.Tensor], template: str) -> list[int]:
    prefix, suffix = template.split("{L}")
    found = []
    for name in cache:
        if name.startswith(prefix) and name.endswith(suffix + ".hook_pattern"):
            middle = name[len(prefix): -len(suffix + ".hook_pattern")]
            if middle.isdigit():
                found.append(int(middle))
    return sorted(found)


# --------------------------------------------------------------------------------------------- summaries
def _is_punct(token: str) -> bool:
    text = token.strip().removeprefix("##")
    return bool(text) and all(c in PUNCTUATION for c in text)


def _same_token(q_tokens: Sequence[str], k_tokens: Sequence[str]) -> torch.Tensor:
    """[q, k] bool: the key holds the same token as the query."""
    index = {t: i for i, t in enumerate({*q_tokens, *k_tokens})}
    q_ids = torch.tensor([index[t] for t in q_tokens], dtype=torch.long)
    k_ids = torch.tensor([index[t] for t in k_tokens], dtype=torch.long)
    return q_ids[:, None] == k_ids[None, :]


def head_summaries(patterns: torch.Tensor, allowed: torch.Tensor, q_tokens: Sequence[str], k_tokens: Sequence[str],
                   self_attention: bool = True) -> pd.DataFrame:
    """One row per (layer, head) with the :data:`METRICS`, each a mean over query rows.

    ``patterns`` [layer, head, q, k] (or [head, q, k]); ``allowed`` [q, k] bool. Positional metrics (previous,
    next, itself, distance) need queries and keys from the same sequence: NaN for cross-attention.
    """
    p = patterns.float()
    if p.dim() == 3:
        p = p.unsqueeze(0)  # [1, head, q, k]
    n_layers, n_heads, n_q, n_k = p.shape
    allowed = allowed.bool()
    metrics: dict[str, torch.Tensor] = {}
    n_allowed = allowed.sum(-1)  # [q]
    spread_rows = n_allowed > 1
    entropy = -p.clamp_min(1e-30).log_().mul_(p).sum(-1)  # -Σ p log p per row, in place: [layer, head, q]
    if spread_rows.any():
        normed = entropy[..., spread_rows] / torch.log(n_allowed[spread_rows].float())
        metrics["entropy"] = normed.mean(-1)
    else:
        metrics["entropy"] = torch.full((n_layers, n_heads), float("nan"))
    # Rows that can only see position 0 (a causal model's first query) say nothing about a preference for it.
    metrics["first"] = p[..., spread_rows, 0].mean(-1) if spread_rows.any() else p[..., 0].mean(-1)
    nan = torch.full((n_layers, n_heads), float("nan"))
    if self_attention and n_q == n_k:
        q_index = torch.arange(n_q)
        metrics["previous"] = p[..., q_index[1:], q_index[1:] - 1].mean(-1) if n_q > 1 else nan
        can_look_ahead = bool(allowed[q_index[:-1], q_index[:-1] + 1].any()) if n_q > 1 else False
        metrics["next"] = p[..., q_index[:-1], q_index[:-1] + 1].mean(-1) if can_look_ahead else nan
        metrics["self"] = p[..., q_index, q_index].mean(-1)
        distance = (q_index[:, None] - q_index[None, :]).abs().float()  # [q, k]
        metrics["distance"] = torch.einsum("lhqk,qk->lhq", p, distance).mean(-1)
        same = _same_token(q_tokens, k_tokens) & ~torch.eye(n_q, dtype=torch.bool)
    else:
        metrics.update(previous=nan, next=nan, self=nan, distance=nan)
        same = _same_token(q_tokens, k_tokens)
    metrics["duplicate"] = torch.einsum("lhqk,qk->lhq", p, same.float()).mean(-1)
    separators = torch.tensor([t in SEPARATORS for t in k_tokens], dtype=torch.bool).reshape(n_k)
    punctuation = torch.tensor([_is_punct(t) and t not in SPECIAL_TOKENS for t in k_tokens], dtype=torch.bool)
    metrics["separators"] = (p @ separators.float()).mean(-1)  # Σ over separator keys, mean over queries
    metrics["punctuation"] = (p @ punctuation.reshape(n_k).float()).mean(-1)
    layer, head = torch.meshgrid(torch.arange(n_layers), torch.arange(n_heads), indexing="ij")
    frame = {"layer": layer.flatten().numpy(), "head": head.flatten().numpy()}
    frame.update({name: metrics[name].flatten().numpy() for name in METRICS})
    return pd.DataFrame(frame)


def strongest_heads(summaries: pd.DataFrame, metric: str, n: int = 3) -> pd.DataFrame:
    """The ``n`` heads with the highest value of ``metric`` (lowest for entropy: the most focused)."""
    ordered = summaries.dropna(subset=[metric])
    ordered = ordered.nsmallest(n, metric) if metric == "entropy" else ordered.nlargest(n, metric)
    return ordered[["layer", "head", metric]]


# --------------------------------------------------------------------------------------------- words, windows
def word_groups(tokens: Sequence[str]) -> list[list[int]]:
    """Token positions grouped into words.

    WordPiece (BERT): a token starting with "##" continues the previous word. Byte-level BPE and SentencePiece
    (GPT-2, Llama): a token starting with a space (or "▁") begins a word. Special tokens and punctuation are
    words of their own.
    """
    wordpiece = any(t.startswith("##") for t in tokens)
    groups: list[list[int]] = []
    for i, tok in enumerate(tokens):
        alone = tok in SPECIAL_TOKENS or _is_punct(tok)
        prev_alone = i > 0 and (tokens[i - 1] in SPECIAL_TOKENS or _is_punct(tokens[i - 1]))
        # WordPiece marks continuations ("##"); BPE and SentencePiece mark word starts (a space, "▁").
        starts = not tok.startswith("##") if wordpiece else tok[:1].isspace() or tok.startswith(("▁", "\n"))
        if not groups or alone or prev_alone or starts:
            groups.append([i])
        else:
            groups[-1].append(i)
    return groups


def group_labels(tokens: Sequence[str], groups: list[list[int]]) -> list[str]:
    return ["".join(tokens[i].removeprefix("##") for i in g).strip() or tokens[g[0]] for g in groups]


def merge_matrix(groups: list[list[int]], n_tokens: int) -> torch.Tensor:
    """[n_groups, n_tokens] one-hot membership."""
    member = torch.zeros(len(groups), n_tokens)
    for w, group in enumerate(groups):
        member[w, group] = 1.0
    return member


def merge_pattern(pattern: torch.Tensor, q_groups: list[list[int]], k_groups: list[list[int]]) -> torch.Tensor:
    """Pattern [..., q, k] -> [..., q_words, k_words]: sum over a word's keys, mean over its queries.

    Summing over keys keeps each row a distribution (rows still add up to 1); averaging over queries gives the
    attention of a typical sub-word of the query word (Clark et al. 2019 do the same for BERT).
    """
    p = pattern.float()
    keys = merge_matrix(k_groups, p.shape[-1])  # [k_words, k]
    queries = merge_matrix(q_groups, p.shape[-2])
    queries = queries / queries.sum(-1, keepdim=True)  # mean over the word's sub-word queries
    return queries @ p @ keys.T  # [..., q_words, k_words]


def window(t: torch.Tensor, q_range: tuple[int, int], k_range: tuple[int, int]) -> torch.Tensor:
    """[..., q, k] cut to queries q_range[0]..q_range[1]-1 and keys k_range[0]..k_range[1]-1."""
    return t[..., q_range[0]: q_range[1], k_range[0]: k_range[1]]


def downsample(pattern: torch.Tensor, cells: int) -> torch.Tensor:
    """[..., q, k] -> at most [..., cells, cells]: keys summed, queries averaged within each block of positions.

    The same rule as merging words, so each row of a thumbnail still shows where a block of queries looks.
    """
    n_q, n_k = pattern.shape[-2:]
    if n_q <= cells and n_k <= cells:
        return pattern.float()
    q_groups = [g.tolist() for g in torch.arange(n_q).tensor_split(min(cells, n_q))]
    k_groups = [g.tolist() for g in torch.arange(n_k).tensor_split(min(cells, n_k))]
    return merge_pattern(pattern, q_groups, k_groups)


# --------------------------------------------------------------------------------------------- why √d_k
def softmax_jacobian_norm(p: torch.Tensor) -> torch.Tensor:
    """‖∂softmax/∂scores‖_F for probabilities p [..., n]: the Jacobian is diag(p) − p pᵀ."""
    jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)  # [..., n, n]
    return jac.flatten(-2).norm(dim=-1)


def sqrt_dk_demo(d_ks: Sequence[int] = (1, 4, 16, 64, 256, 1024), n_keys: int = 16, n_samples: int = 512,
                 seed: int = 0) -> pd.DataFrame:
    """Random q, k ~ N(0, I_{d_k}): how the softmax of q·k behaves with and without dividing by √d_k.

    q·k has variance d_k, so unscaled scores spread as √d_k and the softmax saturates (one weight → 1) while its
    gradient vanishes; dividing by √d_k keeps the variance at 1 for every d_k (Vaswani et al. 2017, footnote 4).
    Rows: d_k × scaled, with the mean largest weight, normalised entropy, Jacobian norm and score std.
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for d_k in d_ks:
        q = torch.randn(n_samples, 1, d_k, generator=generator, dtype=torch.float64)
        k = torch.randn(n_samples, n_keys, d_k, generator=generator, dtype=torch.float64)
        raw = (q * k).sum(-1)  # [samples, keys]
        for scaled in (False, True):
            scores = raw / math.sqrt(d_k) if scaled else raw
            p = torch.softmax(scores, dim=-1)
            entropy = -(p * torch.log(p.clamp_min(1e-300))).sum(-1) / math.log(n_keys)
            rows.append({"d_k": d_k, "scaled": scaled, "max_weight": p.max(-1).values.mean().item(),
                         "entropy": entropy.mean().item(), "gradient": softmax_jacobian_norm(p).mean().item(),
                         "score_std": scores.std().item()})
    return pd.DataFrame(rows)


def sqrt_dk_example(d_k: int, n_keys: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One random query against ``n_keys`` keys: the weights without and with the 1/√d_k scaling, each [n_keys]."""
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(d_k, generator=generator, dtype=torch.float64)
    k = torch.randn(n_keys, d_k, generator=generator, dtype=torch.float64)
    scores = k @ q  # [keys]
    return torch.softmax(scores, -1), torch.softmax(scores / math.sqrt(d_k), -1)
