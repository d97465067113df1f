"""The ready-trained models in assets/: rebuilt bit for bit by their script, opened as trainable runs with their
history and snapshots, and offered by the pages that would otherwise ask to train first."""

from __future__ import annotations

import torch
from apptest_helpers import open_page, state

from explorer.training.assets import ASSETS, MAX_ASSET_BYTES, MAX_TOTAL_BYTES, build_asset, open_asset
from explorer.training.checkpoints import from_bytes


def test_every_asset_is_committed_small_and_opens_as_a_trainable_run() -> None:
    total = 0
    for key, asset in ASSETS.items():
        size = asset.path.stat().st_size
        assert size <= MAX_ASSET_BYTES, key
        total += size
        run = open_asset(key)
        assert run.trainer is not None and run.step == asset.steps, key  # its task is rebuilt: it trains further
        assert len(run.trainer.history) > 0 and len(run.trainer.snapshots) >= 3, key
    assert total <= MAX_TOTAL_BYTES


def test_the_script_rebuilds_an_asset_bit_for_bit() -> None:
    torch.set_num_threads(1)
    try:
        rebuilt = from_bytes(build_asset(ASSETS["lecture_lstm"]))
    finally:
        torch.set_num_threads(2)
    committed = from_bytes(ASSETS["lecture_lstm"].path.read_bytes())
    assert rebuilt.state_dict.keys() == committed.state_dict.keys()
    for name, value in committed.state_dict.items():
        assert torch.equal(rebuilt.state_dict[name], value), name
    assert sorted(rebuilt.snapshots) == sorted(committed.snapshots)


def test_the_trained_models_learned_what_their_pages_show() -> None:
    accuracy = {key: open_asset(key).trainer.val_history[-1]["val_accuracy"] for key in
                ("lecture_lstm", "long_gap_rnn", "long_gap_gru", "long_gap_lstm", "gpt_reverse")}
    assert accuracy["lecture_lstm"] > 0.95 and accuracy["gpt_reverse"] > 0.95
    assert accuracy["long_gap_gru"] > 0.95 and accuracy["long_gap_lstm"] > 0.95
    assert accuracy["long_gap_rnn"] < 0.5  # the Elman RNN does not bridge the gap


def test_inside_the_rnn_opens_a_trained_model_instead_of_training() -> None:
    at = open_page("lstm")
    at.button(key="lstm.offer.asset").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run is not None and run.step == ASSETS["lecture_lstm"].steps and not run.trainer.is_running
    assert at.get("plotly_chart"), "the gates are drawn at once"
    at.switch_page("views/home.py").run()
    at.button(key="home.asset.induction_lab").click().run()
    assert not at.exception and len(state(at).runs) == 2


def test_home_says_what_it_opened_and_where_to_look() -> None:
    at = open_page()
    assert not [s for s in at.success if "Opened" in s.value]
    at.button(key="home.asset.lecture_lstm").click().run()
    assert not at.exception, at.exception
    opened = [s.value for s in at.success if "Opened" in s.value]
    assert len(opened) == 1 and "step 800" in opened[0] and "validation accuracy" in opened[0], opened
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert links.get("Inside the RNN") == "lstm" and links.get("Embeddings") == "embeddings", links
    assert at.get("plotly_chart"), "its accuracy curve"
    at.button(key="home.asset.gpt_reverse").click().run()  # the panel follows the last model opened
    opened = [s.value for s in at.success if "Opened" in s.value]
    assert len(opened) == 1 and "Tiny GPT" in opened[0], opened
