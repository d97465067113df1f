"""Two browser sessions never share a trainable model; read-only data is shared once per server."""

from __future__ import annotations

from apptest_helpers import open_page, state

from explorer.data.tasks import TaskSpec
from explorer.ui.loaders import generated_task


def test_two_sessions_have_separate_runs() -> None:
    alice, bob = open_page(), open_page()
    alice.button(key="home.quick.lecture_lstm").click().run()
    bob.run()
    assert len(state(alice).runs) == 1
    assert state(bob).runs == {} and state(bob).current_run is None
    bob.button(key="home.quick.lecture_lstm").click().run()
    (run_a,), (run_b,) = state(alice).runs.values(), state(bob).runs.values()
    assert run_a.model is not run_b.model and run_a.trainer is not run_b.trainer
    assert {p.data_ptr() for p in run_a.model.parameters()}.isdisjoint(p.data_ptr() for p in run_b.model.parameters())
    assert run_a.data is run_b.data  # the generated task is read-only and built once per server


def test_cached_task_data_is_never_mutated_by_training() -> None:
    spec = TaskSpec(name="reverse", seq_len=5, n_symbols=10, n_train=300, n_val=500, seed=0)  # what the form asks
    data = generated_task(spec)
    before = [list(s) for s in data.train.sources]
    at = open_page("train")
    at.selectbox(key="data.task").set_value("reverse").run()
    at.number_input(key="data.seq_len.reverse").set_value(5).run()
    at.number_input(key="data.n_train").set_value(300).run()
    at.button(key="train.create").click().run()
    at.run()
    run = state(at).current_run
    assert run.data is data and run.step > 0
    assert data.train.sources == before
