"""Tokens: the live BPE's merges, applied by hand, reproduce Hugging Face tokenizers' own encoding; smaller
vocabularies are prefixes of one training; unknowns and specials are marked; one-hot × W_E is a row of W_E."""

from __future__ import annotations

import pytest
import torch

from explorer.analysis.tokenization import (
    bpe_by_hand,
    count_curve,
    lengths_frame,
    merge_word,
    merges_table,
    one_hot_times_embedding,
    with_app_tokenizer,
    with_bpe,
    with_pretrained_tokenizer,
)
from explorer.data.bpe import UNK_TOKEN, train_bpe
from explorer.data.tokenizers import Tokenizer

CORPUS = ("the cat sat on the mat. the cats sat on the mats! a matter of fact: that cat is fat, "
          "and the rats ran to the rat-catcher's hat. ") * 30
TEXT = "The cats' hats: unbelievably fat rats sat on 12 mats — ok?"


@pytest.fixture(scope="module")
def bpe():
    return train_bpe([CORPUS], 400)


def test_merges_by_hand_reproduce_tokenizers(bpe) -> None:
    assert bpe.merges, "the corpus has pairs to merge"
    for size in (bpe.alphabet_size, bpe.alphabet_size + 1, bpe.alphabet_size + 7, 80, 150, bpe.vocab_size):
        reading = with_bpe(bpe, size, TEXT)
        assert bpe_by_hand(bpe, TEXT, bpe.n_merges(size)) == reading.pieces, size
        assert max(reading.ids) < size
    unknown = [p for p, k in zip(reading.pieces, reading.kinds) if k == "unknown"]
    assert unknown and set(unknown) == {UNK_TOKEN}, "T, u, b, 1, 2, — never occur in the corpus"


def test_a_smaller_vocabulary_is_the_same_training_stopped_earlier(bpe) -> None:
    for size in (60, 120):
        small = train_bpe([CORPUS], size)
        assert small.merges == bpe.merges[:bpe.n_merges(size)]
        assert small.vocab == {t: i for t, i in bpe.vocab.items() if i < size}
        assert with_bpe(small, size, TEXT).pieces == with_bpe(bpe, size, TEXT).pieces


def test_the_token_count_falls_as_merges_are_added(bpe) -> None:
    curve = count_curve(bpe, TEXT, points=12)
    assert curve["tokens"].is_monotonic_decreasing
    # no merges: one token per character, spaces written "▁", and a "▁" in front of the text
    assert curve.iloc[0]["merges"] == 0 and curve.iloc[0]["tokens"] == len(TEXT) + 1
    assert curve.iloc[-1]["tokens"] < curve.iloc[0]["tokens"]
    table = merges_table(bpe, 5)
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert list(table["new token"]) == [a + b for a, b in bpe.merges[:5]]


def test_merging_takes_the_earliest_learned_pair_first() -> None:
    ranks = {("a", "b"): 0, ("b", "c"): 1, ("ab", "c"): 2}
    assert merge_word(list("abc"), ranks) == ["abc"]
    assert merge_word(list("bcab"), ranks) == ["bc", "ab"]
    assert merge_word(list("xyz"), ranks) == ["x", "y", "z"]


def test_bad_corpora_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        train_bpe(["   "], 100)
    with pytest.raises(ValueError, match="between"):
        train_bpe([CORPUS], 10**6)


def test_app_tokenizers_mark_unknown_and_special_tokens() -> None:
    words = Tokenizer.fit([CORPUS], mode="word", max_vocab=100)
    reading = with_app_tokenizer(words, "the zebra sat <sep> on", "words")
    assert reading.pieces[1] == "zebra" and reading.kinds[1] == "unknown" and reading.ids[1] == 1
    assert reading.kinds[0] == "token" and reading.n_unknown == 1
    chars = with_app_tokenizer(Tokenizer.fit([CORPUS], mode="char"), "cat!", "chars")
    assert chars.pieces == list("cat!") and len(chars) == 4
    frame = lengths_frame([reading, chars])
    assert list(frame["tokens"]) == [len(reading), 4]


def test_minilm_wordpiece_adds_its_special_tokens() -> None:
    from explorer.models.pretrained import MINILM
    from explorer.models.pretrained.tokenizer_loading import load_tokenizer

    reading = with_pretrained_tokenizer(load_tokenizer(MINILM), "Unbelievably 🤖 tokens", "MiniLM")
    assert reading.pieces[0] == "[CLS]" and reading.pieces[-1] == "[SEP]"
    assert reading.kinds[0] == reading.kinds[-1] == "special"
    assert any(p.startswith("##") for p in reading.pieces)
    assert "[UNK]" in reading.pieces and reading.n_unknown >= 1
    assert reading.specials["[CLS]"] == 101


def test_one_hot_times_the_table_is_its_row() -> None:
    table = torch.randn(50, 8)
    result = one_hot_times_embedding(table, 17)
    assert result.one_hot.sum() == 1 and result.one_hot[17] == 1
    assert result.max_error == 0.0
    torch.testing.assert_close(result.product, table[17])
    with pytest.raises(ValueError, match="outside"):
        one_hot_times_embedding(table, 50)
