"""The Forward pass and Tokens pages open and react under AppTest: every section, MiniLM and a tiny GPT of the
session, the head and query pickers, the no-projection switch, temperature, beam search, the lens over snapshots,
long inputs paged, the live BPE's vocabulary slider and one-hot × W_E."""

from __future__ import annotations

import json

import pytest
from apptest_helpers import open_page, state

FORWARD_SECTIONS = ["🗺️ The walk", "🧠 One head", "➕ Add & Norm", "🔥 Feed-forward", "🔭 Logit lens",
                    "🎲 Next token", "🧭 Decoding"]


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _titles(at) -> list[str]:
    out = []
    for spec in _charts(at):
        title = spec.get("layout", {}).get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return out


def _section(at, name: str):
    at.segmented_control(key="forward.section").set_value(name).run()
    assert not at.exception, (name, at.exception)
    return at


@pytest.fixture(scope="module")
def gpt_page():
    """The Forward pass page on a tiny GPT trained for a few steps (paused: the test drives the trainer)."""
    at = open_page()
    at.button(key="home.quick.gpt_reverse").click().run()
    run = state(at).current_run
    run.trainer.pause()
    run.trainer.step(n_steps=30)
    at.switch_page("views/forward.py").run()
    assert not at.exception, at.exception
    return at, run


def test_every_section_opens_on_minilm() -> None:
    at = open_page("forward")
    assert at.selectbox(key="forward.model").value == "pretrained:all-MiniLM-L6-v2"
    assert any("forward pass" in t.lower() for t in _titles(at)), "the walk diagram is the first view"
    for name in FORWARD_SECTIONS:
        _section(at, name)
    assert any("language model" in str(i.value) for i in at.info), "an encoder has no next token: said, not crashed"


def test_one_head_reacts_to_the_head_query_and_switch() -> None:
    at = _section(open_page("forward"), "🧠 One head")
    titles = _titles(at)
    assert any("Q [T × d_head]" in t for t in titles) and any("A = softmax" in t for t in titles)
    assert any("resid_mid" in t for t in titles)
    assert any("hook_resid_mid" in str(c.value) for c in at.caption), "the check against the model is shown"
    at.selectbox(key="forward.head").set_value(5).run()
    at.selectbox(key="forward.position").set_value(2).run()
    assert not at.exception
    assert any("Query 2" in t and "L0H5" in t for t in _titles(at))
    at.toggle(key="forward.no_projection").set_value(True).run()
    assert any("no projections" in t.lower() or "projections vs none" in t for t in _titles(at))
    at.slider(key="forward.lookup.sharpness").set_value(20.0).run()
    assert not at.exception


def test_a_long_input_is_paged() -> None:
    at = open_page("forward")
    at.text_area(key="forward.text.pretrained:all-MiniLM-L6-v2").set_value(" ".join(["the cat sat on the mat"] * 100))
    at.run()
    assert any("cut" in str(i.value) for i in at.info), "600 words exceed MiniLM's 512 tokens"
    _section(at, "🧠 One head")
    slider = at.slider(key="forward.window_start")
    assert slider.max == 512 - 48
    slider.set_value(100).run()
    assert not at.exception
    spec = next(s for s in _charts(at) if "A = softmax" in str(s["layout"]["title"]))
    assert len(spec["data"][0]["y"]) == 48, "a window of 48 positions, not 512"
    at.toggle(key="forward.overview").set_value(True).run()
    assert any("blocks" in t for t in _titles(at))


def test_the_tiny_gpt_walk_next_token_and_decoding(gpt_page) -> None:
    at, _run = gpt_page
    for name in FORWARD_SECTIONS[:4]:
        _section(at, name)
    _section(at, "🎲 Next token")
    before = next(s for s in _charts(at) if "next token" in str(s["layout"]["title"]))
    at.slider(key="forward.temperature").set_value(2.5).run()
    after = next(s for s in _charts(at) if "next token" in str(s["layout"]["title"]))
    assert before["data"][0]["y"] != after["data"][0]["y"], "the temperature reshapes the bars"
    _section(at, "🧭 Decoding")
    assert at.radio(key="forward.decode.method").value == "Beam search"
    at.button(key="forward.decode.go").click().run()
    assert not at.exception
    assert any("Beam search" in t for t in _titles(at))
    at.radio(key="forward.decode.method").set_value("Sampling (seeded)").run()
    at.button(key="forward.decode.go").click().run()
    assert not at.exception and at.get("html"), "the continuation is shown as escaped text"


def test_the_lens_scrubs_over_snapshots(gpt_page) -> None:
    at, _run = gpt_page
    _section(at, "🔭 Logit lens")
    assert any("Logit lens" in t for t in _titles(at))
    at.select_slider(key="forward.lens.step").set_value(0).run()
    assert not at.exception
    assert any("at step 0" in t for t in _titles(at))


def test_tokens_page_sections_react() -> None:
    at = open_page("tokens")
    titles = _titles(at)
    assert any("Characters" in t for t in titles) and any("WordPiece" in t for t in titles)
    assert any("BPE learned here" in t for t in titles)
    at.segmented_control(key="tokens.section").set_value("🧩 BPE, live").run()
    assert not at.exception
    slider = at.slider(key="tokens.bpe.vocab")
    low = slider.min
    slider.set_value(low).run()
    first = next(t for t in _titles(at) if "The text in BPE" in t)
    at.slider(key="tokens.bpe.vocab").set_value(at.slider(key="tokens.bpe.vocab").max).run()
    second = next(t for t in _titles(at) if "The text in BPE" in t)
    assert int(second.rsplit("T = ", 1)[1]) < int(first.rsplit("T = ", 1)[1]), "more merges, fewer tokens"
    assert any("exactly" in str(c.value) for c in at.caption), "the merges by hand match tokenizers"
    at.segmented_control(key="tokens.section").set_value("🔢 One-hot × W_E").run()
    assert not at.exception
    assert any("W_E" in t for t in _titles(at))
    at.text_area(key="tokens.text").set_value("").run()
    assert any("empty" in str(w.value) for w in at.warning)


def test_the_first_pick_on_the_page_is_kept(monkeypatch) -> None:
    """Opening the page lists MiniLM in the sidebar; that must not undo the user's first choice of another model."""
    monkeypatch.setattr("explorer.ui.forward.subject.offered_pretrained", lambda: ["all-MiniLM-L6-v2", "gpt2"])
    at = open_page("forward")
    at.selectbox(key="forward.model").set_value("pretrained:gpt2").run()
    assert not at.exception
    assert at.selectbox(key="forward.model").value == "pretrained:gpt2"
    assert any("gpt2" in str(e.value) for e in at.error), "offline, the hub model cannot load: a message"
    assert state(at).current == "pretrained:all-MiniLM-L6-v2", "the sidebar keeps its own model"
