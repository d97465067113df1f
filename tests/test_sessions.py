"""Two browser sessions never share a trainable model; read-only data is shared once per server."""

from __future__ import annotations

import torch
from apptest_helpers import open_page, state, wait_until

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
    run = state(at).current_run
    wait_until(lambda: run.step > 0, what="the scheduler to train the new run")
    run.trainer.pause()
    assert data.train.sources == before


def test_the_memo_is_bounded_by_memory_as_well_as_count(monkeypatch) -> None:
    import numpy as np

    from explorer.ui import state as state_module

    monkeypatch.setattr(state_module, "MAX_MEMO_BYTES", 10 * 2**20)
    session = state_module.SessionState()
    for k in range(5):
        session.remember(("big", k), lambda: np.zeros(4 * 2**20 // 8))  # 4 MB each
    assert len(session.memo) == 2  # 8 MB kept; a third would pass the budget
    assert ("big", 4) in session.memo and ("big", 3) in session.memo
    model = torch.nn.Linear(1024, 1024)  # 4 MB of weights
    assert state_module.size_in_bytes(model) == (1024 * 1024 + 1024) * 4
    assert state_module.size_in_bytes({"a": [np.zeros(10)], "b": 3}) == 80


def test_a_closed_tab_frees_its_views_at_once_and_keeps_its_runs(monkeypatch) -> None:
    import numpy as np

    from explorer.ui import state as state_module

    monkeypatch.setattr(state_module, "_STATES", state_module.weakref.WeakValueDictionary())
    monkeypatch.setattr(state_module, "_last_sweep", [0.0])
    tabs = {"open": True, "closed": False}
    sessions = {name: state_module.SessionState(owner=name, alive=lambda n=name: tabs[n]) for name in tabs}
    for session in sessions.values():
        state_module._STATES[id(session)] = session
        session.remember(("attention record",), lambda: np.zeros(2**20))
        session.runs["run-1"] = "a run"  # what the sweep must leave alone
    assert state_module.drop_views_of_closed_tabs(now=1000.0) == 1
    assert sessions["closed"].memo == {} and sessions["closed"].memo_bytes == {}
    assert sessions["closed"].runs == {"run-1": "a run"}, "runs stay for the scheduler's grace period"
    assert ("attention record",) in sessions["open"].memo
    tabs["open"] = False
    assert state_module.drop_views_of_closed_tabs(now=1000.0 + state_module.SWEEP_EVERY_S / 2) == 0, \
        "at most one sweep every SWEEP_EVERY_S"
    assert state_module.drop_views_of_closed_tabs(now=1000.0 + state_module.SWEEP_EVERY_S) == 1
    assert sessions["open"].memo == {}


def test_a_class_session_keeps_fewer_computed_views() -> None:
    import numpy as np

    from explorer.training.limits import CLASS
    from explorer.ui import state as state_module

    session = state_module.SessionState(limits=CLASS)
    for k in range(30):
        session.remember(("view", k), lambda: np.zeros(4 * 2**20 // 8))  # 4 MB each
    kept = sum(session.memo_bytes.values())
    assert kept <= CLASS.max_results_mb * 2**20 < state_module.MAX_MEMO_BYTES and ("view", 29) in session.memo


def test_saved_checkpoints_are_bounded_and_the_user_is_told(monkeypatch) -> None:
    from explorer.ui import state as state_module

    monkeypatch.setattr(state_module, "MAX_SAVED", 3)
    session = state_module.SessionState()
    for k in range(5):
        session.keep_checkpoint(f"run @ step {k}", bytes(10))
    assert list(session.saved) == ["run @ step 2", "run @ step 3", "run @ step 4"]
    assert "run @ step 1" in session.notice and "Download" in session.notice


def test_live_redraws_slow_down_as_more_sessions_train(monkeypatch) -> None:
    """One session alone redraws every second; thirty training sessions share REDRAWS_PER_S redraws a second."""
    from explorer.ui import live

    monkeypatch.setattr(live, "_training_sessions", {})
    assert live.note_training("alone", True, now=0.0) == 1 and live.tick_s(1) == live.TICK_S
    for k in range(29):
        live.note_training(f"student {k}", True, now=1.0)
    count = live.note_training(None, False, now=2.0)
    assert count == 30 and live.tick_s(count) == 30 / live.REDRAWS_PER_S
    live.note_training("student 0", False, now=3.0)  # its run stopped
    assert live.note_training(None, False, now=3.0) == 29
    assert live.note_training(None, False, now=20.0) == 0  # nobody redrew for longer than _SEEN_FOR_S: gone
