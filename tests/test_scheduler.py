"""Training on the server's clock: fair shares per session, speed limits, stepping, closed tabs, failures."""

from __future__ import annotations

import dataclasses
import time

import pytest
from apptest_helpers import wait_until

from explorer.data.tasks import TaskSpec, make_task
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run
from explorer.training.scheduler import Scheduler


def _run(steps: int = 100_000) -> Run:
    data = make_task(TaskSpec(name="brackets", seq_len=10, n_train=300, n_val=50))
    model_cfg, train_cfg = PRESETS["Lecture lab LSTM"].build(data)
    return new_run("r", data, model_cfg, dataclasses.replace(train_cfg, max_steps=steps, batch_size=16))


@pytest.fixture
def scheduler():
    made = Scheduler(workers=1, chunk_s=0.02, grace_s=0.3, check_every_s=0.1)
    yield made
    made.forget_all()
    made.shutdown()


def test_every_session_gets_an_equal_share_however_many_runs_it_has(scheduler) -> None:
    many = [_run() for _ in range(3)]
    alone = _run()
    for run in many:
        scheduler.add("student with three runs", run.trainer)
    scheduler.add("student with one run", alone.trainer)
    for run in [*many, alone]:
        run.trainer.start()
    # No page is drawn meanwhile: training goes on without any browser tick.
    wait_until(lambda: alone.step >= 40 and sum(r.step for r in many) >= 40, timeout=60, what="both sessions")
    scheduler.forget_all()
    steps = sum(r.step for r in many), alone.step
    assert 0.6 < steps[1] / steps[0] < 1.6, steps  # about the same steps per session, not per run
    assert min(r.step for r in many) > 0.4 * max(r.step for r in many)  # and round-robin within the session


def test_a_speed_limit_paces_live_training(scheduler) -> None:
    run = _run()
    scheduler.add("teacher", run.trainer)
    run.trainer.set_speed(5.0)
    run.trainer.start()
    time.sleep(2.0)
    run.trainer.pause()
    assert 3 <= run.step <= 11, run.step  # at most ≈ 5 steps/s (the first one at once)
    before = run.step
    run.trainer.set_speed(None)
    run.trainer.start()
    wait_until(lambda: run.step > before + 50, timeout=10, what="full speed again")


def test_step_through_trains_n_steps_in_the_background_then_pauses(scheduler) -> None:
    run = _run()
    scheduler.add("s", run.trainer)
    run.trainer.step_through(7)
    wait_until(lambda: run.trainer.status == "paused", timeout=10, what="the seven steps")
    assert run.step == 7
    time.sleep(0.2)
    assert run.step == 7


def test_a_closed_tab_stops_its_runs_after_the_grace_period(scheduler) -> None:
    run, other = _run(), _run()
    tab_open = {"yes": True}
    gone = []
    scheduler.add("closing", run.trainer, alive=lambda: tab_open["yes"], on_gone=lambda: gone.append(1))
    scheduler.add("staying", other.trainer, alive=lambda: True)
    run.trainer.start()
    other.trainer.start()
    wait_until(lambda: run.step > 5, timeout=10, what="training")
    tab_open["yes"] = False
    wait_until(lambda: gone == [1], timeout=10, what="the closed tab's cleanup")
    assert run.trainer.status == "paused" and "closing" not in scheduler.owners()
    before = other.step
    wait_until(lambda: other.step > before + 5, timeout=10, what="the other session to go on")


def test_a_failing_run_is_stopped_and_the_others_go_on(scheduler) -> None:
    broken, healthy = _run(), _run()

    def explode(*args, **kwargs):
        raise ValueError("boom")

    broken.trainer._one_step = explode
    scheduler.add("a", broken.trainer)
    scheduler.add("b", healthy.trainer)
    broken.trainer.start()
    healthy.trainer.start()
    wait_until(lambda: broken.trainer.status == "diverged", timeout=10, what="the failure to be handled")
    assert "unexpected error" in broken.trainer.message
    before = healthy.step
    wait_until(lambda: healthy.step > before + 5, timeout=10, what="the healthy run")
