"""Training on the server's clock: one scheduler per process advances every running trainer in bounded chunks.

A fixed pool of worker threads picks, again and again, the *owner* (a browser session) that has used the least
training time so far among those with a trainer ready to step, and runs one chunk (``CHUNK_S`` seconds) of that
owner's next trainer (round-robin within the owner). So every session gets an equal share of the training
workers, however many runs it has, and training goes on whether or not its browser tab is visible or ticking.

- A trainer with a speed limit (``Trainer.steps_per_second``) is stepped only as fast as that allows.
- An owner whose ``alive`` check has been false for ``GRACE_S`` seconds (its browser tab closed) is dropped: its
  trainers are paused and ``on_gone`` is called so that its memory can be freed.
- Nothing here touches Streamlit: the ui layer passes owners, liveness checks and callbacks in. Trainers are
  held by weak reference, so a session whose state is garbage-collected leaves the scheduler by itself.

The workers are threads of this process. Measured on this project's 2-core machine (lecture LSTM): one thread
trains ≈ 520 steps/s, two threads together ≈ 530 (the GIL serialises the Python half of a small step), so the
default is one worker; ``EXPLORER_TRAIN_WORKERS`` overrides it. Processes are what use more cores
(``explorer.training.remote``).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from explorer.training.trainer import Trainer

CHUNK_S = 0.1  # seconds of training per pick: short enough for fairness, long enough to amortise the pick
GRACE_S = 60.0  # an owner with no browser for this long is dropped (a page reload reconnects well within it)
CHECK_EVERY_S = 5.0  # how often owners' liveness is checked
IDLE_WAIT_S = 0.5  # longest sleep while nothing is ready (a start or a due paced step wakes the workers earlier)
LOG = logging.getLogger(__name__)


@dataclass
class _Owner:
    key: str
    trainers: list[weakref.ref] = field(default_factory=list)
    alive: Callable[[], bool] | None = None
    on_gone: Callable[[], None] | None = None
    used_s: float = 0.0  # training time given to this owner (the fairness measure)
    dead_since: float | None = None
    turn: int = 0  # round-robin position among the owner's trainers (advanced when one of them is chosen)


class Scheduler:
    """Advances running trainers of many owners on ``workers`` threads, fairly (see the module docstring)."""

    def __init__(self, workers: int = 1, chunk_s: float = CHUNK_S, grace_s: float = GRACE_S,
                 check_every_s: float = CHECK_EVERY_S):
        self.chunk_s = chunk_s
        self.grace_s = grace_s
        self.check_every_s = check_every_s
        self._owners: dict[str, _Owner] = {}
        self._busy: set[int] = set()  # ids of trainers a worker is stepping now
        self._cond = threading.Condition()
        self._stopped = False
        self._last_check = time.monotonic()
        self._threads = [threading.Thread(target=self._work, name=f"explorer-train-{k}", daemon=True)
                         for k in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    # ----------------------------------------------------------------- registration
    def add(self, owner: str, trainer: Trainer, alive: Callable[[], bool] | None = None,
            on_gone: Callable[[], None] | None = None) -> None:
        """Let the scheduler train ``trainer`` (when running) on behalf of ``owner``."""
        with self._cond:
            entry = self._owners.get(owner)
            if entry is None:
                # A newcomer starts level with the least-served active owner, not at zero (it would starve them).
                floor = min((o.used_s for o in self._owners.values()), default=0.0)
                entry = self._owners[owner] = _Owner(owner, used_s=floor)
            entry.alive = alive or entry.alive
            entry.on_gone = on_gone or entry.on_gone
            if not any(ref() is trainer for ref in entry.trainers):
                entry.trainers.append(weakref.ref(trainer))
            trainer.wake = self.wake
            self._cond.notify_all()

    def remove(self, trainer: Trainer) -> None:
        with self._cond:
            for entry in self._owners.values():
                entry.trainers = [ref for ref in entry.trainers if ref() is not None and ref() is not trainer]

    def wake(self) -> None:
        """A trainer was started or changed: let an idle worker look again."""
        with self._cond:
            self._cond.notify_all()

    def forget_all(self) -> None:
        """Pause every trainer and forget every owner (tests start from a quiet scheduler)."""
        with self._cond:
            for owner in self._owners.values():
                for trainer in self._live(owner):
                    trainer.pause()
            self._owners.clear()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop the workers and wait for their current chunk (at exit: torch must not be torn down under them)."""
        self.stop()
        for thread in self._threads:
            thread.join(timeout)

    # ----------------------------------------------------------------- reading
    def owners(self) -> dict[str, dict]:
        """Per owner: registered and running trainers, training seconds received."""
        with self._cond:
            return {o.key: {"trainers": len(self._live(o)),
                            "running": sum(t.is_running for t in self._live(o)), "used_s": o.used_s}
                    for o in self._owners.values()}

    @staticmethod
    def _live(owner: _Owner) -> list[Trainer]:
        return [t for t in (ref() for ref in owner.trainers) if t is not None]

    # ----------------------------------------------------------------- the workers
    def _pick(self, now: float) -> tuple[_Owner, Trainer, int | None] | float:
        """(owner, trainer, steps allowed or None) to run next; or the seconds until a paced step falls due."""
        wait = IDLE_WAIT_S
        best: tuple[_Owner, Trainer, int | None] | None = None
        for owner in self._owners.values():
            if owner.dead_since is not None:
                continue
            trainers = [t for t in self._live(owner)  # a remote trainer is trained by its own host
                        if not getattr(t, "remote", False) and t.is_running and id(t) not in self._busy]
            if not trainers or (best is not None and owner.used_s >= best[0].used_s):
                continue
            start = owner.turn % len(trainers)
            for trainer in trainers[start:] + trainers[:start]:
                due = trainer.due_steps(now)
                if due is None or due > 0:
                    best = (owner, trainer, due)
                    break
                wait = min(wait, trainer.seconds_to_next_step(now))
        return best if best is not None else max(wait, 0.005)

    def _work(self) -> None:
        # OpenMP's thread count is per thread: a worker would otherwise use every core for each small step
        # (slower on a shared server, and results that differ from a run trained with another count).
        torch.set_num_threads(worker_threads())
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                if now - self._last_check >= self.check_every_s:
                    self._last_check = now
                    gone = self._check_owners(now)
                else:
                    gone = []
                picked = self._pick(now)
                if isinstance(picked, float):
                    if not gone:
                        self._cond.wait(picked)
                        continue
                else:
                    owner, trainer, due = picked
                    owner.turn += 1
                    self._busy.add(id(trainer))
            for callback in gone:  # outside the lock: a callback may touch the session
                _call(callback)
            if isinstance(picked, float):
                continue
            started = time.perf_counter()
            try:
                trainer.step(n_steps=due, time_budget_s=self.chunk_s, only_if_running=True)
            except Exception:  # a trainer that raises must not kill the worker that trains everyone else
                LOG.exception("Training chunk failed; the run is stopped")
                trainer.fail("Training stopped: an unexpected error in a training step (see the server log).")
            finally:
                with self._cond:
                    self._busy.discard(id(trainer))
                    owner.used_s += time.perf_counter() - started

    def _check_owners(self, now: float) -> list[Callable[[], None]]:
        """Drop owners gone for ``grace_s`` (pausing their trainers); returns their on_gone callbacks."""
        gone = []
        for key, owner in list(self._owners.items()):
            trainers = self._live(owner)
            if not trainers and owner.alive is None:
                del self._owners[key]  # its session state was garbage-collected
                continue
            alive = owner.alive is None or _call(owner.alive, default=True)
            if alive:
                owner.dead_since = None
                continue
            owner.dead_since = owner.dead_since or now
            if now - owner.dead_since >= self.grace_s:
                for trainer in trainers:
                    trainer.pause()
                del self._owners[key]
                if owner.on_gone is not None:
                    gone.append(owner.on_gone)
        return gone


def _call(callback: Callable, default=None):
    try:
        return callback()
    except Exception:  # a liveness check or cleanup that fails must not stop the scheduler
        LOG.exception("Scheduler callback failed")
        return default


_SCHEDULER: Scheduler | None = None
_SCHEDULER_LOCK = threading.Lock()


def worker_threads() -> int:
    """Intra-op threads of each worker: EXPLORER_TORCH_THREADS, else 1 (as the web server's, runtime.py)."""
    value = os.environ.get("EXPLORER_TORCH_THREADS", "").strip()
    return max(1, int(value)) if value.isdigit() else 1


def default_workers() -> int:
    """Worker threads: EXPLORER_TRAIN_WORKERS, else 1 (threads share the GIL: see the module docstring)."""
    value = os.environ.get("EXPLORER_TRAIN_WORKERS", "").strip()
    return max(1, int(value)) if value.isdigit() else 1


def get_scheduler() -> Scheduler:
    """The process's scheduler (started on first use, stopped at exit: torch must not be torn down under a
    worker that is still stepping)."""
    global _SCHEDULER
    with _SCHEDULER_LOCK:
        if _SCHEDULER is None:
            _SCHEDULER = Scheduler(workers=default_workers())
            atexit.register(_SCHEDULER.shutdown)
        return _SCHEDULER
