"""What fine-tuning changed: attention patterns, weights, LoRA's updates and sentence embeddings, before vs after.

"Before" is the pretrained base, "after" the fine-tuned encoder with its adapters merged (explorer/models/finetune/
merge.py); both are :class:`PretrainedModel` with the same hook names, read on the same held-out sentences.

- Pattern change of head (l, h): the total-variation distance ½ Σ_k |A'[q, k] − A[q, k]| between its attention rows
  after and before, averaged over the real query tokens of every sentence. 0: the head attends exactly as before;
  1: it now attends where it never did.
- Relative weight change ‖W' − W‖_F / ‖W‖_F of every matrix and bias of every layer.
- LoRA: the singular values of each ΔW = (α/r)·B·A; at most r of them are non-zero (its rank is at most r).
- Sentence embeddings: the pooled vector the head reads, for each sentence, before and after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from explorer.models.finetune import lora_deltas
from explorer.models.finetune.classifier import EncoderClassifier
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.finetune_trainer import encode_texts

CHUNK = 16  # sentences per forward pass
MATRICES = {  # module path inside a block -> (weight label, bias label)
    "attn.q": ("W_Q", "b_Q"), "attn.k": ("W_K", "b_K"), "attn.v": ("W_V", "b_V"), "attn.o": ("W_O", "b_O"),
    "mlp.fc_in": ("W_in", "b_in"), "mlp.fc_out": ("W_out", "b_out"), "ln1": ("LN1 γ", "LN1 β"),
    "ln2": ("LN2 γ", "LN2 β"),
}
COLUMNS = [label for pair in MATRICES.values() for label in pair if not label.startswith(("LN", "b_"))] + \
    [label for pair in MATRICES.values() for label in pair if label.startswith("b_")] + \
    [label for pair in MATRICES.values() for label in pair if label.startswith("LN")]


def sentence_tokens(encoder: PretrainedModel, texts: list[str], max_len: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens [N, pos], mask [N, pos]: True for real tokens) with the encoder's own tokenizer."""
    tokens = encode_texts(encoder, texts, max_len)
    return tokens, tokens != int(encoder.config.pad_id or 0)


@torch.no_grad()
def attention_patterns(encoder: PretrainedModel, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Every head's pattern on every sentence: [layer, N, head, q_pos, k_pos] (padding keys get weight 0)."""
    names = [f"blocks.{layer}.attn.hook_pattern" for layer in range(encoder.config.n_layers)]
    chunks = []
    for start in range(0, tokens.shape[0], CHUNK):
        rows = slice(start, start + CHUNK)
        _, cache = encoder.run_with_cache(tokens[rows], attention_mask=mask[rows], names_filter=set(names).__contains__)
        chunks.append(torch.stack([cache[n] for n in names]))  # [layer, chunk, head, q, k]
    return torch.cat(chunks, dim=1)


@torch.no_grad()
def pattern_change(before: PretrainedModel, after: PretrainedModel, tokens: torch.Tensor,
                   mask: torch.Tensor) -> torch.Tensor:
    """Mean total-variation distance between after's and before's attention rows: [layer, head], in [0, 1]."""
    total = torch.zeros(before.config.n_layers, before.config.n_heads, dtype=torch.float64)
    n_queries = 0
    for start in range(0, tokens.shape[0], CHUNK):
        rows = slice(start, start + CHUNK)
        a, b = (attention_patterns(m, tokens[rows], mask[rows]) for m in (before, after))  # [L, n, H, q, k]
        distance = 0.5 * (b - a).abs().sum(dim=-1)  # [L, n, H, q]
        real = mask[rows][None, :, None, :].to(distance.dtype)  # [1, n, 1, q]
        total += (distance * real).sum(dim=(1, 3)).double()
        n_queries += int(mask[rows].sum())
    return (total / max(n_queries, 1)).float()


def _block_parameters(model: PretrainedModel) -> dict[tuple[int, str], torch.Tensor]:
    """(layer, label) -> tensor for every matrix and bias of every block; layer -1 for the embeddings."""
    out: dict[tuple[int, str], torch.Tensor] = {(-1, "W_E"): model.W_E}
    if model.W_pos is not None:
        out[(-1, "W_pos")] = model.W_pos
    for layer, block in enumerate(model.blocks):
        for path, (weight_label, bias_label) in MATRICES.items():
            module = block.get_submodule(path)
            weight = getattr(module, "weight", None) if hasattr(module, "weight") else getattr(module, "w", None)
            bias = getattr(module, "bias", None) if hasattr(module, "weight") else getattr(module, "b", None)
            if weight is not None:
                out[(layer, weight_label)] = weight
            if bias is not None:
                out[(layer, bias_label)] = bias
    return out


@torch.no_grad()
def weight_change(before: PretrainedModel, after: PretrainedModel) -> pd.DataFrame:
    """One row per (layer, matrix): ‖ΔW‖_F, ‖W‖_F and their ratio; layer "embeddings" for W_E and W_pos."""
    old, new = _block_parameters(before), _block_parameters(after)
    rows = []
    for key, w in old.items():
        delta = float((new[key].float() - w.float()).norm())
        norm = float(w.float().norm())
        rows.append({"layer": "embeddings" if key[0] < 0 else f"L{key[0]}", "matrix": key[1],
                     "change": delta, "norm": norm, "relative change": delta / norm if norm > 0 else 0.0})
    return pd.DataFrame(rows)


@torch.no_grad()
def lora_spectra(model: EncoderClassifier) -> pd.DataFrame:
    """Singular values of each adapted ΔW = (α/r)·B·A, largest first, and its numerical rank (values above
    1e-5 of the largest)."""
    rows = []
    for path, delta in lora_deltas(model).items():
        values = torch.linalg.svdvals(delta.double())  # [min(d_out, d_in)]
        rank = int((values > 1e-5 * max(float(values[0]), 1e-30)).sum())
        layer, _, rest = path.removeprefix("blocks.").partition(".")
        label = MATRICES.get(rest, (rest, ""))[0]
        for i, value in enumerate(values[:2 * model.config.lora_r].tolist()):
            rows.append({"matrix": f"L{layer} {label}", "index": i + 1, "singular value": value, "rank": rank})
    return pd.DataFrame(rows, columns=["matrix", "index", "singular value", "rank"])


@torch.no_grad()
def sentence_embeddings(encoder: PretrainedModel, tokens: torch.Tensor, mask: torch.Tensor,
                        pooling: str = "mean") -> np.ndarray:
    """The pooled vector a classifier head reads for each sentence: [N, d_model] ([CLS] or the mean)."""
    out = []
    for start in range(0, tokens.shape[0], CHUNK):
        rows = slice(start, start + CHUNK)
        hidden = encoder.final_hidden(tokens[rows], mask[rows])  # [n, pos, d_model]
        if pooling == "cls":
            out.append(hidden[:, 0])
        else:
            weights = mask[rows].to(hidden.dtype).unsqueeze(-1)
            out.append((hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0))
    return torch.cat(out).float().numpy()


def class_separation(vectors: np.ndarray, labels: np.ndarray) -> float:
    """How far apart the classes' centroids are, in units of the spread within classes (a Fisher ratio): the
    distance between the two means over the root mean squared distance of the points to their own class mean.
    For more than two classes, the mean over pairs."""
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        return 0.0
    means = {c: vectors[labels == c].mean(axis=0) for c in classes}
    spread = np.sqrt(np.mean([np.sum((vectors[labels == c] - means[c]) ** 2, axis=1).mean() for c in classes]))
    pairs = [(a, b) for i, a in enumerate(classes) for b in classes[i + 1:]]
    distance = np.mean([np.linalg.norm(means[a] - means[b]) for a, b in pairs])
    return float(distance / spread) if spread > 0 else 0.0


def _frobenius_of_product(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖X Yᵀ‖_F per head without forming X Yᵀ: X [head, d, r], Y [head, d', r] -> [head]
    (‖X Yᵀ‖² = Σ (XᵀX) ∘ (YᵀY))."""
    gram_x = x.transpose(1, 2) @ x  # [head, r, r]
    gram_y = y.transpose(1, 2) @ y
    return (gram_x * gram_y).sum(dim=(1, 2)).clamp(min=0).sqrt()


@torch.no_grad()
def circuit_change(before: PretrainedModel, after: PretrainedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """Relative change of every head's QK circuit W_QK = W_Q W_Kᵀ and OV circuit W_OV = W_V W_O (Elhage et al.
    2021), ‖W' − W‖_F / ‖W‖_F: two tensors [layer, head]. Computed from the factors (d_model × d_model matrices are
    never formed): W' − W = [W'_Q, W_Q] · [W'_K, −W_K]ᵀ."""
    qk, ov = [], []
    for old, new in zip(before.blocks, after.blocks):
        q0, k0, v0, o0 = (t.double() for t in (old.attn.W_Q, old.attn.W_K, old.attn.W_V, old.attn.W_O))
        q1, k1, v1, o1 = (t.double() for t in (new.attn.W_Q, new.attn.W_K, new.attn.W_V, new.attn.W_O))
        o0, o1 = o0.transpose(1, 2), o1.transpose(1, 2)  # [head, d_model, d_head]: W_OV = W_V (W_Oᵀ)ᵀ
        for out, (a0, b0, a1, b1) in ((qk, (q0, k0, q1, k1)), (ov, (v0, o0, v1, o1))):
            delta = _frobenius_of_product(torch.cat([a1, a0], dim=2), torch.cat([b1, -b0], dim=2))
            out.append((delta / _frobenius_of_product(a0, b0).clamp(min=1e-30)).float())
    return torch.stack(qk), torch.stack(ov)
