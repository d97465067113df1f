"""Training in host processes: a host trains runs of many sessions; the web server's proxy reads and drives them
as if they were local; with Ray, runs of two sessions train in two processes at once."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time

import pytest
import torch
from apptest_helpers import wait_until
from conftest import ROOT

from explorer.data.tasks import TaskSpec, make_task
from explorer.models import build_model
from explorer.training.footprint import run_memory_bytes
from explorer.training.presets import PRESETS
from explorer.training.remote.host import TrainerHost
from explorer.training.remote.proxy import RemoteTrainer
from explorer.training.run import Run, new_run


def _run(steps: int = 10_000) -> Run:
    data = make_task(TaskSpec(name="brackets", seq_len=10, n_train=300, n_val=50))
    model_cfg, train_cfg = PRESETS["Lecture lab LSTM"].build(data)
    return new_run("r", data, model_cfg, dataclasses.replace(train_cfg, max_steps=steps, batch_size=16,
                                                             snapshot_every=5, eval_every=10))


@pytest.fixture
def host():
    made = TrainerHost()
    yield made
    made.scheduler.forget_all()
    made.scheduler.shutdown()


def _proxy(host: TrainerHost, run: Run) -> RemoteTrainer:
    def call(method, *args):
        return getattr(host, method)(*args)

    status = host.create(run.id, "owner", run.config.to_dict(), run.trainer.config.to_dict(), run.data,
                         0, run.trainer.current_weights())
    return RemoteTrainer(run.id, call, build_model(run.config), run.data, status, run.trainer.initial_config,
                         run.trainer.model_seed)


def test_a_proxy_reads_and_drives_a_hosted_trainer(host) -> None:
    run = _run()
    remote = _proxy(host, run)
    assert remote.status == "ready" and remote.step_count == 0 and remote.history == []
    remote.step_through(12)
    wait_until(lambda: remote.status == "paused", timeout=30, what="twelve steps in the host")
    assert remote.step_count == 12 and [r["step"] for r in remote.history] == list(range(1, 13))
    assert [r["step"] for r in remote.val_history] == [10] and 5 in remote.snapshots and 10 in remote.snapshots
    hosted = host._trainers[run.id]
    for name, value in remote.current_weights().items():
        torch.testing.assert_close(value, hosted.model.state_dict()[name], atol=0, rtol=0)
    torch.testing.assert_close(remote.load_snapshot(5)["embed.weight"], hosted.snapshots[5]["embed.weight"])
    assert remote.metrics_frame()["step"].tolist() == list(range(1, 13))
    remote.reset()
    assert remote.step_count == 0 and remote.history == [] and remote.status == "ready"
    remote.set_speed(3.0)
    assert remote.steps_per_second == 3.0


def _read_of_a_trainer() -> set[str]:
    """Every ``trainer.<name>`` the app's code reads (pages, analyses, links)."""
    names = set()
    for path in [*(ROOT / "explorer").rglob("*.py"), *(ROOT / "views").glob("*.py"), ROOT / "app.py"]:
        if path.parent.name != "remote":
            names |= set(re.findall(r"trainer\.([a-z_][a-z_0-9]*)\b(?!\()", path.read_text()))
    return names


def test_a_proxy_answers_everything_the_pages_read_of_a_trainer(host) -> None:
    """A page that reads something a hosted run's proxy lacks breaks only in class mode: every name the code reads
    of a local trainer, the proxy has, with the same value."""
    run = _run()
    remote = _proxy(host, run)
    remote.step_through(12)
    wait_until(lambda: remote.status == "paused", timeout=30, what="twelve steps in the host")
    local = host._trainers[run.id]  # the trainer the proxy stands for
    missing = [n for n in sorted(_read_of_a_trainer()) if hasattr(local, n) and not hasattr(remote, n)]
    assert not missing, f"RemoteTrainer lacks {missing}"
    assert remote.best_step == local.best_step == 10 and remote.stopped_early is False
    assert remote.best_val_loss == pytest.approx(local.best_val_loss)
    torch.testing.assert_close(remote.val_set.inputs, local.val_set.inputs)
    assert remote.initial_config == local.initial_config and remote.model_seed == local.model_seed
    # The session's memory count reads the host's figure: no snapshot crosses the process boundary for it.
    fetched = []
    real_snapshot = host.snapshot
    host.snapshot = lambda *args: (fetched.append(args), real_snapshot(*args))[1]
    hosted = dataclasses.replace(run, model=local.model, trainer=local)
    proxied = dataclasses.replace(run, model=remote.model, trainer=remote)
    assert run_memory_bytes(proxied) == run_memory_bytes(hosted) and not fetched


def test_snapshots_thinned_by_the_host_meanwhile_are_left_out_not_an_error(host) -> None:
    """The proxy's list of snapshot steps is up to REFRESH_S old; the host may thin one in between."""
    run = _run()
    remote = _proxy(host, run)
    remote.step_through(20)
    wait_until(lambda: remote.status == "paused", timeout=30, what="twenty steps in the host")
    listed = sorted(remote.snapshots)
    assert listed[:4] == [0, 5, 10, 15]
    hosted = host._trainers[run.id]
    hosted.snapshots = {s: w for s, w in hosted.snapshots.items() if s != 10}  # thinned after the last status
    calls = []
    real = host.snapshots_at
    host.snapshots_at = lambda *args: (calls.append(args), real(*args))[1]
    got = remote.load_snapshots(listed)
    assert sorted(got) == [s for s in listed if s != 10] and len(calls) == 1, "one call, the thinned step left out"
    torch.testing.assert_close(got[15]["embed.weight"], hosted.snapshots[15]["embed.weight"], atol=0, rtol=0)
    remote._fetched = time.monotonic()  # the status still lists step 10
    with pytest.raises(KeyError):
        remote.load_snapshot(10)
    assert 10 not in remote.snapshots, "the failed read refreshed the list"
    assert sorted(hosted.load_snapshots([0, 10, 15])) == [0, 15]


def test_a_polled_status_that_arrives_after_a_fresher_one_adds_no_rows_twice(host) -> None:
    """The pool's poller asks for a status, a control's forced refresh lands first: the late answer is dropped."""
    run = _run()
    remote = _proxy(host, run)
    remote.step_through(12)
    wait_until(lambda: remote.status == "paused", timeout=30, what="twelve steps in the host")
    remote.refresh(force=True)
    host._trainers[run.id].step(n_steps=3)
    seen = remote.seen()
    late = host.status([run.id], {run.id: seen})[run.id]  # the poller's answer, still on its way
    remote.refresh(force=True)  # e.g. after Pause
    remote.apply_polled(late, seen)
    assert [r["step"] for r in remote.history] == list(range(1, 16))
    host._trainers[run.id].step(n_steps=2)
    seen = remote.seen()
    remote.apply_polled(host.status([run.id], {run.id: seen})[run.id], seen)  # an answer in time is applied
    assert [r["step"] for r in remote.history] == list(range(1, 18)) and remote.step_count == 17


def test_a_checkpoint_s_progress_moves_with_it(host) -> None:
    run = _run()
    run.trainer.step(n_steps=12)
    remote = _proxy(host, run)
    remote.restore_progress(run.trainer.step_count, run.trainer.history, run.trainer.val_history,
                            dict(run.trainer.snapshots))
    assert remote.step_count == 12 and len(remote.history) == 12 and remote.status == "paused"
    assert sorted(remote.snapshots) == [0, 5, 10, 12], "a ready-trained model keeps its snapshots in a host"
    torch.testing.assert_close(remote.load_snapshot(5)["embed.weight"], run.trainer.snapshots[5]["embed.weight"])
    assert remote.best_step == run.trainer.best_step == 10


def test_two_sessions_train_in_two_processes_with_ray() -> None:
    pytest.importorskip("ray")
    from explorer.training.remote.pool import TrainingPool

    pool = TrainingPool(2)
    try:
        a, b = _run(), _run()
        pool.adopt("alice", a)
        pool.adopt("bob", b)
        assert isinstance(a.trainer, RemoteTrainer) and isinstance(b.trainer, RemoteTrainer)
        assert pool._host_of("alice") != pool._host_of("bob")  # one session per host while hosts are free
        a.trainer.start()
        b.trainer.start()
        wait_until(lambda: a.trainer.step_count > 20 and b.trainer.step_count > 20, timeout=60,
                   what="both hosts to train")
        # Nothing reads a's status for a while: the poller renews it anyway, so a page's read makes no round trip.
        polled = a.trainer._live["step_count"]
        wait_until(lambda: a.trainer._live["step_count"] > polled, timeout=5, what="the poller to renew the status")
        a.trainer.pause()
        weights = a.trainer.current_weights()
        assert set(weights) == set(a.model.state_dict())
        pool.remove_owner("bob")
        wait_until(lambda: b.trainer.status == "diverged", timeout=5, what="the proxy to see its run gone")
        assert "no longer" in b.trainer.message
    finally:
        pool.shutdown()


SERVER_LIKE = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from explorer.training.remote.pool import get_pool
from explorer.data.tasks import TaskSpec, make_task
from explorer.models import RecurrentConfig
from explorer.training.config import TrainConfig
from explorer.training.run import new_run

def script_run(target):  # as a Streamlit script thread: it runs, then ends
    thread = threading.Thread(target=target)
    thread.start()
    thread.join()

script_run(get_pool)  # the server starts the hosts from a thread that ends
data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=50, n_val=10))
run = new_run("r", data, RecurrentConfig(d_vocab=data.tokenizer.vocab_size, d_hidden=8), TrainConfig(max_steps=5))
script_run(lambda: get_pool().adopt("alice", run))  # a later run of the script hands it a run
print("adopted", type(run.trainer).__name__, flush=True)
"""


def test_the_hosts_survive_the_thread_that_started_them(tmp_path) -> None:
    """A Streamlit script thread ends after each run; Ray's client must not end with it (it took the server down)."""
    pytest.importorskip("ray")
    done = subprocess.run([sys.executable, "-c", SERVER_LIKE, str(ROOT)], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "EXPLORER_TRAIN_WORKERS": "1"})
    assert done.returncode == 0 and "adopted RemoteTrainer" in done.stdout, done.stdout + done.stderr[-2000:]
