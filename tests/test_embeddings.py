"""Embeddings of runs trained here (W_E, hidden states, snapshots), separation scores and the export files."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from explorer.analysis.contextual import find_piece_run, parse_labelled_sentences, separation
from explorer.analysis.embedding_export import points_csv, projector_metadata_tsv, projector_vectors_tsv
from explorer.analysis.embeddings import (
    available_steps,
    embedding_table,
    extend_layouts,
    hidden_points,
    model_at_step,
    probe_set,
    state_sources,
    token_counts,
    token_kind,
    token_points,
    weights_tag,
)
from explorer.analysis.projection import ProjectionParams, pca
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.text_tasks import lm_task_from_text
from explorer.data.tokenizers import PAD
from explorer.models.pooling import pool
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run


def _run(task: str, preset: str, steps: int = 0, **spec) -> Run:
    data = make_task(TaskSpec(name=task, n_train=200, n_val=40, **spec))
    model_cfg, train_cfg = PRESETS[preset].build(data)
    train_cfg.snapshot_every = 5
    run = new_run("test", data, model_cfg, train_cfg, preset=preset)
    if steps:
        run.trainer.start()
        run.trainer.step(n_steps=steps)
    return run


def test_token_kinds() -> None:
    kinds = {t: token_kind(t) for t in ["<pad>", "7", "12", "a", "Q", "(", "+", " ", ",", "hello", "s62"]}
    assert kinds == {"<pad>": "special", "7": "digit", "12": "digit", "a": "lower-case letter",
                     "Q": "upper-case letter", "(": "bracket", "+": "operator", " ": "space", ",": "punctuation",
                     "hello": "word", "s62": "other"}


def test_token_points_are_the_rows_of_w_e_coloured_by_kind_or_frequency() -> None:
    run = _run("remember_first", "LSTM", seq_len=6)
    counts = token_counts(run.data, run.tokenizer.vocab_size)
    manual = np.zeros(run.tokenizer.vocab_size, dtype=np.int64)
    for row in run.data.train.sources:
        for i in row:
            manual[i] += 1
    np.testing.assert_array_equal(counts, manual)
    points = token_points(embedding_table(run, run.step), run.tokenizer, counts)
    np.testing.assert_array_equal(points.vectors, run.model.W_E.detach().numpy())
    assert points.colors[0] == "token kind"
    assert set(points.frame["token kind"]) == {"special", "digit", "upper-case letter"}
    text = lm_task_from_text("words", "the cat sat on the mat . " * 20, mode="word", max_vocab=50)
    word_points = token_points(np.zeros((text.tokenizer.vocab_size, 4), np.float32), text.tokenizer,
                               token_counts(text, text.tokenizer.vocab_size))
    assert word_points.colors[0] == "log10 count" and "log10 count" in word_points.numeric
    the = word_points.frame.set_index("label").loc["the"]
    assert the["count in training data"] == text.train.stream.eq(text.tokenizer.id_of("the")).sum().item()


def test_hidden_states_per_example_pool_as_the_classifier_does() -> None:
    run = _run("brackets", "LSTM", steps=3, seq_len=10)
    source = next(s for s in state_sources(run.config) if s.hook == "rnn.0.hook_h")
    probe = probe_set(run, 30)
    model = model_at_step(run, run.step)
    points = hidden_points(model, run, source, "example", probe)
    _, cache = model.run_with_cache(probe.inputs)
    expected = pool(cache["rnn.0.hook_h"], probe.inputs != PAD, run.config.pooling)
    np.testing.assert_allclose(points.vectors, expected.numpy(), atol=1e-6)
    assert points.colors[0] == "class"
    assert points.frame["class"].tolist() == [run.data.class_names[i] for i in probe.labels.tolist()]
    pooled = next(s for s in state_sources(run.config) if s.pooled)
    np.testing.assert_allclose(hidden_points(model, run, pooled, "token", probe).vectors,
                               cache["hook_pooled"].numpy(), atol=1e-6)


def test_hidden_states_per_token_skip_padding_and_can_be_sampled() -> None:
    run = _run("brackets", "Encoder classifier", seq_len=10)
    source = state_sources(run.config)[0]
    assert source.hook == "blocks.0.hook_resid_post"
    probe = probe_set(run, 30)
    model = model_at_step(run, run.step)
    points = hidden_points(model, run, source, "token", probe)
    n_real = int((probe.inputs != PAD).sum())
    assert len(points.frame) == n_real == points.total and set(points.frame["token"]) <= {"(", ")"}
    _, cache = model.run_with_cache(probe.inputs)
    first = points.frame.iloc[0]
    np.testing.assert_allclose(points.vectors[0],
                               cache[source.hook][first["example"], first["position"]].numpy(), atol=1e-6)
    sampled = hidden_points(model, run, source, "token", probe, max_points=50)
    assert len(sampled.frame) == 50 and sampled.total == n_real


def test_encoder_decoder_hidden_states_use_the_right_tokens() -> None:
    run = _run("reverse", "Seq2seq with cross-attention", seq_len=5)
    sources = {s.hook: s for s in state_sources(run.config)}
    assert "encoder.1.hook_resid_post" in sources and sources["blocks.0.hook_resid_post"].stream == "decoder"
    probe = probe_set(run, 10)
    model = model_at_step(run, run.step)
    encoder = hidden_points(model, run, sources["encoder.0.hook_resid_post"], "token", probe)
    decoder = hidden_points(model, run, sources["blocks.0.hook_resid_post"], "token", probe)
    assert len(encoder.frame) == int((probe.inputs != PAD).sum())
    assert len(decoder.frame) == int((probe.decoder_inputs != PAD).sum())


def test_snapshot_layouts_are_aligned_and_cached_by_weights() -> None:
    run = _run("remember_first", "LSTM", steps=20, seq_len=6)
    steps = available_steps(run)
    assert steps[0] == 0 and steps[-1] == run.step and len(steps) >= 4
    keys = [(s, weights_tag(run, s)) for s in steps]
    assert len({tag for _, tag in keys}) == len(keys), "weights change while training"
    calls: list[int] = []

    def vectors_at(step: int) -> np.ndarray:
        calls.append(step)
        return embedding_table(run, step)

    layouts = extend_layouts({}, keys, vectors_at, ProjectionParams("pca"))
    assert list(layouts) == keys and calls == steps
    extend_layouts(layouts, keys, vectors_at, ProjectionParams("pca"))
    assert calls == steps, "computed layouts are reused"
    for (s0, k0), (s1, k1) in itertools.pairwise(keys):
        independent = pca(embedding_table(run, s1), 2).coords
        jump_aligned = np.linalg.norm(layouts[(s1, k1)].coords - layouts[(s0, k0)].coords)
        assert jump_aligned <= np.linalg.norm(independent - layouts[(s0, k0)].coords) + 1e-4


def test_separation_scores_match_their_definitions() -> None:
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (5, 6)) + 4, rng.normal(0, 1, (5, 6)) - 4])
    labels = ["a"] * 5 + ["b"] * 5
    scores = separation(x, labels)
    assert scores["silhouette"] == pytest.approx(silhouette_score(x, labels, metric="cosine"))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = unit @ unit.T
    within = np.mean([cos[i, j] for i in range(10) for j in range(10) if i != j and labels[i] == labels[j]])
    between = np.mean([cos[i, j] for i in range(10) for j in range(10) if labels[i] != labels[j]])
    assert scores["within"] == pytest.approx(within) and scores["between"] == pytest.approx(between)
    assert np.isnan(separation(x, ["a"] * 10)["silhouette"])


def test_sentences_and_word_pieces_are_parsed() -> None:
    parsed = parse_labelled_sentences("river: the bank of the river\n\nno label here\nmoney:  a bank loan ")
    assert parsed == [("river", "the bank of the river"), ("?", "no label here"), ("money", "a bank loan")]
    assert find_piece_run([101, 7, 8, 9, 8, 9, 102], [8, 9]) == [2, 3]
    assert find_piece_run([101, 7, 102], [8]) == []


def test_export_files_follow_the_embedding_projector_format() -> None:
    frame = pd.DataFrame({"label": ["a\tb", "c"], "group": ["x", "y\nz"]})
    vectors = np.array([[1.0, 2.5], [-3.0, 0.125]], dtype=np.float32)
    rows = projector_vectors_tsv(vectors).decode().splitlines()
    assert [list(map(float, r.split("\t"))) for r in rows] == vectors.tolist()
    meta = projector_metadata_tsv(frame).decode().splitlines()
    assert meta == ["label\tgroup", "a b\tx", "c\ty z"]
    assert projector_metadata_tsv(frame[["label"]]).decode().splitlines() == ["a b", "c"]  # one column: no header
    csv = pd.read_csv(io.BytesIO(points_csv(frame, vectors, ["PC_1", "PC_2"])))
    assert list(csv.columns) == ["label", "group", "PC_1", "PC_2"] and csv["PC_2"].tolist() == [2.5, 0.125]


def test_live_weights_are_copied_not_shared() -> None:
    run = _run("remember_first", "LSTM", steps=2, seq_len=6)
    run.trainer.step(n_steps=1)  # now past the last snapshot
    copy = model_at_step(run, run.step)
    assert copy is not run.model and not copy.training
    for a, b in zip(copy.parameters(), run.model.parameters()):
        assert torch.equal(a, b.detach())
