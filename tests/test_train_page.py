"""The Train page as a user drives it: create, start, pause, step, bad input, checkpoints."""

from __future__ import annotations

import pytest
import torch
from apptest_helpers import by_key, open_page, state, texts, wait_until

from explorer.training.checkpoints import checkpoint_from_trainer, to_bytes


def _new_run_view(at) -> None:
    """Show the new-run form (it replaces the current run's view once a run exists)."""
    if any(c.key == "train.view" for c in at.segmented_control):
        at.segmented_control(key="train.view").set_value("➕ New run").run()


def _create_reverse_run(at, preset: str = "Tiny GPT 2 layers × 4 heads"):
    _new_run_view(at)
    at.selectbox(key="data.task").set_value("reverse").run()
    at.selectbox(key="model.preset").set_value(preset).run()
    at.button(key="train.create").click().run()
    assert not at.exception, at.exception
    return state(at).current_run


def test_start_ticks_and_pause_stops() -> None:
    at = open_page("train")
    run = _create_reverse_run(at)
    assert run.trainer.is_running  # "Train this model" creates and starts
    first = run.step
    wait_until(lambda: run.step > first, what="training on the server's clock")
    at.button(key="controls.pause").click().run()
    assert run.trainer.status == "paused"
    paused_at = run.step
    at.run()
    at.run()
    assert run.step == paused_at
    at.button(key="controls.start").click().run()
    assert run.trainer.is_running
    wait_until(lambda: run.step > paused_at, what="training to resume")


def test_step_button_runs_the_chosen_number_of_steps() -> None:
    at = open_page("train")
    run = _create_reverse_run(at)
    at.button(key="controls.pause").click().run()
    before = run.step
    at.number_input(key="controls.step_size").set_value(5).run()
    at.button(key="controls.step").click().run()  # trained in the background, then paused
    wait_until(lambda: run.trainer.status == "paused", what="the five steps")
    assert run.step == before + 5


def test_reset_goes_back_to_step_zero() -> None:
    at = open_page("train")
    run = _create_reverse_run(at)
    at.run()
    at.button(key="controls.reset").click().run()
    assert run.step == 0 and run.trainer.history == []


def test_bad_hyperparameters_show_the_config_message() -> None:
    at = open_page("train")
    at.selectbox(key="data.task").set_value("reverse").run()
    at.selectbox(key="model.preset").set_value("Tiny GPT 2 layers × 4 heads").run()
    prefix = "model.Tiny GPT 2 layers × 4 heads.reverse.seq2seq"
    at.number_input(key=f"{prefix}.d_model").set_value(30).run()
    assert not at.exception
    assert any("divisible by n_heads" in t for t in texts(at, "error"))
    assert not any(b.key == "train.create" for b in at.button)
    at.number_input(key=f"{prefix}.d_model").set_value(64).run()
    at.number_input(key=f"{prefix}.lr").set_value(0.0).run()
    assert any("learning rate" in t for t in texts(at, "error"))


def test_the_model_picker_offers_only_models_that_fit_and_says_why_not_the_others() -> None:
    at = open_page("train")
    at.selectbox(key="data.task").set_value("brackets").run()
    at.selectbox(key="model.preset").set_value("Lecture lab LSTM").run()
    assert at.text_input(key="train.run_name").value == "Lecture lab LSTM · brackets"
    at.selectbox(key="data.task").set_value("reverse").run()
    assert not at.exception and not at.error
    assert "Lecture lab LSTM" not in at.selectbox(key="model.preset").options
    assert at.selectbox(key="model.preset").value != "Lecture lab LSTM", "the default model fits the data"
    assert any("binary classifier" in m.value for m in at.markdown), "the others are listed with the reason"
    chosen = at.selectbox(key="model.preset").value
    assert at.text_input(key="train.run_name").value == f"{chosen} · reverse", "the name follows task and model"
    at.text_input(key="train.run_name").input("my reverser").run()
    at.selectbox(key="model.preset").set_value("GRU").run()
    assert at.text_input(key="train.run_name").value == "my reverser", "until the user types one"


def test_diverging_run_stops_with_the_trainers_message() -> None:
    at = open_page("train")
    at.selectbox(key="data.task").set_value("reverse").run()
    at.selectbox(key="model.preset").set_value("LSTM").run()
    at.number_input(key="model.LSTM.reverse.seq2seq.lr").set_value(10.0).run()
    at.button(key="train.create").click().run()
    run = state(at).current_run
    wait_until(lambda: run.trainer.status == "diverged", what="the run to diverge")  # it trains in the background
    at.run()
    assert any("learning rate" in t and "restored" in t for t in texts(at, "error"))
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


@pytest.mark.parametrize(("filename", "content", "message"), [
    ("empty.txt", b"", "empty"),
    ("binary.txt", b"\x00\x01\x02binary" * 50, "not a text file"),
    ("latin.csv", "text,label\ncaf\xe9,1\n".encode("latin-1"), "not UTF-8"),
])
def test_bad_upload_shows_an_error_and_keeps_the_runs(filename: str, content: bytes, message: str) -> None:
    at = open_page("train")
    run = _create_reverse_run(at)
    _new_run_view(at)
    at.radio(key="data.source").set_value("Upload a file").run()
    by_key(at, "file_uploader", "data.upload").upload(filename, content).run()
    assert not at.exception
    assert any(message in t for t in texts(at, "error")), texts(at, "error")
    assert state(at).current_run is run and run.id in state(at).runs


def test_a_text_shorter_than_one_window_says_so_and_cannot_start() -> None:
    at = open_page("train")
    at.radio(key="data.source").set_value("Upload a file").run()
    by_key(at, "file_uploader", "data.upload").upload("short.txt", b"Too short to train on. " * 6, "text/plain").run()
    at.selectbox(key="model.preset").set_value("LSTM").run()
    assert not at.exception
    assert any("too short for windows" in t for t in texts(at, "error")), texts(at, "error")
    assert at.button(key="train.create").disabled
    assert not state(at).runs


def test_uploaded_text_trains_a_language_model() -> None:
    at = open_page("train")
    at.radio(key="data.source").set_value("Upload a file").run()
    text = ("The quick brown fox jumps over the lazy dog. " * 40).encode()
    by_key(at, "file_uploader", "data.upload").upload("fox.txt", text, "text/plain").run()
    at.selectbox(key="model.preset").set_value("LSTM").run()
    at.button(key="train.create").click().run()
    run = state(at).current_run
    assert run is not None and run.data.kind == "lm" and run.trainer.is_running


def test_checkpoint_saved_and_opened_through_the_page_predicts_the_same() -> None:
    at = open_page("train")
    run = _create_reverse_run(at)
    at.run()
    at.button(key="controls.pause").click().run()
    at.button(key="ckpt.save").click().run()
    assert len(state(at).saved) == 1
    at.button(key="ckpt.open.0").click().run()
    opened = state(at).current_run
    assert opened.id != run.id and opened.step == run.step and opened.trainer is not None
    tokens = run.trainer.val_set.inputs[:8]
    run.model.eval()
    opened.model.eval()
    torch.testing.assert_close(opened.model(tokens), run.model(tokens), atol=0, rtol=0)


def test_uploaded_checkpoint_is_validated() -> None:
    at = open_page("train")
    run = _create_reverse_run(at)
    good = to_bytes(checkpoint_from_trainer(run.trainer, "shared by a colleague"))
    by_key(at, "file_uploader", "ckpt.upload").upload("broken.safetensors", b"not a checkpoint at all").run()
    assert any("not a safetensors checkpoint" in t for t in texts(at, "error"))
    assert len(state(at).runs) == 1
    by_key(at, "file_uploader", "ckpt.upload").set_value(("colleague.safetensors", good, "application/octet-stream"))
    at.run()
    assert not at.exception
    names = [r.name for r in state(at).runs.values()]
    assert "shared by a colleague" in names


def test_classifier_shows_predictions_and_confusion_matrix() -> None:
    at = open_page()
    at.button(key="home.quick.lecture_lstm").click().run()
    assert not at.exception
    assert any("Validation accuracy over" in t for t in texts(at, "caption"))
    assert at.dataframe, "validation examples table"
    charts = at.get("plotly_chart")
    assert len(charts) >= 1
