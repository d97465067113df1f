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


@torch.no_grad()
def evaluate_split(model: torch.nn.Module, split: Formatted, device: torch.device,
                   batch_size: int = 256) -> dict[str, float]:
    """Loss (mean over every labelled token of the split, as the training loss is per batch), token accuracy and
    whole-sequence accuracy of ``model`` on a formatted split (eval mode; the caller switches back)."""
    model.eval()
    loss_sum, correct, total, rows_ok, rows = 0.0, 0, 0, 0, 0
    for start in range(0, len(split), batch_size):
        batch = split.take(torch.arange(start, min(start + batch_size, len(split)), device=device))
        logits = forward(model, batch)
        c, t, ro, r = accuracy_counts(logits, batch.labels)
        loss_sum += float(loss_fn(logits, batch.labels)) * t  # the batch's mean times its labelled tokens
        correct, total, rows_ok, rows = correct + c, total + t, rows_ok + ro, rows + r
    return {"val_loss": loss_sum / max(total, 1), "val_accuracy": correct / max(total, 1),
            "val_sequence_accuracy": rows_ok / max(rows, 1)}
