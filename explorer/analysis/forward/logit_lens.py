"""The logit lens (nostalgebraist 2020): read the residual stream after every layer as if it were the last.

For a decoder, the model's logits are logits = LN_final(x_L) W_U + b_U, where x_L is the residual stream after the
last block (the decks: logits = X W^U, Y = softmax(logits)). Applying the same final norm and unembedding to the
stream after block ℓ < L shows which next token the model "has in mind" at that depth. Post-LN models (whose blocks
end with a LayerNorm and have no final one) are read directly. The last row equals the model's own logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from explorer.analysis.forward.record import ResidualRecord

CHUNK = 512  # vectors unembedded at a time: [512, 49152] floats are 100 MB, freed after each chunk


@dataclass
class LogitLens:
    """Top tokens of every layer's reading, for the positions ``positions`` of one input."""

    labels: list[str]  # "embeddings", "after L0", …
    positions: list[int]
    top_ids: torch.Tensor  # [n_rows, n_pos, k]
    top_probs: torch.Tensor  # [n_rows, n_pos, k]
    final_ids: torch.Tensor  # [n_pos] the model's own prediction (argmax of its logits) at each position
    final_probs: torch.Tensor  # [n_rows, n_pos] probability of that prediction at each depth
    final_ranks: torch.Tensor  # [n_rows, n_pos] its rank at each depth (0 = top)


def lens_logits(model: Any, stream: torch.Tensor) -> torch.Tensor:
    """Residual vectors [n, d_model] -> logits [n, d_vocab] through the model's final norm and unembedding."""
    device = next(model.parameters()).device
    final_norm = getattr(model, "ln_final", None)
    with torch.no_grad():
        x = stream.to(device)
        if final_norm is not None:
            x = final_norm(x)
        return (x @ model.W_U + model.b_U).float().cpu()


def logit_lens(model: Any, record: ResidualRecord, positions: list[int] | None = None, k: int = 5) -> LogitLens:
    """The lens on ``record``'s streams at ``positions`` (default: every position).

    All (layer, position) vectors go through the unembedding together, CHUNK at a time (one large matrix product is
    much faster than one per layer); probabilities come from the log-sum-exp, without a softmax over the vocabulary.
    """
    if not record.anatomy.decoder_lm:
        raise ValueError("The logit lens reads a decoder's next-token predictions; this model is not a decoder "
                         "language model.")
    positions = list(range(record.streams.shape[1])) if positions is None else list(positions)
    streams = record.streams[:, positions]  # [n_rows, n_pos, d_model]
    n_rows, n_pos, d_model = streams.shape
    final_ids = lens_logits(model, streams[-1]).argmax(-1)  # [n_pos]: the model's own predictions
    flat = streams.reshape(n_rows * n_pos, d_model)  # row-major: (layer, position)
    wanted = final_ids.repeat(n_rows)  # [n_rows · n_pos]
    top_ids = torch.zeros(n_rows * n_pos, k, dtype=torch.long)
    top_probs = torch.zeros(n_rows * n_pos, k)
    final_probs = torch.zeros(n_rows * n_pos)
    final_ranks = torch.zeros(n_rows * n_pos, dtype=torch.long)
    for start in range(0, flat.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        logits = lens_logits(model, flat[part])  # [n, d_vocab]
        log_norm = torch.logsumexp(logits, dim=-1, keepdim=True)  # [n, 1]
        values, ids = logits.topk(min(k, logits.shape[-1]), dim=-1)
        top_ids[part, :ids.shape[1]], top_probs[part, :ids.shape[1]] = ids, (values - log_norm).exp()
        chosen = logits.gather(1, wanted[part, None])  # [n, 1]
        final_probs[part] = (chosen - log_norm)[:, 0].exp()
        final_ranks[part] = (logits > chosen).sum(-1)
    labels = ["embeddings"] + [f"after L{layer}" for layer in range(n_rows - 1)]
    return LogitLens(labels, positions, top_ids.view(n_rows, n_pos, k), top_probs.view(n_rows, n_pos, k), final_ids,
                     final_probs.view(n_rows, n_pos), final_ranks.view(n_rows, n_pos))
