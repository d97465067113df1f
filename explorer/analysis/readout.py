"""What a recurrent model "thinks" as it reads: its output after every prefix of the input.

Classifier: the class probabilities the model gives to ``ids[:t+1]`` for every t, from running the whole
classifier (embedding, recurrence, pooling, head) on each prefix, batched. Language model: the probability
it gives to the token that actually comes next, after each prefix.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.data.tokenizers import PAD
from explorer.models import RecurrentModel

MAX_PREFIX_TOKENS = 4096 * 16  # tokens per batch of prefixes (a batch is [n_prefixes, longest prefix])


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def prefix_probabilities(model: RecurrentModel, ids: list[int] | tuple[int, ...]) -> np.ndarray:
    """``[pos, n_classes]``: softmax of the classifier after reading t + 1 tokens, for every t.

    That is the prefix ``ids[:t+1]``, or for a model that reads backwards (``go_backwards``) the suffix
    ``ids[-(t+1):]``: rows follow the reading order. Inputs are right-padded with ``<pad>`` and run in batches;
    the model's pad mask keeps padding out of the pooling. A model without a pad id runs each one alone
    (padding would change its pooling).
    """
    cfg = model.config
    if cfg.head != "classifier":
        raise ValueError("Prefix probabilities are for classifiers; a language model has next_token_probabilities.")
    n = len(ids)
    if n == 0:
        return np.zeros((0, cfg.n_classes), dtype=np.float32)
    device = _device(model)
    full = torch.tensor(list(ids), dtype=torch.long, device=device)  # [pos]

    def read_so_far(t: int) -> torch.Tensor:  # [t + 1], in input order
        return full[n - 1 - t:] if cfg.go_backwards else full[:t + 1]

    if cfg.pad_id != PAD:
        rows = [torch.softmax(model(read_so_far(t)[None]).float(), dim=-1)[0] for t in range(n)]
        return torch.stack(rows).cpu().numpy()
    per_batch = max(1, MAX_PREFIX_TOKENS // n)
    out = []
    for start in range(0, n, per_batch):
        stop = min(n, start + per_batch)
        batch = torch.full((stop - start, stop), PAD, dtype=torch.long, device=device)  # [batch, width]
        for row, t in enumerate(range(start, stop)):
            batch[row, :t + 1] = read_so_far(t)
        out.append(torch.softmax(model(batch).float(), dim=-1).cpu())  # [batch, n_classes]
    return torch.cat(out).numpy()


@torch.no_grad()
def next_token_probabilities(model: RecurrentModel, ids: list[int] | tuple[int, ...]) -> np.ndarray:
    """``[pos - 1]``: p(ids[t+1] | ids[:t+1]) from a language model, one forward pass."""
    if model.config.head != "lm":
        raise ValueError("Next-token probabilities are for language models.")
    if len(ids) < 2:
        return np.zeros(0, dtype=np.float32)
    tokens = torch.tensor([list(ids)], dtype=torch.long, device=_device(model))  # [1, pos]
    probs = torch.softmax(model(tokens)[0, :-1].float(), dim=-1)  # [pos - 1, d_vocab]
    return probs.gather(1, tokens[0, 1:, None])[:, 0].cpu().numpy()
