"""The lecture's comparison on the Compare page: one button trains and shows the models; the table reports the best
validation accuracy and its step (the small models overfit), and says which of the lecture's orderings held."""

from __future__ import annotations

import pytest
from apptest_helpers import open_page, state
from finetune_helpers import SMALL_VOCABULARY, tiny_bert
from finetune_helpers import toy_sentiment as toy_sentiment_helper

from explorer.analysis.lecture_table import lecture_rows, ordering_verdict
from explorer.analysis.runs_table import results_table
from explorer.models.finetune import FinetuneConfig
from explorer.training.finetune_run import default_train_config, new_finetune_run
from explorer.training.lecture import LECTURE_MODELS, PRETRAINED_PRESET, comparison_configs
from explorer.training.run import new_run
from explorer.ui.compare import lecture as lecture_block

pytestmark = pytest.mark.usefixtures("one_thread")


def toy_sentiment(n: int = 400):
    return toy_sentiment_helper(n, **SMALL_VOCABULARY)


def _with_history(run, accuracies: list[float], every: int = 50):
    run.trainer.val_history = [{"step": every * (i + 1), "val_loss": 0.5, "val_accuracy": a}
                               for i, a in enumerate(accuracies)]
    run.trainer.step_count = every * len(accuracies)
    return run


def _scratch_runs(data):
    return [new_run(label, data, *comparison_configs(data)[label], preset=label) for label in comparison_configs(data)]


def test_the_table_reports_the_best_validation_accuracy_and_its_step() -> None:
    data = toy_sentiment(100)
    _, base = tiny_bert()
    runs = _scratch_runs(data)
    runs.append(new_finetune_run("lora", data, base, FinetuneConfig(base="tiny-bert", method="lora"),
                                 preset=PRETRAINED_PRESET))
    _with_history(runs[0], [0.60, 0.71, 0.69, 0.65])  # overfits after step 100
    _with_history(runs[1], [0.55, 0.62, 0.66, 0.64])
    rows = lecture_rows(runs).set_index("lecture's model")
    assert rows.loc["LSTM", "here: best validation"] == "71.00%" and rows.loc["LSTM", "at step"] == 100
    assert rows.loc["LSTM", "here: last validation"] == "65.00%" and rows.loc["LSTM", "last step"] == 200
    assert rows.loc["Simple transformer", "at step"] == 150
    assert rows.loc["RoBERTa", "here: best validation"] == "—"  # not evaluated yet
    assert rows.loc["RoBERTa", "here"] == PRETRAINED_PRESET
    table = results_table(runs).set_index("run")
    assert table.loc["LSTM", "best validation accuracy"] == pytest.approx(0.71)
    assert table.loc["LSTM", "best at step"] == 100
    assert "not reproduced: Simple transformer > LSTM" in ordering_verdict(runs)
    _with_history(runs[2], [0.80, 0.85])
    verdict = ordering_verdict(runs)
    assert f"reproduced: {PRETRAINED_PRESET} > LSTM, {PRETRAINED_PRESET} > Simple transformer" in verdict
    assert lecture_rows(runs).set_index("lecture's model").loc["RoBERTa", "here: best validation"] == "85.00%"


def test_train_button_creates_starts_and_shows_the_comparison(monkeypatch) -> None:
    data = toy_sentiment()
    _, base = tiny_bert()
    monkeypatch.setattr(lecture_block, "lecture_data", lambda source: data)
    monkeypatch.setattr(lecture_block, "get_pretrained", lambda name: (base, None))  # no MiniLM in this test
    monkeypatch.setattr(lecture_block, "pretrained_comparison_config", lambda d: (
        FinetuneConfig(base="tiny-bert", method="lora"), default_train_config("lora", 20)))
    at = open_page("compare")
    at.button(key="compare.lecture_start").click().run()
    assert not at.exception, at.exception
    runs = list(state(at).runs.values())
    assert [r.preset for r in runs] == list(LECTURE_MODELS)
    assert all(r.trainer.is_running for r in runs) and runs[2].is_finetune
    # The picker shows exactly the new runs: the curves of all three and the lecture's table appear at once.
    assert at.multiselect(key="compare.runs").value == [r.id for r in runs]
    tables = [t.value for t in at.dataframe]
    assert len(tables[0]) == len(LECTURE_MODELS)
    assert any("lecture's model" in t.columns for t in tables)


def test_train_button_refuses_when_the_session_has_no_room(monkeypatch) -> None:
    data = toy_sentiment(60)
    monkeypatch.setattr(lecture_block, "lecture_data", lambda source: data)
    at = open_page("compare")
    session = state(at)
    for i in range(7):
        session.add_run(new_run(f"r{i}", data, *comparison_configs(data)["LSTM"], preset="x"))
    at.run()
    at.button(key="compare.lecture_start").click().run()
    assert len(session.runs) == 7  # nothing created, nothing closed
    assert any("Close or save some" in str(w.value) for w in at.warning)
