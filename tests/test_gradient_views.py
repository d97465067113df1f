"""The vanishing-gradient views teach what the lecture says, honestly (issue 13 item 6), and the exploding-gradient
pair, the transformer by distance and sequential-vs-parallel work (issue 18)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from apptest_helpers import open_page, state

from explorer.analysis.gradient_flow import averaged_curve, by_distance, input_gradient_norms, probe_set
from explorer.data.tasks import TaskSpec, make_task
from explorer.training.clipping_pair import CLIPPED, SPEC, UNCLIPPED, make_pair
from explorer.training.presets import PRESETS
from explorer.training.run import new_run


@pytest.fixture
def one_thread():
    """Small recurrent models train fastest on one thread (two threads spin against each other on a busy CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _specs(at) -> list[str]:
    return [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")]


def _trio_on_gradients_page():
    at = open_page("lstm")
    at.button(key="lstm.offer_trio").click().run()
    for run in state(at).runs.values():
        run.trainer.pause()
    at.segmented_control(key="lstm.section").set_value("📉 Gradients & eigenvalues").run()
    assert not at.exception, at.exception
    return at


def test_the_trio_shows_elman_below_lstm_at_the_step_the_page_shows_by_default() -> None:
    at = _trio_on_gradients_page()
    assert at.select_slider(key="lstm.grad.when").value == 0  # the default: before training
    assert at.toggle(key="lstm.grad.average").value  # averaged over validation examples
    table = next(d.value for d in at.dataframe if "share reaching t = 0" in d.value.columns)
    share = {row["model"].split(" · ")[0]: row["share reaching t = 0"] for _, row in table.iterrows()}
    assert share["Elman RNN"] < share["LSTM"], share
    assert share["Elman RNN"] < 1e-6 < share["LSTM"]  # orders of magnitude apart, as the lecture says
    assert any("the lecture's point" in str(m.value) for m in at.markdown)
    at.toggle(key="lstm.grad.average").set_value(False).run()  # one input: still works, and says what it measures
    assert not at.exception, at.exception
    at.segmented_control(key="lstm.section").set_value("⚖️ Compare cells").run()
    assert not at.exception, at.exception
    assert at.select_slider(key="lstm.compare.when").value == 0
    table = next(d.value for d in at.dataframe if "share reaching t = 0" in d.value.columns)
    by_cell = {row["model"].split(" ")[0]: row["share reaching t = 0"] for _, row in table.iterrows()}
    assert by_cell["Elman"] < by_cell["LSTM"]


def test_a_sure_lecture_lstm_still_has_an_averaged_curve(one_thread) -> None:
    """The lecture's LSTM gets very sure (loss ≈ 0, ReLU head often off): one example can have no gradient at all,
    the averaged share still has a curve, and the examples without gradient are counted, not hidden."""
    data = make_task(TaskSpec(name="brackets", seq_len=20))
    model_cfg, train_cfg = PRESETS["Lecture lab LSTM"].build(data)
    run = new_run("lab", data, model_cfg, train_cfg)
    run.trainer.step(n_steps=300)
    probe = probe_set(data)
    curve = averaged_curve(run.model.eval(), probe)
    assert curve.n_used > 0 and np.isfinite(curve.shares).all()
    assert curve.n_used + curve.n_without_gradient == len(probe.sequences)
    assert curve.shares[-1] == 1.0


def test_input_gradients_reach_a_transformer_from_every_distance() -> None:
    data = make_task(TaskSpec(name="remember_first", seq_len=12, n_train=200, n_val=40))
    probe = probe_set(data, n=8)
    for preset in ("Elman RNN", "Encoder classifier"):
        model_cfg, train_cfg = PRESETS[preset].build(data)
        model = new_run(preset, data, model_cfg, train_cfg).model.eval()
        norms = input_gradient_norms(model, probe)
        assert norms.shape == (8, 13) and (norms > 0).all()
        curve = by_distance(norms)
        assert curve[0] == 1.0 and len(curve) == 13
        if preset == "Elman RNN":
            assert curve[-1] < 1e-2  # twelve tanh steps back: most of it is gone
        else:
            assert curve[-1] > 0.1  # one attention layer away from the output


def test_the_page_trains_a_transformer_and_the_clipping_pair() -> None:
    at = _trio_on_gradients_page()
    at.button(key="lstm.distance.transformer").click().run()
    assert not at.exception, at.exception
    transformer = next(r for r in state(at).runs.values() if r.is_transformer)
    assert transformer.trainer.is_running and transformer.data is state(at).current_run.data
    transformer.trainer.pause()
    at.button(key="lstm.clip.start").click().run()
    assert not at.exception, at.exception
    pair = [r for r in state(at).runs.values() if r.preset == "Clipping pair"]
    assert sorted(str(r.trainer.config.grad_clip) for r in pair) == ["1.0", "None"]
    for run in pair:
        run.trainer.pause()
        run.trainer.step(n_steps=5)
    at.run()
    assert not at.exception, at.exception
    specs = _specs(at)
    assert any("by distance" in s and "Transformer" in s for s in specs)
    assert any("Sequential steps" in s for s in specs)
    assert any("with and without clipping" in s for s in specs)
    assert len(state(at).runs) == 6


def test_the_clipping_pair_explodes_without_clipping_and_recovers_with_it(one_thread) -> None:
    runs = {r.name: r for r in make_pair(make_task(SPEC))}
    for run in runs.values():
        run.trainer.start()
        while run.trainer.is_running:
            run.trainer.step(n_steps=200)
    unclipped, clipped = runs[UNCLIPPED].trainer, runs[CLIPPED].trainer
    assert max(r["grad_norm"] for r in unclipped.history) > 100  # a gradient explosion
    assert unclipped.val_history[-1]["val_accuracy"] < 0.5  # ... that the run does not recover from
    assert clipped.val_history[-1]["val_accuracy"] > 0.9  # the clipped twin learns the gap
