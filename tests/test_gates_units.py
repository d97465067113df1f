"""Finding units by a task signal (LSTMVis-style) and reading a classifier after every prefix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.analysis.readout import next_token_probabilities, prefix_probabilities
from explorer.analysis.unit_search import (
    available_signals,
    compute_signal,
    correlations,
    depth_signal,
    quote_signal,
    rank_units,
    sentiment_signal,
    span_scores,
    word_polarity,
)
from explorer.data.tasks import bracket_depth
from explorer.data.text_tasks import classification_task
from explorer.models import RecurrentConfig, build_model


def test_depth_signal_follows_bracket_depth_for_characters_and_longer_tokens() -> None:
    text = "(()(()))("
    assert depth_signal(list(text)).tolist() == bracket_depth(text)
    assert depth_signal(["((", "x", ")", "())"]).tolist() == [2, 2, 1, 0]


def test_quote_signal_is_on_between_quotes() -> None:
    assert quote_signal(list('a"bc"d')).tolist() == [0, 1, 1, 1, 0, 0]


def test_correlations_equal_numpy_and_ranking_finds_a_planted_unit() -> None:
    rng = np.random.default_rng(0)
    signal = np.cumsum(rng.choice([-1.0, 1.0], size=60))
    values = rng.normal(size=(60, 8))
    values[:, 5] = 0.8 * signal + 0.1 * rng.normal(size=60)
    values[:, 2] = 3.0  # a constant unit: no correlation defined, reported as 0
    r = correlations(values, signal)
    for unit in (0, 5, 7):
        assert r[unit] == pytest.approx(np.corrcoef(values[:, unit], signal)[0, 1])
    assert r[2] == 0.0
    table = rank_units(values, signal, top=3)
    assert table["unit"].iloc[0] == 5 and table["r"].iloc[0] > 0.95


def test_span_scores_find_a_unit_on_exactly_over_the_span() -> None:
    values = np.zeros((10, 3))
    values[3:6, 1] = 0.9
    values[:, 2] = 0.9  # always on: no better inside than outside
    table = span_scores(values, 3, 5, threshold=0.5)
    assert table["unit"].iloc[0] == 1 and table["score"].iloc[0] == pytest.approx(1.0)
    assert table.set_index("unit").loc[2, "score"] == pytest.approx(0.0)


def _sentiment_data():
    texts = ["good fun film", "good great", "bad dull film", "bad awful", "great fun", "dull film"] * 5
    labels = [1, 1, 0, 0, 1, 0] * 5
    return classification_task("toy", texts, labels, ["negative", "positive"], val_fraction=0.2, seed=0)


def test_word_polarity_comes_from_the_training_split_only() -> None:
    data = _sentiment_data()
    polarity = word_polarity(data)
    tok = data.tokenizer
    assert polarity[tok.id_of("good")] > 0 > polarity[tok.id_of("bad")]
    counts = np.zeros((2, tok.vocab_size))
    for ids, label in zip(data.train.sources, data.train.labels):
        for i in ids:
            counts[label, i] += 1
    expected = np.log((counts[1] + 1) / (counts[1].sum() + tok.vocab_size)) - \
        np.log((counts[0] + 1) / (counts[0].sum() + tok.vocab_size))
    np.testing.assert_allclose(polarity, expected)
    ids = tok.encode("good bad good")
    np.testing.assert_allclose(sentiment_signal(ids, polarity), np.cumsum(polarity[ids]))
    assert "sentiment" in available_signals(data, ["good"])
    assert compute_signal("sentiment", ["good"], ids[:1], polarity)[0] == pytest.approx(polarity[ids[0]])


def test_signals_offered_depend_on_the_input() -> None:
    assert available_signals(None, list("(()")) == ["depth", "position", "span"]
    assert available_signals(None, ["say", '"', "hi", '"']) == ["position", "quote", "span"]
    with pytest.raises(ValueError):
        compute_signal("sentiment", ["a"], [4])


@pytest.mark.parametrize("pooling", ["mean", "last"])
@pytest.mark.parametrize("pad_id", [0, None])
@pytest.mark.parametrize("backwards", [False, True])
def test_prefix_probabilities_equal_the_classifier_on_what_it_has_read(pooling: str, pad_id: int | None,
                                                                        backwards: bool) -> None:
    cfg = RecurrentConfig(cell="lstm", d_vocab=12, d_embed=4, d_hidden=4, head="classifier", n_classes=2,
                          pooling=pooling, d_classifier_hidden=4, sigmoid_output=True, pad_id=pad_id,
                          go_backwards=backwards)
    model = build_model(cfg).eval()
    ids = [4, 5, 6, 7, 8, 9, 10, 11, 4]
    probs = prefix_probabilities(model, ids)
    assert probs.shape == (len(ids), 2)
    with torch.no_grad():
        for t in range(len(ids)):
            read = ids[len(ids) - 1 - t:] if backwards else ids[:t + 1]  # a backwards reader starts at the end
            expected = torch.softmax(model(torch.tensor([read])), dim=-1)[0].numpy()
            np.testing.assert_allclose(probs[t], expected, atol=1e-6)


def test_next_token_probabilities_are_the_softmax_of_the_language_model() -> None:
    model = build_model(RecurrentConfig(cell="gru", d_vocab=10, d_embed=4, d_hidden=6)).eval()
    ids = [4, 5, 6, 7, 8]
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([ids])), dim=-1)[0]
    expected = [float(probs[t, ids[t + 1]]) for t in range(len(ids) - 1)]
    np.testing.assert_allclose(next_token_probabilities(model, ids), expected, atol=1e-6)
    assert next_token_probabilities(model, [4]).shape == (0,)
