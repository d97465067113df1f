"""Compare runs: overlaid curves and a results table; the lecture's LSTM-vs-transformer comparison."""

from __future__ import annotations

from apptest_helpers import open_page, state
from finetune_helpers import SMALL_VOCABULARY
from finetune_helpers import toy_sentiment as toy_sentiment_helper

from explorer.analysis.runs_table import results_table
from explorer.training.lecture import comparison_configs
from explorer.training.run import new_run


def test_compare_page_overlays_runs_and_tabulates() -> None:
    at = open_page()
    at.button(key="home.quick.lecture_lstm").click().run()
    at.switch_page("views/home.py").run()
    at.button(key="home.quick.long_gap").click().run()
    for run in state(at).runs.values():
        run.trainer.pause()
        run.trainer.step(n_steps=60)
    at.switch_page("views/compare.py").run()
    assert not at.exception
    at.multiselect(key="compare.runs").set_value(list(state(at).runs)).run()
    chart = at.get("plotly_chart")[0]
    assert chart.proto.spec.count('"name"') >= 4  # two runs, train and validation each
    table = at.dataframe[0].value
    assert len(table) == 2 and set(table["steps"]) == {r.step for r in state(at).runs.values()}
    assert any("different data" in str(w.value) for w in at.warning)


def _toy_sentiment():
    return toy_sentiment_helper(600, **SMALL_VOCABULARY)


def test_lecture_comparison_trains_both_models_on_the_same_data() -> None:
    data = _toy_sentiment()
    runs = []
    for label, (model_cfg, train_cfg) in comparison_configs(data).items():
        train_cfg.max_steps = 120
        train_cfg.eval_every = 60
        run = new_run(label, data, model_cfg, train_cfg, preset=label)
        run.trainer.step(n_steps=120)
        runs.append(run)
    table = results_table(runs)
    assert list(table["run"]) == ["LSTM", "Simple transformer"]
    assert (table["validation accuracy"] > 0.8).all(), table  # the sentiment word decides: both learn it
    assert table["parameters"].min() > 0 and (table["data"] == "toy sentiment").all()
