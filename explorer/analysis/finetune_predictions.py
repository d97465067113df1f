"""What a fine-tuned classifier does now: class probabilities of validation texts, a table, a confusion matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from explorer.data.dataset import TaskData
from explorer.data.text_tasks import split_texts
from explorer.models.finetune.classifier import EncoderClassifier
from explorer.training.finetune_trainer import encode_texts

BATCH = 32


@torch.no_grad()
def text_probabilities(model: EncoderClassifier, texts: list[str]) -> np.ndarray:
    """softmax of the classifier's logits for each text: [n, n_classes] (texts sorted by length into batches)."""
    model.eval()
    tokens = encode_texts(model.encoder, texts, model.config.max_len)  # [n, width]
    order = (tokens != model.pad_id).sum(dim=1).argsort()
    out = torch.zeros(len(texts), model.config.n_classes)
    for start in range(0, len(texts), BATCH):
        rows = order[start:start + BATCH]
        out[rows] = torch.softmax(model(tokens[rows]).float(), dim=-1)
    return out.numpy()


def finetune_examples(model: EncoderClassifier, data: TaskData, n: int = 12) -> pd.DataFrame:
    """The first ``n`` validation texts: true class, predicted class and its probability, p(true)."""
    texts = split_texts(data.val, data.tokenizer)[:n]
    labels = list(data.val.labels or [])[:n]
    probs = text_probabilities(model, texts)
    names = data.class_names or [str(i) for i in range(model.config.n_classes)]
    predicted = probs.argmax(1) if len(texts) else np.zeros(0, dtype=int)
    return pd.DataFrame({"input": texts, "true": [names[y] for y in labels], "predicted": [names[p] for p in predicted],
                         "p(predicted)": probs[np.arange(len(texts)), predicted],
                         "p(true)": probs[np.arange(len(texts)), labels]})


def finetune_confusion(model: EncoderClassifier, data: TaskData, max_examples: int = 1000) -> np.ndarray:
    """Counts [true class, predicted class] over (up to ``max_examples``) validation texts."""
    texts = split_texts(data.val, data.tokenizer)[:max_examples]
    labels = np.array(list(data.val.labels or [])[:max_examples], dtype=int)
    predicted = text_probabilities(model, texts).argmax(1)
    k = model.config.n_classes
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix
