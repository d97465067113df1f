"""Choosing runs to compare on the Inside-the-RNN page: same task, one run per cell, shared snapshots."""

from __future__ import annotations

import dataclasses

import pytest

from explorer.data.tasks import TaskSpec, make_task
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run
from explorer.training.run_selection import (
    class_names,
    common_snapshots,
    default_comparison,
    one_per_cell,
    recurrent_runs,
    same_task,
    validation_accuracy,
)


def _run(preset: str, spec: TaskSpec, name: str | None = None) -> Run:
    data = make_task(spec)
    model_cfg, train_cfg = PRESETS[preset].build(data)
    train_cfg = dataclasses.replace(train_cfg, batch_size=8, eval_every=2, snapshot_every=2, max_steps=6)
    return new_run(name or preset, data, model_cfg, train_cfg, preset=preset)


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    gap = TaskSpec(name="remember_first", seq_len=6, n_train=100, n_val=20)
    other = TaskSpec(name="remember_first", seq_len=9, n_train=100, n_val=20)
    made = {"rnn": _run("Elman RNN", gap), "gru": _run("GRU", gap), "lstm": _run("LSTM", gap),
            "lstm_other_task": _run("LSTM", other, "LSTM on a longer gap"),
            "gpt": _run("Tiny GPT 2 layers × 4 heads", TaskSpec(name="reverse", seq_len=4, n_train=100, n_val=20))}
    for k, run in enumerate(made.values()):
        run.created = 1000.0 + k  # creation order, as a session would have it
    return made


def test_same_task_compares_the_task_parameters(runs) -> None:
    assert same_task(runs["rnn"], runs["lstm"])
    assert not same_task(runs["lstm"], runs["lstm_other_task"])  # same task name, another gap


def test_one_per_cell_lines_up_the_trio_in_lecture_order(runs) -> None:
    everything = list(runs.values())
    trio = one_per_cell(runs["gru"], recurrent_runs(everything))
    assert list(trio) == ["rnn", "gru", "lstm"]
    assert trio["lstm"] is runs["lstm"] and trio["gru"] is runs["gru"]
    assert runs["gpt"] not in recurrent_runs(everything)
    alone = one_per_cell(runs["lstm_other_task"], recurrent_runs(everything))
    assert alone == {"lstm": runs["lstm_other_task"]}  # nothing else trained on its task


def test_default_comparison_prefers_the_same_task(runs) -> None:
    recurrent = recurrent_runs(runs.values())
    assert default_comparison(runs["lstm"], recurrent) == [runs[c].id for c in ("rnn", "gru", "lstm")]
    # alone on its task: the newest run of each other cell, and the run itself for its own cell
    assert set(default_comparison(runs["lstm_other_task"], recurrent)) == {
        runs["rnn"].id, runs["gru"].id, runs["lstm_other_task"].id}


def test_accuracy_and_shared_snapshots_follow_training(runs) -> None:
    rnn, gru = runs["rnn"], runs["gru"]
    assert validation_accuracy(rnn) is None and common_snapshots([rnn, gru]) == [0]
    rnn.trainer.step(n_steps=4)
    gru.trainer.step(n_steps=2)
    assert 0.0 <= validation_accuracy(rnn) <= 1.0
    assert common_snapshots([rnn, gru]) == [0, 2]
    assert common_snapshots([]) == []
    assert class_names(rnn) == list(rnn.data.class_names)
