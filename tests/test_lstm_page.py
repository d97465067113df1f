"""The "Inside the recurrent cell" page as a user drives it (AppTest)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from apptest_helpers import open_page, state, texts

from explorer.analysis.gates import MAX_TOKENS, record_gates
from explorer.data.tasks import TaskSpec, make_task
from explorer.models import RecurrentConfig, build_model
from explorer.training.config import TrainConfig
from explorer.training.run import Run, new_run

SECTIONS = ["🗺️ Whole sequence", "🔎 Units as readers", "📈 Reading over time", "📉 Gradients & eigenvalues",
            "⚖️ Compare cells", "👣 Step through"]


def _lecture_lstm_page():
    """The page with the lecture's LSTM (created by the page's own offer), paused after a few steps."""
    at = open_page("lstm")
    assert any(b.key == "lstm.offer" for b in at.button)
    assert not state(at).runs
    at.button(key="lstm.offer").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run is not None and run.is_recurrent and run.config.cell == "lstm"
    run.trainer.pause()
    run.trainer.step(n_steps=20)
    at.run()
    assert not at.exception, at.exception
    return at, run


def _step_spec(at) -> str:
    return next(c.proto.spec for c in at.get("plotly_chart") if "Step t =" in c.proto.spec)


def test_no_recurrent_run_offers_one_click_training_and_the_slider_moves_the_step() -> None:
    at, run = _lecture_lstm_page()
    slider = at.slider(key="lstm.step")
    assert slider.value == 0 and "Step t = 0" in _step_spec(at)
    assert run.config.go_backwards  # the lab's LSTM reads from the end, and the page says so
    assert any("reads backwards" in str(c.value) for c in at.caption)
    slider.set_value(3).run()
    assert not at.exception
    assert "Step t = 3" in _step_spec(at)
    assert not at.dataframe  # the numbers come on request (stepping stays quick)
    at.toggle(key="lstm.step_numbers").set_value(True).run()
    table = at.dataframe[0].value
    ids = list(run.data.val.sources[0])
    expected = record_gates(run.model, ids)
    np.testing.assert_allclose(table["fₜ (t)"].to_numpy(), expected.at(0, "f", 3), rtol=0, atol=0)
    np.testing.assert_allclose(table["Cₜ (t−1)"].to_numpy(), expected.at(0, "c", 2), rtol=0, atol=0)
    at.button(key="lstm.forward").click().run()
    assert at.slider(key="lstm.step").value == 4 and "Step t = 4" in _step_spec(at)
    at.button(key="lstm.first").click().run()
    assert at.slider(key="lstm.step").value == 0
    at.toggle(key="lstm.play").set_value(True).run()  # play: each run of the fragment advances one step
    assert not at.exception
    assert at.slider(key="lstm.step").value >= 1


def test_empty_over_long_and_unknown_input_do_not_crash() -> None:
    at, run = _lecture_lstm_page()
    at.radio(key=f"lstm.source.{run.id}").set_value("My own text").run()
    at.text_area(key=f"lstm.text.{run.id}").set_value("").run()
    assert not at.exception
    assert any("empty" in t for t in texts(at, "info"))
    at.text_area(key=f"lstm.text.{run.id}").set_value("(()" * 300).run()
    assert not at.exception
    assert any(f"only the first {MAX_TOKENS}" in t for t in texts(at, "warning"))
    assert at.slider(key="lstm.step").max == MAX_TOKENS - 1
    at.slider(key="lstm.step").set_value(MAX_TOKENS - 1).run()
    assert not at.exception
    at.text_area(key=f"lstm.text.{run.id}").set_value("(a)b").run()
    assert not at.exception
    assert any("<unk>" in t and "'a'" in t for t in texts(at, "info"))
    assert at.slider(key="lstm.step").max == 3


def test_every_section_opens_for_the_lecture_lstm() -> None:
    at, _run = _lecture_lstm_page()
    for section in SECTIONS:
        at.segmented_control(key="lstm.section").set_value(section).run()
        assert not at.exception, (section, at.exception)
    at.segmented_control(key="lstm.section").set_value("🔎 Units as readers").run()
    assert at.selectbox(key="lstm.units.signal").value == "depth"  # brackets: the depth signal is offered first
    at.toggle(key="lstm.units.pool").set_value(True).run()
    assert not at.exception
    at.selectbox(key="lstm.units.signal").set_value("span").run()
    assert not at.exception


def test_long_gap_trio_compares_three_cells() -> None:
    at = open_page("lstm")
    at.button(key="lstm.offer_trio").click().run()
    assert not at.exception, at.exception
    runs = list(state(at).runs.values())
    assert sorted(r.config.cell for r in runs) == ["gru", "lstm", "rnn"]
    assert all(r.data.params["seq_len"] == 40 for r in runs)
    lstm = next(r for r in runs if r.config.cell == "lstm")
    d = lstm.config.d_hidden
    start = lstm.trainer.load_snapshot(0)["rnn.bias_ih_l0"]  # the weights training started from
    closed = dataclasses.replace(lstm.config, forget_bias=0.0)  # the same seed with torch's default init
    fresh = build_model(closed, seed=0).rnn.bias_ih_l0.detach()
    assert lstm.config.forget_bias == 1.0
    torch.testing.assert_close(start[d:2 * d], fresh[d:2 * d] + 1.0)  # forget gates start open
    torch.testing.assert_close(start[:d], fresh[:d])  # the other gates are untouched
    assert all(r.trainer.config.max_steps == 1000 for r in runs)
    assert state(at).current_run is lstm
    for run in runs:
        run.trainer.pause()
    at.run()
    at.segmented_control(key="lstm.section").set_value("📉 Gradients & eigenvalues").run()
    assert not at.exception, at.exception
    curves = next(c.proto.spec for c in at.get("plotly_chart") if "How much gradient" in c.proto.spec)
    for name in ("Elman RNN", "GRU", "LSTM"):
        assert name in curves
    at.select_slider(key="lstm.grad.when").set_value(0).run()  # before training: the weights of step 0
    assert not at.exception, at.exception
    assert any("Before training" in str(c.value) for c in at.caption)
    at.segmented_control(key="lstm.section").set_value("⚖️ Compare cells").run()
    assert not at.exception, at.exception
    assert len(at.multiselect(key="lstm.compare.runs").value) == 3


def test_two_layer_model_lets_the_user_pick_the_layer() -> None:
    at = open_page("lstm")
    data = make_task(TaskSpec(name="brackets", seq_len=12))
    cfg = RecurrentConfig(cell="gru", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=8, n_layers=2,
                          head="classifier", n_classes=2, pad_id=0)
    run = new_run("two layers", data, cfg, TrainConfig(max_steps=10))
    state(at).add_run(run)
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lstm.layer").value == 1
    at.selectbox(key="lstm.layer").set_value(0).run()
    assert not at.exception
    assert "layer 0" in _step_spec(at)
    assert any("1 − z" in str(i.value) for i in at.info)  # the GRU convention is spelled out


def test_language_model_and_inspect_only_checkpoint_runs_open_every_section() -> None:
    at = open_page("lstm")
    data = make_task(TaskSpec(name="reverse", seq_len=6, n_train=200, n_val=20))
    cfg = RecurrentConfig(cell="rnn", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=8, pad_id=0)
    lm = new_run("elman lm", data, cfg, TrainConfig(max_steps=10))
    state(at).add_run(lm)
    at.run()
    for section in SECTIONS:
        at.segmented_control(key="lstm.section").set_value(section).run()
        assert not at.exception, (section, at.exception)
    # A checkpoint whose data is not available: only typed text, no snapshots, no validation examples.
    opened = Run(id="run-ckpt", name="from a file", preset="Checkpoint", model=lm.model, tokenizer=lm.tokenizer,
                 data=None, trainer=None, origin="checkpoint")
    state(at).add_run(opened)
    at.run()
    assert not at.exception, at.exception
    assert any("empty" in t for t in texts(at, "info"))  # no example to start from: the page asks for text
    at.text_area(key=f"lstm.text.{opened.id}").set_value("3 1 4 1 5 z").run()
    assert not at.exception
    for section in SECTIONS:
        at.segmented_control(key="lstm.section").set_value(section).run()
        assert not at.exception, (section, at.exception)


def test_sentiment_run_offers_the_word_polarity_signal_and_reads_a_review() -> None:
    from explorer.data.text_tasks import classification_task

    texts_ = ["a good and great film", "bad dull plot", "great fun", "awful and bad"] * 20
    data = classification_task("toy reviews", texts_, [1, 0, 1, 0] * 20, ["negative", "positive"])
    cfg = RecurrentConfig(cell="lstm", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=8, head="classifier",
                          n_classes=2, pooling="mean", pad_id=0)
    at = open_page("lstm")
    run = new_run("reviews", data, cfg, TrainConfig(max_steps=10))
    state(at).add_run(run)
    at.run()
    at.radio(key=f"lstm.source.{run.id}").set_value("My own text").run()
    at.text_area(key=f"lstm.text.{run.id}").set_value("a good film , but a dull plot").run()
    assert any("','" in t and "<unk>" in t for t in texts(at, "info"))  # ',' was never seen in training
    at.segmented_control(key="lstm.section").set_value("🔎 Units as readers").run()
    at.selectbox(key="lstm.units.signal").set_value("sentiment").run()
    assert not at.exception, at.exception
    assert any("log-odds" in str(c.value) for c in at.caption)
    at.segmented_control(key="lstm.section").set_value("📈 Reading over time").run()
    assert not at.exception, at.exception
    assert any("p(positive)" in c.proto.spec for c in at.get("plotly_chart"))


def test_the_step_figure_exports_the_step_on_screen(monkeypatch) -> None:
    """Its downloads sit outside the stepping fragment (a step does not resend them), yet export the step shown."""
    import explorer.ui.figure as figure

    exported: list[str] = []

    def fake_export(fig, fmt, slide):
        exported.append(fig.layout.title.text)
        return b"\x89PNG fake"

    monkeypatch.setattr(figure, "_browser_available", lambda: True)
    monkeypatch.setattr(figure, "export_image", fake_export)
    at, _ = _lecture_lstm_page()
    at.button(key="lstm.forward").click().run()
    at.button(key="lstm.forward").click().run()
    assert "Step t = 2" in _step_spec(at)
    at.button(key="png.lstm.step").click().run()
    assert not at.exception, at.exception
    assert len(exported) == 1 and exported[0].startswith("Step t = 2"), exported
    assert any(b.key == "image.lstm.step" for b in at.get("download_button"))
