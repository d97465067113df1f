"""Fill in the blank: a masked language model's top-k tokens and their probabilities at each [MASK] of a text.

Models pre-trained here (``head="mlm"``) read words with the app's tokenizer and have [MASK] as the id after their
vocabulary; a Hugging Face masked-LM checkpoint (bert-base-uncased, distilbert…, online) reads its own tokens.
p(token) = softmax(logits at that position); special tokens and [MASK] itself are never offered.
"""

from __future__ import annotations

import re

import pandas as pd
import torch

from explorer.data.tokenizers import SPECIALS, Tokenizer
from explorer.models import Transformer
from explorer.models.pretrained.model import PretrainedModel

MASK_PATTERN = re.compile(r"\[mask\]|<mask>", re.IGNORECASE)
MAX_TOKENS = 256


def _top_k(logits: torch.Tensor, positions: list[int], banned: list[int], names, k: int) -> pd.DataFrame:
    """Rows (blank, rank, token, probability) for each position; logits [pos, d_vocab]."""
    rows = []
    for blank, position in enumerate(positions, start=1):
        scores = logits[position].float().clone()
        scores[banned] = float("-inf")
        probs = torch.softmax(scores, dim=-1)
        top = torch.topk(probs, min(k, int(torch.isfinite(scores).sum())))
        for rank, (p, i) in enumerate(zip(top.values.tolist(), top.indices.tolist()), start=1):
            rows.append({"blank": blank, "rank": rank, "token": names(i), "probability": p})
    return pd.DataFrame(rows, columns=["blank", "rank", "token", "probability"])


def _check(text: str) -> int:
    n = len(MASK_PATTERN.findall(text))
    if n == 0:
        raise ValueError("Type [MASK] where a word is missing, e.g. “the film was [MASK] and the actors were great”.")
    return n


@torch.no_grad()
def fill_mask_here(model: Transformer, tokenizer: Tokenizer, text: str, k: int = 10) -> pd.DataFrame:
    """A masked-LM model of this app: the text's words through its tokenizer, each [MASK] as ``mask_id``."""
    if model.config.head != "mlm":
        raise ValueError("This model was not trained as a masked language model: only those fill in a [MASK].")
    _check(text)
    ids: list[int] = []
    positions: list[int] = []
    for i, piece in enumerate(MASK_PATTERN.split(text)):
        if i:
            positions.append(len(ids))
            ids.append(model.config.mask_id)
        ids.extend(tokenizer.encode(piece))
    limit = min(MAX_TOKENS, model.config.n_ctx)
    if len(ids) > limit:
        raise ValueError(f"The text makes {len(ids)} tokens; this model reads at most {limit}.")
    logits = model.eval()(torch.tensor([ids], dtype=torch.long))[0]  # [pos, d_vocab]
    banned = [*range(len(SPECIALS)), model.config.mask_id]
    names = lambda i: tokenizer.tokens[i] if i < tokenizer.vocab_size else "[MASK]"  # noqa: E731
    return _top_k(logits, positions, banned, names, k)


@torch.no_grad()
def fill_mask_pretrained(model: PretrainedModel, text: str, k: int = 10) -> pd.DataFrame:
    """A pretrained masked-LM checkpoint with its language-model head (MiniLM has none: a ValueError says so)."""
    if not model.config.has_lm_head or model.config.causal:
        raise ValueError(f"{model.config.name} has no masked-language-model head (a sentence encoder's vectors are "
                         "not trained to predict words): open a masked-LM checkpoint such as bert-base-uncased "
                         "(online), or pre-train one here.")
    _check(text)
    tokenizer = model.tokenizer
    mask_token = getattr(tokenizer, "mask_token", None)
    if mask_token is None:
        raise ValueError(f"{model.config.name}'s tokenizer has no mask token.")
    ids = model.to_tokens(MASK_PATTERN.sub(mask_token, text), max_tokens=MAX_TOKENS)  # [1, pos]
    positions = (ids[0] == tokenizer.mask_token_id).nonzero().squeeze(1).tolist()
    logits = model(ids)[0]  # [pos, d_vocab]
    banned = sorted({*model.config.special_ids, tokenizer.mask_token_id})
    return _top_k(logits, positions, banned, lambda i: tokenizer.decode([i]).strip(), k)
