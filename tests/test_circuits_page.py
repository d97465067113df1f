"""The Circuits page opens and draws for the induction lab, a trained run, and MiniLM."""

from __future__ import annotations

import pytest
from apptest_helpers import open_page, state

from explorer.models.pretrained import MINILM, PRETRAINED_MODELS
from explorer.training.induction_lab import is_lab_run

SECTION = "circuits.section"
HEAD, MAP, LAB = "🔬 One head", "🗺️ Whole model", "🧲 Induction-head lab"


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def test_new_session_opens_on_the_lab_and_one_click_trains() -> None:
    at = open_page("circuits")
    assert at.segmented_control(key=SECTION).value == LAB
    at.button(key="circuits.lab.start").click().run()
    assert not at.exception, at.exception
    runs = list(state(at).runs.values())
    assert len(runs) == 1 and is_lab_run(runs[0]) and runs[0].trainer.is_running
    at.run()  # one tick of the sidebar's training and of the lab's fragment
    assert not at.exception, at.exception
    assert runs[0].step > 0
    assert _charts(at) == 5  # losses, scores over steps, head scores, K-composition, pattern
    at.button(key="circuits.lab.pause").click().run()
    assert not at.exception, at.exception
    assert runs[0].trainer.status == "paused"
    slider = at.select_slider(key="circuits.lab.step")
    slider.set_value(slider.options[0]).run()  # scrub back to step 0
    assert not at.exception, at.exception
    assert _charts(at) == 5


@pytest.fixture(scope="module")
def trained_session():
    at = open_page()
    at.button(key="home.quick.gpt_reverse").click().run()
    run = state(at).current_run
    run.trainer.pause()
    run.trainer.step(n_steps=20)
    at.switch_page("views/circuits.py").run()
    assert not at.exception, at.exception
    return at


def test_one_head_and_whole_model_for_a_trained_run(trained_session) -> None:
    at = trained_session
    at.segmented_control(key=SECTION).set_value(HEAD).run()
    assert not at.exception, at.exception
    assert _charts(at) == 5  # singular values, eigenvalues, full QK, full OV, positional QK
    at.selectbox(key="circuits.head.layer").set_value(1).run()
    at.radio(key="circuits.head.subset").set_value("Tokens I type").run()
    at.text_input(key=f"circuits.head.subset_list.{state(at).current}").set_value("a b zz").run()
    assert not at.exception, at.exception
    assert any("zz" in c.value for c in at.caption)
    at.segmented_control(key=SECTION).set_value(MAP).run()
    assert not at.exception, at.exception
    assert _charts(at) == 5  # copying, composition, detectors, logit-attribution bars and heatmap
    at.segmented_control(key="circuits.map.kind").set_value("V").run()
    at.text_input(key=f"circuits.map.dla_text.{state(at).current}").set_value("").run()
    assert not at.exception, at.exception
    assert any("at least two tokens" in w.value for w in at.warning)


@pytest.mark.skipif(not PRETRAINED_MODELS[MINILM].installed(), reason="MiniLM's package is not installed")
def test_minilm_opens_in_both_sections() -> None:
    at = open_page("circuits")
    at.segmented_control(key=SECTION).set_value(HEAD).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="circuits.model").value == "pretrained:" + MINILM
    assert _charts(at) == 5
    at.selectbox(key="circuits.head.head").set_value(11).run()
    at.radio(key="circuits.head.subset").set_value("Tokens of a text").run()
    assert not at.exception, at.exception
    at.segmented_control(key=SECTION).set_value(MAP).run()
    assert not at.exception, at.exception
    assert _charts(at) == 3  # copying, composition, detectors (MiniLM is post-LayerNorm: no decomposition)
    assert any("post-LayerNorm" in i.value for i in at.info)
