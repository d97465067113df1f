"""Compare page additions: an n-gram model beside the neural LMs on the same validation tokens, and the
random-vs-GloVe embedding preset."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from apptest_helpers import open_page, state, texts

from explorer.analysis.ngram_compare import comparison_table, fit, labelled_tokens, ngram_nll, validation_segments
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.text_tasks import classification_task, lm_task_from_text
from explorer.training.glove_preset import FROZEN, RANDOM, TRAINED, latest_group, make_runs
from explorer.training.presets import PRESETS
from explorer.training.run import new_run

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60


def _lm_run(data, preset: str = "LSTM"):
    model_cfg, train_cfg = PRESETS[preset].build(data)
    return new_run(preset, data, model_cfg, dataclasses.replace(train_cfg, eval_every=5, batch_size=16))


@pytest.mark.parametrize("stream", [True, False])
def test_the_ngram_model_is_scored_on_exactly_the_runs_validation_tokens(stream: bool) -> None:
    data = lm_task_from_text("cats", TEXT) if stream else make_task(TaskSpec(name="grammar", seq_len=16,
                                                                               n_train=300, n_val=40))
    run = _lm_run(data)
    run.trainer.step(n_steps=run.trainer.config.eval_every)
    model = fit(data, k=0.5)
    nll = ngram_nll(model, validation_segments(run))
    assert len(nll) == labelled_tokens(run)  # the same tokens the run's validation loss averages over
    table = comparison_table(model, [run])
    neural = table[table["kind"] == "neural"].iloc[0]
    assert neural["perplexity"] == pytest.approx(np.exp(run.trainer.val_history[-1]["val_loss"]))
    five = table[(table["kind"] == "n-gram") & (table["n"] == 5)].iloc[0]
    assert five["perplexity"] == pytest.approx(float(np.exp(nll.mean())))  # fit() counts up to n = 5
    assert five["tokens"] == labelled_tokens(run)


def test_the_compare_page_shows_the_ngram_section_and_samples_as_text(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr("explorer.ui.compare.ngram.SAMPLE_TOKENS", 20)
    at = open_page("compare")
    assert any("one-time download" in t for t in texts(at, "info"))  # the GloVe preset, offline and empty
    data = lm_task_from_text("cats", TEXT)
    for preset in ("LSTM", "Tiny GPT 2 layers × 4 heads"):
        run = _lm_run(data, preset)
        run.trainer.step(n_steps=run.trainer.config.eval_every)
        state(at).add_run(run)
    at.run()
    assert not at.exception, at.exception
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Perplexity" in c.proto.spec)
    assert "LSTM" in json.dumps(spec) and "Tiny GPT" in json.dumps(spec)
    table = next(d.value for d in at.dataframe if "perplexity" in d.value.columns)
    assert set(table["kind"]) == {"neural", "n-gram"} and set(table["n"].dropna()) == {1, 2, 3, 4, 5}
    at.select_slider(key="compare.ngram.n").set_value(2).run()
    at.number_input(key="compare.ngram.k").set_value(0.1).run()
    assert not at.exception, at.exception
    at.button(key="compare.ngram.sample").click().run()
    assert not at.exception, at.exception
    blocks = [c.value for c in at.code]
    assert len(blocks) >= 3 and all(b.startswith(data.tokenizer.decode(data.val.stream[:40].tolist())) for b in
                                    blocks[-3:])


def test_the_glove_preset_trains_random_trained_and_frozen_from_the_same_rows() -> None:
    texts_ = [f"a {'good' if i % 2 else 'bad'} film number {i % 7}" for i in range(200)]
    data = classification_task("tiny", texts_, [i % 2 for i in range(200)], ["negative", "positive"])
    rows = np.random.default_rng(0).normal(size=(data.tokenizer.vocab_size, 50)).astype(np.float32)
    runs = {r.name: r for r in make_runs(data, rows)}
    assert set(latest_group(list(runs.values()))) == {RANDOM, TRAINED, FROZEN}
    for name in (TRAINED, FROZEN):
        torch.testing.assert_close(runs[name].model.W_E.detach(), torch.from_numpy(rows))
    assert not torch.allclose(runs[RANDOM].model.W_E.detach(), torch.from_numpy(rows))
    for run in runs.values():
        run.trainer.step(n_steps=10)
    torch.testing.assert_close(runs[FROZEN].model.W_E.detach(), torch.from_numpy(rows))  # frozen: unchanged
    assert not torch.allclose(runs[TRAINED].model.W_E.detach(), torch.from_numpy(rows))
