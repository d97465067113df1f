"""A tiny random BERT (2 layers, built with transformers.BertConfig) with a word tokenizer, and toy sentiment data:
what the fine-tuning tests need without MiniLM's 90 MB or any download."""

from __future__ import annotations

import random

import torch
from transformers import BertConfig, BertModel, BertTokenizerFast

from explorer.data.text_tasks import classification_task
from explorer.models.pretrained import PretrainedModel, convert

GOOD = ["great", "superb", "lovely", "moving", "brilliant"]
BAD = ["awful", "boring", "dull", "terrible", "clumsy"]
FILLER = ["the", "film", "plot", "was", "a", "and", "actors", "story", "it", "music"]
SMALL_VOCABULARY = {"good": GOOD[:4], "bad": BAD[:4], "filler": FILLER[:8], "k": 8}  # nine-word sentences
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *GOOD, *BAD, *FILLER]


def tiny_tokenizer() -> BertTokenizerFast:
    return BertTokenizerFast(vocab={word: i for i, word in enumerate(WORDS)}, do_lower_case=True)


def tiny_bert(name: str = "tiny-bert", seed: int = 0) -> tuple[BertModel, PretrainedModel]:
    """(Hugging Face's model, ours converted from the same weights: they share storage)."""
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    hf = BertModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():  # non-zero biases and LayerNorm parameters, so that BitFit and merging are tested
        for p in hf.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    tokenizer = tiny_tokenizer()
    return hf, convert(hf, name, tokenizer, source="a test's random BERT")


def toy_sentiment(n: int = 240, seed: int = 0, good: list[str] = GOOD, bad: list[str] = BAD,
                  filler: list[str] = FILLER, k: int = 6):
    """Sentences of ``k`` filler words with one sentiment word that decides the label."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = [*rng.choices(filler, k=k), rng.choice(good if label else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return classification_task("toy sentiment", texts, labels, ["negative", "positive"], origin="upload")
