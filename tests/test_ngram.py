"""The n-gram language model: add-k probabilities from counts, summing to 1, perplexity = exp(mean NLL)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from explorer.models.ngram import NGramModel, perplexity

V = 7


def _text(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(4, V, size=n).astype(np.int32)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_probabilities_are_add_k_counts_and_sum_to_one(n: int) -> None:
    text = _text()
    model = NGramModel.fit([text], n=n, k=0.5, vocab_size=V)
    grams = Counter(tuple(text[i:i + n]) for i in range(len(text) - n + 1))
    contexts = Counter(tuple(text[i:i + n - 1]) for i in range(len(text) - n + 1))
    for context in [tuple(text[10:10 + n - 1]), (4,) * (n - 1), (6, 5, 4, 6)[:n - 1]]:
        p = model.distribution(list(context))
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        for w in range(V):
            expected = (grams[(*context, w)] + 0.5) / (contexts[context] + 0.5 * V)
            assert p[w] == pytest.approx(expected, rel=1e-12)
    if n > 1:  # a context never seen: uniform
        np.testing.assert_allclose(model.distribution([3] * (n - 1)), np.full(V, 1 / V))


def test_perplexity_is_exp_of_the_mean_negative_log_likelihood() -> None:
    train, val = _text(2000, 1), _text(300, 2)
    model = NGramModel.fit([train], n=3, k=1.0, vocab_size=V)
    nll = model.token_nll(val, start=1)
    by_hand = [-math.log(model.distribution(list(val[max(0, i - 2):i]))[val[i]]) for i in range(1, len(val))]
    np.testing.assert_allclose(nll, by_hand, rtol=1e-12)
    assert perplexity(nll) == pytest.approx(math.exp(np.mean(by_hand)))
    assert perplexity(nll) < V  # random symbols 4..6: better than the uniform guess over all 7 tokens


def test_texts_are_counted_apart_and_bad_settings_are_refused() -> None:
    model = NGramModel.fit([np.array([4, 5]), np.array([6, 4])], n=2, k=1.0, vocab_size=V)
    assert model.distribution([5])[6] == pytest.approx(1 / V)  # "5 6" never occurs: the texts are not joined
    with pytest.raises(ValueError, match="k must be above 0"):
        NGramModel.fit([_text()], n=2, k=0.0, vocab_size=V)
    with pytest.raises(ValueError, match="n must be between 1 and 5"):
        NGramModel.fit([_text()], n=6, k=1.0, vocab_size=V)
    sample = NGramModel.fit([_text()], n=3, k=0.1, vocab_size=V).sample([4, 5], 50, seed=1, forbidden=(0,))
    assert len(sample) == 50 and 0 not in sample
