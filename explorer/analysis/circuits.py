"""QK and OV circuits of attention heads, copying and composition scores (Elhage et al. 2021).

A head reads the residual stream twice. Its query-key circuit ``W_QK = W_Q W_Kᵀ`` (d_model × d_model) gives
the attention score between a query vector x_q and a key vector x_k: ``x_q W_QK x_kᵀ / √d_head``. Its
output-value circuit ``W_OV = W_V W_O`` says what a key position writes into the query's residual stream:
``x_k W_OV``. (Row vectors, as in the code: ``q = x W_Q``.) Expanded with the embeddings they become the
full circuits: token × token attention ``W_E W_QK W_Eᵀ``, position × position attention ``W_pos W_QK W_posᵀ``,
and token → logit ``W_E W_OV W_U``.

Works on any model with TransformerLens's weight names: ``W_E [d_vocab, d_model]``, ``W_pos [n_ctx, d_model]``
(None when positions are rotary or absent), ``W_U [d_model, d_vocab]`` (absent on classifiers),
``blocks[L].attn.W_Q|W_K|W_V [heads, d_model, d_head]``, ``W_O [n_heads, d_head, d_model]``, and a ``config``
with ``n_layers, n_heads, d_model, d_head`` (and ``n_kv_heads`` under grouped-query attention).

A pre-norm block's head reads the residual stream through LayerNorm/RMSNorm, whose last step multiplies by γ;
that γ is folded into the weights that read (W_Q, W_K, W_V ← diag(γ₁) W, and W_U ← diag(γ_final) W_U), as
TransformerLens does by default (``fold_ln``). The normalisation itself (centring, dividing by the size) and
biases are left out, as in the paper. Post-norm blocks (BERT) read a residual stream that is already normalised.
Everything stays factored: no vocab × vocab matrix is built except for the token subset a caller asks for.
"""

from __future__ import annotations

import math

import torch

from explorer.analysis.factored import FactoredMatrix
from explorer.analysis.induction import induction_scores, prev_token_scores

__all__ = [
    "KINDS", "FactoredMatrix", "all_full_ov_eigenvalues", "all_ov", "all_qk", "composition_score",
    "composition_scores", "copying_scores", "full_ov_circuit", "full_ov_eigenvalues", "full_qk_circuit",
    "head_weights", "induction_scores", "kv_head_of", "n_kv_heads", "ov_circuit", "ov_self_copy",
    "positional_qk_circuit", "prev_token_scores", "qk_circuit", "random_composition_baseline", "top_copied_tokens",
]

KINDS = ("Q", "K", "V")


def _weight(tensor: torch.Tensor) -> torch.Tensor:
    """A detached float32 CPU copy-free view of a weight (live models keep training elsewhere)."""
    return tensor.detach().float().cpu()


def n_kv_heads(model) -> int:
    """Key/value heads per layer: fewer than query heads under grouped-query attention (Ainslie et al. 2023)."""
    cfg = model.config
    return int(getattr(cfg, "n_kv_heads", None) or cfg.n_heads)


def kv_head_of(model, head: int) -> int:
    """The key/value head that query head ``head`` reads (query heads are grouped in consecutive blocks,
    as in Llama/SmolLM2: heads 0..g-1 share kv head 0, with g = n_heads / n_kv_heads)."""
    table = getattr(model.blocks[0].attn, "kv_head_of", None)  # the pretrained adapter's own map, when present
    if isinstance(table, torch.Tensor):
        return int(table[head])
    return head // (model.config.n_heads // n_kv_heads(model))


def _expand_kv(weight: torch.Tensor, n_heads: int) -> torch.Tensor:
    """[n_kv_heads, ...] -> [n_heads, ...] by repeating each kv head for its group of query heads."""
    if weight.shape[0] == n_heads:
        return weight
    return weight.repeat_interleave(n_heads // weight.shape[0], dim=0)


def norm_scale(norm) -> torch.Tensor | None:
    """γ [d_model] of a LayerNorm/RMSNorm module (ours: ``weight``; the pretrained adapter's: ``w``), or None."""
    gamma = getattr(norm, "weight", None)
    if gamma is None:
        gamma = getattr(norm, "w", None)
    return _weight(gamma) if isinstance(gamma, torch.Tensor) else None


def _reading_scale(model, layer: int) -> torch.Tensor | None:
    """γ of the norm that layer ``layer``'s attention reads through (pre-norm blocks only)."""
    block = model.blocks[layer]
    if getattr(block, "post_ln", False):
        return None
    return norm_scale(getattr(block, "ln1", None))


def head_weights(model, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``W_Q, W_K, W_V`` [n_heads, d_model, d_head] and ``W_O`` [n_heads, d_head, d_model] of one layer,
    with shared key/value heads repeated for every query head that uses them, and the reading norm's γ folded
    into W_Q, W_K and W_V."""
    attn = model.blocks[layer].attn
    n_heads = model.config.n_heads
    w_q, w_k, w_v = _weight(attn.W_Q), _expand_kv(_weight(attn.W_K), n_heads), _expand_kv(_weight(attn.W_V), n_heads)
    gamma = _reading_scale(model, layer)
    if gamma is not None:
        scale = gamma[None, :, None]  # [1, d_model, 1]: row i of each head's matrix reads residual direction i
        w_q, w_k, w_v = w_q * scale, w_k * scale, w_v * scale
    return w_q, w_k, w_v, _weight(attn.W_O)


def _stacked(model) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """All layers' weights: W_Q/W_K/W_V [n_layers, n_heads, d_model, d_head], W_O [n_layers, n_heads, d_head,
    d_model]."""
    per_layer = [head_weights(model, layer) for layer in range(model.config.n_layers)]
    return tuple(torch.stack(ws) for ws in zip(*per_layer))  # type: ignore[return-value]


# --------------------------------------------------------------------------- one head's circuits
def qk_circuit(model, layer: int, head: int) -> FactoredMatrix:
    """``W_QK = W_Q W_Kᵀ`` [d_model, d_model] (rank ≤ d_head). With rotary positions this is the circuit
    between a query and a key at the same position (the rotation is left out)."""
    w_q, w_k, _, _ = head_weights(model, layer)
    return FactoredMatrix(w_q[head], w_k[head].T)


def ov_circuit(model, layer: int, head: int) -> FactoredMatrix:
    """``W_OV = W_V W_O`` [d_model, d_model]: what a head writes (row vector x_k ↦ x_k W_OV)."""
    _, _, w_v, w_o = head_weights(model, layer)
    return FactoredMatrix(w_v[head], w_o[head])


def all_qk(model) -> FactoredMatrix:
    """Every head's QK circuit, batched: [n_layers, n_heads, d_model, d_model]."""
    w_q, w_k, _, _ = _stacked(model)
    return FactoredMatrix(w_q, w_k.transpose(-2, -1))


def all_ov(model) -> FactoredMatrix:
    """Every head's OV circuit, batched: [n_layers, n_heads, d_model, d_model]."""
    _, _, w_v, w_o = _stacked(model)
    return FactoredMatrix(w_v, w_o)


def _token_ids(model, tokens: torch.Tensor | list[int] | None) -> torch.Tensor:
    if tokens is None:
        return torch.arange(model.W_E.shape[0])
    ids = torch.as_tensor(tokens, dtype=torch.long).flatten()
    if ids.numel() and (ids.min() < 0 or ids.max() >= model.W_E.shape[0]):
        raise ValueError(f"Token ids must be in 0..{model.W_E.shape[0] - 1}.")
    return ids


def full_qk_circuit(model, layer: int, head: int, tokens: torch.Tensor | list[int] | None = None) -> FactoredMatrix:
    """``W_E W_QK W_Eᵀ`` restricted to ``tokens`` (rows: query token, columns: key token) [n_tok, n_tok].

    Entry (i, j) is the attention score (before ÷√d_head) that token i's embedding gives token j's embedding.
    """
    ids = _token_ids(model, tokens)
    w_e = _weight(model.W_E)[ids]  # [n_tok, d_model]
    return w_e @ qk_circuit(model, layer, head) @ w_e.T


def positional_qk_circuit(model, layer: int, head: int, n_pos: int | None = None) -> FactoredMatrix | None:
    """``W_pos W_QK W_posᵀ`` [n_pos, n_pos] (rows: query position, columns: key position); None when the model
    has no absolute position table (rotary or no positions)."""
    w_pos = getattr(model, "W_pos", None)
    if w_pos is None:
        return None
    w_pos = _weight(w_pos)
    n_pos = w_pos.shape[0] if n_pos is None else min(n_pos, w_pos.shape[0])
    return w_pos[:n_pos] @ qk_circuit(model, layer, head) @ w_pos[:n_pos].T


def _unembed(model) -> torch.Tensor:
    w_u = getattr(model, "W_U", None)
    if w_u is None:
        raise ValueError("This model has no unembedding W_U (a classifier head): the OV circuit cannot be read "
                         "in logits.")
    gamma = norm_scale(getattr(model, "ln_final", None))
    w_u = _weight(w_u)  # [d_model, d_vocab]
    return w_u if gamma is None else gamma[:, None] * w_u


def full_ov_circuit(model, layer: int, head: int, tokens: torch.Tensor | list[int] | None = None,
                    out_tokens: torch.Tensor | list[int] | None = None) -> FactoredMatrix:
    """``W_E W_OV W_U`` on a token subset [n_tok, n_out]: row i is what attending to token i adds to each
    output token's logit (``out_tokens`` defaults to ``tokens``)."""
    ids = _token_ids(model, tokens)
    out_ids = ids if out_tokens is None else _token_ids(model, out_tokens)
    return _weight(model.W_E)[ids] @ ov_circuit(model, layer, head) @ _unembed(model)[:, out_ids]


def full_ov_eigenvalues(model, layer: int, head: int) -> torch.Tensor:
    """Eigenvalues [d_head] (complex) of the full OV circuit ``W_E W_OV W_U``: kept factored as
    (W_E W_V)·(W_O W_U), its non-zero eigenvalues are those of the d_head × d_head product (W_O W_U)(W_E W_V)."""
    full = _weight(model.W_E) @ ov_circuit(model, layer, head) @ _unembed(model)  # [d_vocab, d_vocab], factored
    return full.eigenvalues


def ov_self_copy(model, layer: int, head: int) -> torch.Tensor:
    """The diagonal of the full OV circuit [d_vocab]: how much attending to a token raises that same token's
    logit. Computed row by row from [d_vocab, d_head] factors (no vocab × vocab matrix)."""
    ov = ov_circuit(model, layer, head)
    left = _weight(model.W_E) @ ov.A  # [d_vocab, d_head]
    right = ov.B @ _unembed(model)  # [d_head, d_vocab]
    return (left * right.T).sum(-1)  # [d_vocab]


def top_copied_tokens(model, layer: int, head: int, k: int = 20, exclude: tuple[int, ...] = ()) -> torch.Tensor:
    """The ``k`` token ids this head copies most strongly (largest diagonal of its full OV circuit)."""
    scores = ov_self_copy(model, layer, head)
    if exclude:
        scores[list(exclude)] = float("-inf")
    return scores.topk(min(k, int(torch.isfinite(scores).sum()))).indices


# --------------------------------------------------------------------------- scores for every head
def all_full_ov_eigenvalues(model) -> torch.Tensor:
    """Eigenvalues of every head's full OV circuit ``W_E W_OV W_U`` [n_layers, n_heads, d_head] (complex).

    Its non-zero eigenvalues are those of the d_head × d_head product ``W_O (W_U W_E) W_V``; only the
    d_model × d_model matrix ``W_U W_E`` is formed, once for all heads.
    """
    _, _, w_v, w_o = _stacked(model)
    unembed_embed = _unembed(model) @ _weight(model.W_E)  # [d_model, d_model]
    small = w_o @ unembed_embed @ w_v  # [n_layers, n_heads, d_head, d_head]
    return torch.linalg.eigvals(small.double())


def copying_scores(model) -> torch.Tensor:
    """Elhage et al.'s copying score [n_layers, n_heads]: Σλ / Σ|λ| over the eigenvalues λ of the full OV circuit
    ``W_E W_OV W_U``. Near +1: the head raises the logits of the tokens it attends to (copying)."""
    eig = all_full_ov_eigenvalues(model)  # [n_layers, n_heads, d_head]
    total = eig.abs().sum(-1)
    return (eig.sum(-1).real / total.clamp_min(1e-30)).float()


def composition_score(w_a: FactoredMatrix, w_b: FactoredMatrix) -> torch.Tensor:
    """``‖W_A W_B‖_F / (‖W_A‖_F ‖W_B‖_F)`` (batch dimensions broadcast): 1 when what A writes is exactly what
    B reads along one direction, 0 when B reads a subspace orthogonal to A's output."""
    numerator = torch.linalg.matrix_norm(w_a.compact_left() @ w_b.compact_right())
    return numerator / (w_a.norm() * w_b.norm()).clamp_min(1e-30)


def _reading_side(model, kind: str) -> FactoredMatrix:
    """The matrix M of the later head for each kind: W_QK (Q), W_QKᵀ (K) or W_OV (V), batched."""
    if kind == "Q":
        return all_qk(model)
    if kind == "K":
        return all_qk(model).T
    if kind == "V":
        return all_ov(model)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}.")


def composition_scores(model, kind: str) -> torch.Tensor:
    """Q-, K- or V-composition of every earlier head a with every later head b (Elhage et al. 2021):
    ``‖W_OVᵃ Mᵇ‖_F / (‖W_OVᵃ‖_F ‖Mᵇ‖_F)`` with Mᵇ = W_QKᵇ (Q), W_QKᵇᵀ (K) or W_OVᵇ (V).

    Returns [n_layers, n_heads, n_layers, n_heads] indexed [layer_a, head_a, layer_b, head_b]; NaN where head a
    is not in an earlier layer than head b (it cannot write into what b reads).
    Each pair costs one d_head × d_head product of compact factors (see FactoredMatrix.compact_left).
    """
    reading = _reading_side(model, kind)
    writing = all_ov(model)
    left = writing.compact_left()  # [L, H, k, d_model]
    right = reading.compact_right()  # [L, H, d_model, k']
    n_layers, n_heads = left.shape[:2]
    left_norm = torch.linalg.matrix_norm(left)  # [L, H]
    right_norm = torch.linalg.matrix_norm(right)  # [L, H]
    out = torch.full((n_layers, n_heads, n_layers, n_heads), float("nan"))
    k, k_right = left.shape[2], right.shape[3]
    for layer_a in range(n_layers - 1):
        rows = left[layer_a].reshape(n_heads * k, -1)  # [H*k, d_model]
        for layer_b in range(layer_a + 1, n_layers):
            cols = right[layer_b].permute(1, 0, 2).reshape(-1, n_heads * k_right)  # [d_model, H*k']
            blocks = (rows @ cols).view(n_heads, k, n_heads, k_right)  # [head_a, k, head_b, k']
            numerator = blocks.pow(2).sum(dim=(1, 3)).sqrt()  # [head_a, head_b]
            denominator = left_norm[layer_a][:, None] * right_norm[layer_b][None, :]
            out[layer_a, :, layer_b, :] = numerator / denominator.clamp_min(1e-30)
    return out


def random_composition_baseline(d_model: int, d_head: int, kind: str = "K", n_samples: int = 64,
                                seed: int = 0) -> float:
    """The mean composition score of heads with independent Gaussian weights of the same shapes: what
    "no composition" looks like (random low-rank matrices still overlap a little: about 1/√d_model)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}.")
    gen = torch.Generator().manual_seed(seed)

    def factors(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        left = torch.randn(n, d_model, d_head, generator=gen) / math.sqrt(d_model)  # [n, d_model, d_head]
        right = torch.randn(n, d_head, d_model, generator=gen) / math.sqrt(d_head)  # [n, d_head, d_model]
        return left, right

    writer = FactoredMatrix(*factors(n_samples))
    reader = FactoredMatrix(*factors(n_samples))
    reader = reader.T if kind == "K" else reader
    return float(composition_score(writer, reader).mean())
