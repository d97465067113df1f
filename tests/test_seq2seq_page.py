"""The Seq2seq & attention page as a teacher drives it (AppTest): one click trains the four models, the length
figure follows them, the alignment of the attention model sits beside the transformer's cross-attention."""

from __future__ import annotations

import json

from apptest_helpers import open_page, state, texts

from explorer.training.bottleneck import ADDITIVE, LOCATION, NONE, TRANSFORMER, VARIANTS, latest_group
from explorer.training.limits import LAPTOP


def _charts(at) -> list[str]:
    """The figures' specs, with unicode unescaped (plotly's JSON writes · as \\u00b7)."""
    return [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")]


def test_one_click_trains_the_four_and_the_figures_follow() -> None:
    at = open_page("seq2seq")
    assert any("No experiment yet" in t for t in texts(at, "info"))
    at.button(key="seq2seq.start").click().run()
    assert not at.exception, at.exception
    group = latest_group(list(state(at).runs.values()))
    assert set(group) == set(VARIANTS)
    assert all(r.trainer.is_running for r in group.values())
    assert state(at).current_run is group[LOCATION]  # the button shows what it made
    assert [group[v].config.attention for v in (NONE, ADDITIVE, LOCATION)] == ["none", "additive", "location"]
    assert group[NONE].data is group[ADDITIVE].data is group[LOCATION].data is group[TRANSFORMER].data
    for run in group.values():
        run.trainer.pause()
        run.trainer.step(n_steps=3)
    at.run()
    assert not at.exception, at.exception
    lengths = next(s for s in _charts(at) if "by input length" in s)
    for name in VARIANTS:
        assert name in lengths
    assert any("trained length" in str(c.value) for c in at.caption)
    at.radio(key="seq2seq.metric").set_value("token accuracy").run()
    assert not at.exception
    at.segmented_control(key="seq2seq.section").set_value("🧭 Alignment").run()
    assert not at.exception, at.exception
    charts = _charts(at)
    assert any("location-aware attention" in s for s in charts) and any("cross-attention" in s for s in charts)
    at.selectbox(key="seq2seq.align.head").set_value(1).run()
    assert not at.exception and any("head 1" in s for s in _charts(at))
    at.radio(key="seq2seq.align.source").set_value("My own source").run()
    at.text_input(key="seq2seq.align.text").set_value("0123x").run()
    assert not at.exception, at.exception
    assert any("'x'" in str(c.value) for c in at.caption)  # unknown symbols are named and left out
    at.text_input(key="seq2seq.align.text").set_value("").run()
    assert not at.exception and any("empty" in t for t in texts(at, "info"))


def test_a_full_session_is_told_before_anything_is_created() -> None:
    at = open_page("seq2seq")
    at.button(key="seq2seq.start").click().run()
    for run in state(at).runs.values():
        run.trainer.pause()
    state(at).remove_run(next(iter(state(at).runs)))  # the user closes one: three left
    at.run()
    at.button(key="seq2seq.start").click().run()  # seven runs now
    for run in state(at).runs.values():
        run.trainer.pause()
    at.run()
    assert len(state(at).runs) == 7 < LAPTOP.max_runs
    assert at.button(key="seq2seq.start").disabled  # four more would not fit
    assert any("room for 1" in str(c.value) for c in at.caption)
    assert len(state(at).runs) == 7


def test_every_page_opens_with_a_recurrent_encoder_decoder_as_the_current_model() -> None:
    from explorer.data.tasks import TaskSpec, make_task
    from explorer.data.tokenizers import PAD
    from explorer.models import Seq2SeqConfig
    from explorer.training.config import TrainConfig
    from explorer.training.run import new_run

    data = make_task(TaskSpec(name="dates", n_train=300, n_val=30))
    cfg = Seq2SeqConfig(cell="lstm", attention="dot", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=8,
                        pad_id=PAD)
    at = open_page()
    run = new_run("dates", data, cfg, TrainConfig(max_steps=10))
    state(at).add_run(run)
    run.trainer.step(n_steps=2)
    for page in ("train", "compare", "lstm", "seq2seq", "attention", "circuits", "positions", "embeddings"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, at.exception)
    at.segmented_control(key="emb.trained.what").set_value("Hidden states").run()  # encoder and decoder states
    assert not at.exception, at.exception
    at.switch_page("views/seq2seq.py").run()
    at.segmented_control(key="seq2seq.section").set_value("🧭 Alignment").run()
    assert not at.exception, at.exception
    assert any("dot-product attention" in s for s in _charts(at))


def test_the_reading_under_the_length_figure_says_what_the_numbers_show() -> None:
    import pandas as pd

    from explorer.ui.seq2seq.experiment import _reading

    def frame(at_20: float) -> pd.DataFrame:
        return pd.DataFrame({"length": [12, 20], "exact match": [1.0, at_20], "token accuracy": [1.0, at_20]})

    location_holds = _reading({NONE: frame(0.0), ADDITIVE: frame(0.0), LOCATION: frame(1.0), TRANSFORMER: frame(0.0)})
    assert "GRU · location-aware attention 100%" in location_holds and "keeps its place" in location_holds
    assert "all fall" not in location_holds
    all_fall = _reading({NONE: frame(0.0), ADDITIVE: frame(0.1), LOCATION: frame(0.2), TRANSFORMER: frame(0.0)})
    assert "all fall" in all_fall and "keeps its place" not in all_fall
    both_hold = _reading({NONE: frame(0.0), ADDITIVE: frame(0.9), LOCATION: frame(1.0)})
    assert "all fall" not in both_hold and "keeps its place" not in both_hold
