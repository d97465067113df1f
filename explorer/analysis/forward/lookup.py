"""Attention read as a database lookup, on a worked example small enough to follow by hand.

A database maps keys to values and returns the value whose key equals the query. Attention softens each part:
the query is compared with every key by a dot product (how well they match), the softmax turns the matches into
weights that sum to 1, and the answer is the weighted mix of all the values. A query pointing straight at one
key, with large norm, gives that key's value almost exactly (a hard lookup); a query between two keys gets a blend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# A greengrocer's price list: each fruit's key is a direction in a 2-D "what fruit is it" space.
FRUIT_KEYS = {"apple": 0.0, "pear": 40.0, "plum": 100.0, "cherry": 150.0, "lemon": 250.0}  # angle in degrees
FRUIT_PRICES = {"apple": 1.0, "pear": 1.5, "plum": 3.0, "cherry": 6.0, "lemon": 0.5}


@dataclass
class Lookup:
    keys: list[str]
    key_vectors: torch.Tensor  # [n_keys, d_k]
    values: torch.Tensor  # [n_keys]
    query: torch.Tensor  # [d_k]
    scores: torch.Tensor  # [n_keys] q·kⱼ / √d_k
    weights: torch.Tensor  # [n_keys] softmax of the scores
    answer: float  # Σⱼ wⱼ vⱼ


def _direction(degrees: float) -> torch.Tensor:
    angle = math.radians(degrees)
    return torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)


def fruit_lookup(wanted: str, other: str | None = None, blend: float = 0.0, sharpness: float = 4.0) -> Lookup:
    """Ask the price of ``wanted`` (mixed with ``other`` by ``blend`` in [0, 1]) with a query of norm ``sharpness``."""
    if wanted not in FRUIT_KEYS or (other is not None and other not in FRUIT_KEYS):
        raise ValueError(f"Choose among {', '.join(FRUIT_KEYS)}.")
    if not 0.0 <= blend <= 1.0 or sharpness < 0:
        raise ValueError("The blend must be in [0, 1] and the sharpness at least 0.")
    keys = list(FRUIT_KEYS)
    key_vectors = torch.stack([_direction(FRUIT_KEYS[k]) for k in keys])  # [n_keys, 2]
    direction = (1 - blend) * _direction(FRUIT_KEYS[wanted])
    if other is not None:
        direction = direction + blend * _direction(FRUIT_KEYS[other])
    query = sharpness * direction / direction.norm().clamp_min(1e-12)
    scores = key_vectors @ query / math.sqrt(key_vectors.shape[1])
    weights = torch.softmax(scores, dim=0)
    values = torch.tensor([FRUIT_PRICES[k] for k in keys], dtype=torch.float64)
    return Lookup(keys, key_vectors, values, query, scores, weights, float(weights @ values))
