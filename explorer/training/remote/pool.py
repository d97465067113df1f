"""Training hosts in worker processes: Ray actors on this machine (one per core by default), or a Ray cluster.

``EXPLORER_TRAIN_BACKEND=processes`` (class mode's default) makes every run a session adds train in one of the
hosts: :func:`adopt` moves a run that was built here (model, data, training config, and any progress) into the
host that serves its session, and gives it a :class:`RemoteTrainer`. All runs of one session share a host; a new
session goes to the host with the fewest sessions, so the hosts' schedulers give every session an equal share.
``EXPLORER_TRAIN_WORKERS`` sets the number of hosts; ``EXPLORER_RAY_ADDRESS`` joins an existing Ray cluster. The hosts
run at a lower CPU priority than the web server (``EXPLORER_TRAIN_NICE``, default 10), so pages stay quick while
every core trains.

The web server learns how its runs are doing from one poller thread: every ``POLL_S`` seconds it asks each host for
the status of all the runs it holds for this server, in one call per host, and hands each
:class:`RemoteTrainer` its part. So a page reads status without a round trip, and the hosts answer a few calls a
second however many students' pages read it (a call costs a host about as much training time as two steps of the
lecture LSTM: at thirty students, one status call per page read was 12 calls a second, about 2 % of the class's
training and 8 % of the web server's CPU).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

from explorer.data.dataset import TaskData
from explorer.models import build_model
from explorer.training.remote.host import TrainerHost
from explorer.training.remote.proxy import RemoteTrainer
from explorer.training.run import Run

CALL_TIMEOUT_S = 60.0
POLL_S = 0.5  # the status of every hosted run is renewed this often (pages read it without a round trip)
LOG = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[3]


def backend() -> str:
    """"threads" (training in this process) or "processes" (training hosts); EXPLORER_TRAIN_BACKEND decides."""
    value = os.environ.get("EXPLORER_TRAIN_BACKEND", "").strip().lower()
    return "processes" if value in ("processes", "ray") else "threads"


def host_count() -> int:
    value = os.environ.get("EXPLORER_TRAIN_WORKERS", "").strip()
    return max(1, int(value)) if value.isdigit() else max(1, os.cpu_count() or 1)


def host_nice() -> int:
    """How much lower the training hosts' CPU priority is than the web server's (``EXPLORER_TRAIN_NICE``, default
    10): on a server whose cores all train, a page's rerun would otherwise wait its turn behind the training."""
    value = os.environ.get("EXPLORER_TRAIN_NICE", "").strip()
    return min(19, max(0, int(value))) if value.isdigit() else 10


class TrainingPool:
    """Ray actors hosting runs, and which session's runs live where."""

    def __init__(self, n_hosts: int):
        import ray

        self._ray = ray
        if not ray.is_initialized():
            address = os.environ.get("EXPLORER_RAY_ADDRESS") or None
            ray.init(address=address, num_cpus=None if address else n_hosts, include_dashboard=False,
                     log_to_driver=False, configure_logging=False, object_store_memory=None if address else 200 * 2**20,
                     runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path[:1]])}})
        actor = ray.remote(num_cpus=1, max_concurrency=8)(TrainerHost)
        self.hosts = [actor.remote(nice=host_nice()) for _ in range(n_hosts)]
        ray.get([host.ping.remote() for host in self.hosts], timeout=120)
        self._owner_host: dict[str, int] = {}
        self._data_refs: dict[int, tuple[weakref.ref, Any]] = {}  # id(data) -> (the data, its object ref)
        self._lock = threading.Lock()
        self._polled: list[weakref.WeakSet[RemoteTrainer]] = [weakref.WeakSet() for _ in self.hosts]  # by host
        self._stopped = threading.Event()
        threading.Thread(target=self._poll_forever, name="explorer-status-poller", daemon=True).start()

    def _host_of(self, owner: str) -> int:
        with self._lock:
            if owner not in self._owner_host:
                load = [list(self._owner_host.values()).count(k) for k in range(len(self.hosts))]
                self._owner_host[owner] = load.index(min(load))
            return self._owner_host[owner]

    def _data_ref(self, data: TaskData) -> Any:
        """One copy of a dataset in Ray's object store, however many students train on it."""
        with self._lock:
            self._data_refs = {k: v for k, v in self._data_refs.items() if v[0]() is not None}
            kept = self._data_refs.get(id(data))
            if kept is None or kept[0]() is not data:
                kept = self._data_refs[id(data)] = (weakref.ref(data), self._ray.put(data))
            return kept[1]

    def adopt(self, owner: str, run: Run) -> None:
        """Move ``run``'s training into the host of ``owner``'s session (its weights and progress included)."""
        local = run.trainer
        if local is None or getattr(local, "remote", False) or run.is_finetune:
            return  # a fine-tuning run shares the server's pretrained weights: it trains here
        index = self._host_of(owner)
        host = self.hosts[index]
        ray = self._ray

        def call(method: str, *args: Any) -> Any:
            return ray.get(getattr(host, method).remote(*args), timeout=CALL_TIMEOUT_S)

        config = run.config.to_dict()
        status = call("create", run.id, owner, config, local.config.to_dict(), self._data_ref(run.data),
                      local.model_seed, local.current_weights())
        if local.step_count or local.history:
            call("control", run.id, "restore_progress", local.step_count, local.history, local.val_history,
                 dict(local.snapshots))  # a ready-trained model's snapshots: scrubbing through training still works
            status = call("status", [run.id], {})[run.id]
        model = build_model(run.config, seed=None)
        model.load_state_dict(local.current_weights())
        run.model = model.eval()
        run.trainer = RemoteTrainer(run.id, call, run.model, run.data, status, local.initial_config, local.model_seed)
        with self._lock:
            self._polled[index].add(run.trainer)

    def poll(self) -> None:
        """Renew the status of every hosted run still referenced here: one call per host, all hosts at once."""
        asked = []
        for index, trainers in enumerate(self._polled):
            with self._lock:
                live = list(trainers)
            if live:
                seen = {t.run_id: t.seen() for t in live}
                asked.append((live, seen, self.hosts[index].status.remote(list(seen), seen)))
        for live, seen, reply in asked:
            try:
                statuses = self._ray.get(reply, timeout=CALL_TIMEOUT_S)
            except Exception:  # a host that fails to answer: its runs' reads fetch their own status (REFRESH_S)
                LOG.exception("A training host did not answer the status poll")
                continue
            for trainer in live:
                trainer.apply_polled(statuses[trainer.run_id], seen[trainer.run_id])

    def _poll_forever(self) -> None:
        while not self._stopped.wait(POLL_S):
            try:
                self.poll()
            except Exception:  # the poller must outlive a bad round (the reads then fetch their own status)
                LOG.exception("Status poll failed")

    def remove(self, owner: str, run_id: str) -> None:
        host = self.hosts[self._host_of(owner)]
        self._ray.get(host.remove.remote(run_id), timeout=CALL_TIMEOUT_S)

    def remove_owner(self, owner: str) -> None:
        with self._lock:
            index = self._owner_host.pop(owner, None)
        if index is not None:
            self._ray.get(self.hosts[index].remove_owner.remote(owner), timeout=CALL_TIMEOUT_S)

    def shutdown(self) -> None:
        self._stopped.set()
        for host in self.hosts:
            self._ray.kill(host)


_POOL: TrainingPool | None = None
_POOL_LOCK = threading.Lock()


def get_pool() -> TrainingPool:
    """The server's training hosts (started on first use: a few seconds)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = _start_in_driver_thread(host_count())
        return _POOL


def _start_in_driver_thread(n_hosts: int) -> TrainingPool:
    """Start the pool in a thread that lives as long as the process.

    Ray's client belongs to the thread that called ``ray.init``: once that thread has ended, the next ``ray.put``
    from any other thread ends the whole process ("the connection to the plasma store is failed. Terminate the
    process", Ray 2.60). A Streamlit script thread ends after every run, so the pool is never started in one.
    """
    made: dict[str, Any] = {}
    ready = threading.Event()

    def driver() -> None:
        try:
            made["pool"] = TrainingPool(n_hosts)
        except BaseException as err:  # handed to the caller below, which raises it
            made["error"] = err
        ready.set()
        if "pool" in made:
            threading.Event().wait()  # keep Ray's client (and so this process) alive

    threading.Thread(target=driver, name="explorer-ray-driver", daemon=True).start()
    ready.wait()
    if "error" in made:
        raise made["error"]
    return made["pool"]
