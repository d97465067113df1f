"""Loss and accuracy for every model format (token prediction or classification)."""

from __future__ import annotations

import torch
from torch.nn import functional

from explorer.data.batches import IGNORE, Formatted


def forward(model: torch.nn.Module, batch: Formatted) -> torch.Tensor:
    """Logits for a batch: [batch, pos, d_vocab] for token tasks, [batch, n_classes] for classifiers."""
    if batch.decoder_inputs is not None:
        return model(batch.inputs, batch.decoder_inputs)
    return model(batch.inputs)


def loss_fn(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over labelled positions (``IGNORE`` positions skipped)."""
    return functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)


@torch.no_grad()
def accuracy_counts(logits: torch.Tensor, labels: torch.Tensor) -> tuple[int, int, int, int]:
    """(correct tokens, labelled tokens, fully correct rows, rows) for one batch."""
    predictions = logits.argmax(dim=-1)  # [batch, pos] or [batch]
    labelled = labels != IGNORE
    correct = (predictions == labels) & labelled
    if labels.dim() == 1:
        n = int(labels.numel())
        right = int(correct.sum())
        return right, n, right, n
    row_ok = (correct | ~labelled).all(dim=1)
    return int(correct.sum()), int(labelled.sum()), int(row_ok.sum()), int(labels.shape[0])
