"""The Train form's first-deck controls as a student uses them (AppTest): a recurrent encoder–decoder, plain SGD
with a schedule and early stopping, W_hh's scale with its spectral radius, the vocabulary size of word tokenizers."""

from __future__ import annotations

import numpy as np
import pytest
from apptest_helpers import by_key, open_page, state

from explorer.data.glove import embedding_rows
from explorer.data.tokenizers import Tokenizer
from explorer.training.schedules import learning_rate

SEQ2SEQ = "Recurrent encoder–decoder (GRU + attention)"


def _form(at, task: str, preset: str) -> str:
    at.selectbox(key="data.task").set_value(task).run()
    at.selectbox(key="model.preset").set_value(preset).run()
    assert not at.exception, at.exception
    kind = {"reverse": "seq2seq", "remember_first": "classification", "dates": "seq2seq"}[task]
    return f"model.{preset}.{task}.{kind}"


def test_a_recurrent_encoder_decoder_with_sgd_a_schedule_and_early_stopping() -> None:
    at = open_page("train")
    prefix = _form(at, "reverse", SEQ2SEQ)
    at.number_input(key="data.min_len.reverse").set_value(4).run()
    at.selectbox(key=f"{prefix}.s2s.attention").set_value("none").run()
    at.selectbox(key=f"{prefix}.opt").set_value("sgd").run()
    at.number_input(key=f"{prefix}.momentum").set_value(0.0).run()
    at.selectbox(key=f"{prefix}.schedule").set_value("inverse").run()
    at.number_input(key=f"{prefix}.tau").set_value(100.0).run()
    assert any("Robbins–Monro conditions hold" in str(c.value) for c in at.caption)
    assert any("planned" in c.proto.spec for c in at.get("plotly_chart"))  # the schedule, drawn before training
    at.checkbox(key=f"{prefix}.early").check().run()
    at.number_input(key=f"{prefix}.patience").set_value(2).run()
    assert any("teacher forcing" in str(c.value) for c in at.caption)
    at.button(key="train.create").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    cfg, train = run.config, run.trainer.config
    assert cfg.kind == "seq2seq" and cfg.attention == "none" and cfg.bidirectional
    assert train.optimizer == "sgd" and train.momentum == 0.0 and train.schedule == "inverse" and train.tau == 100.0
    assert train.early_stopping and train.patience == 2
    assert sorted({len(s) for s in run.data.train.sources}) == list(range(4, 9))
    run.trainer.pause()
    run.trainer.step(n_steps=60)
    at.run()
    assert not at.exception, at.exception
    assert [row["lr"] for row in run.trainer.history[:3]] == pytest.approx(
        [learning_rate(train, k) for k in range(3)])
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("used so far" in s for s in specs)  # the schedule beside the loss
    assert any("validation minimum" in s for s in specs)  # the star on the loss curve
    assert any("Greedy decoding" in str(c.value) for c in at.caption)


def test_the_w_hh_scale_shows_its_spectral_radius_and_reaches_the_model() -> None:
    at = open_page("train")
    prefix = _form(at, "remember_first", "Elman RNN")
    before = next(str(c.value) for c in at.caption if "spectral radius" in str(c.value))
    assert "below 1" in before
    at.number_input(key=f"{prefix}.hh_scale").set_value(4.0).run()
    after = next(str(c.value) for c in at.caption if "spectral radius" in str(c.value))
    assert "above 1" in after and "explode" in after
    at.checkbox(key=f"{prefix}.bidirectional").check().run()
    at.button(key="train.create").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run.config.hh_init_scale == 4.0 and run.config.bidirectional


def test_word_tokenizers_have_a_vocabulary_size_and_glove_rows_match_the_words() -> None:
    at = open_page("train")
    at.radio(key="data.source").set_value("Upload a file").run()
    words = " ".join(f"w{i % 300}" for i in range(6000)).encode()
    by_key(at, "file_uploader", "data.upload").upload("words.txt", words, "text/plain").run()
    assert not any(n.key == "data.vocab_size" for n in at.number_input)  # characters: no vocabulary to cap
    at.radio(key="data.upload_mode").set_value("word").run()
    at.number_input(key="data.vocab_size").set_value(104).run()
    at.selectbox(key="model.preset").set_value("LSTM").run()
    assert any(s.key.endswith(".embed_init") for s in at.selectbox)  # word level: GloVe can be the start
    at.button(key="train.create").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run.tokenizer.mode == "word" and run.tokenizer.vocab_size == 104 and run.config.d_vocab == 104
    # GloVe rows: the right vector in the right row, a random row (at GloVe's scale) for unknown words.
    tok = Tokenizer(mode="word", tokens=["<pad>", "<unk>", "<bos>", "<sep>", "Good", "movie", "zzqx"])
    words = ["the", "movie", "good", "bad"]
    vectors = np.arange(4 * 3, dtype=np.float32).reshape(4, 3) / 10
    rows = embedding_rows(tok.tokens, words, vectors, seed=1)
    np.testing.assert_array_equal(rows.table[4], vectors[2])  # "Good" → GloVe's lower-case "good"
    np.testing.assert_array_equal(rows.table[5], vectors[1])
    assert list(rows.found) == [False, False, False, False, True, True, False]
    assert not any(np.array_equal(rows.table[6], v) for v in vectors) and np.isfinite(rows.table[6]).all()
    np.testing.assert_array_equal(rows.table[0], 0.0)  # <pad>
    np.testing.assert_array_equal(embedding_rows(tok.tokens, words, vectors, seed=1).table, rows.table)
    assert rows.coverage == pytest.approx(2 / 3)
