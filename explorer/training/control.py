"""Starting, pausing and pacing a trainer, and stopping it once it has learned (a mixin of :class:`Trainer`).

A scheduler (``explorer.training.scheduler``) trains running trainers; these methods only change what it will do:
``start``/``pause``, ``step_through(n)`` (n more steps in the background, then pause), ``set_speed`` (steps per
second), ``set_max_steps``, and the optional stop at ``TrainConfig.stop_at_accuracy``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from explorer.data.dataset import TaskData
from explorer.training.config import TrainConfig
from explorer.training.early_stopping import ValidationWatch
from explorer.training.pacing import Pacer

PAUSE_WAIT_S = 5.0  # longest a pause waits for a step in progress (a huge model's step)


class LiveControl:
    """Needs ``status``, ``message``, ``step_count``, ``config``, ``data``, ``val_history``, ``pace``, ``wake`` and
    ``_pause_at`` (set by the Trainer)."""

    status: str
    message: str
    step_count: int
    config: TrainConfig
    data: TaskData
    val_history: list[dict[str, float]]
    pace: Pacer
    wake: Callable[[], None] | None
    _pause_at: int | None
    _lock: threading.Lock
    stopped_early: bool
    watch: ValidationWatch

    @property
    def is_running(self) -> bool:
        return self.status == "running"


    def start(self) -> None:
        """Mark the run as running: a scheduler (or the caller, with :meth:`step`) then trains it in chunks."""
        if self.status == "diverged":
            return
        if self.step_count >= self.config.max_steps:
            self.status, self.message = "done", f"Reached the step target ({self.config.max_steps})."
            return
        self.status, self.message = "running", ""
        self.pace.restart(self.step_count)
        self._notify()


    def step_through(self, n_steps: int) -> None:
        """Train ``n_steps`` more steps in the background (chunk by chunk, pausable), then pause."""
        if self.status in ("diverged", "done"):
            return
        self._pause_at = min(self.step_count + max(1, int(n_steps)), self.config.max_steps)
        self.start()


    def set_speed(self, steps_per_second: float | None) -> None:
        """Limit live training to this many steps per second (None: no limit), from now on."""
        self.pace.restart(self.step_count, steps_per_second)
        self._notify()


    @property
    def steps_per_second(self) -> float | None:
        return self.pace.steps_per_second


    def due_steps(self, now: float) -> int | None:
        """Steps the speed limit allows at monotonic time ``now`` (None: no limit)."""
        return self.pace.due_steps(self.step_count, now)


    def seconds_to_next_step(self, now: float) -> float:
        return self.pace.seconds_to_next_step(self.step_count, now)


    def _notify(self) -> None:
        if self.wake is not None:
            self.wake()


    def pause(self) -> None:
        """Stop training; returns once a chunk in progress has ended (at most one step later)."""
        self._pause_at = None
        if self.status == "running":
            self.status = "paused"
        if self._lock.acquire(timeout=PAUSE_WAIT_S):  # the worker's chunk sees the status and stops
            self._lock.release()


    @property
    def learned(self) -> bool:
        """Stopped because ``stop_at_accuracy`` was reached (not because of the step target)."""
        return self.status == "done" and self.step_count < self.config.max_steps


    def keep_training(self) -> None:
        """After a stop before the step target (``stop_at_accuracy`` reached, or early stopping): go on to the step
        target, without either stop."""
        self.config = TrainConfig.from_dict({**self.config.to_dict(), "stop_at_accuracy": None,
                                             "early_stopping": False})
        if self.learned:
            self.stopped_early = False
            self.watch.resume()
            self.status, self.message = "running", ""
            self._notify()


    def set_max_steps(self, max_steps: int) -> None:
        self.config = TrainConfig.from_dict({**self.config.to_dict(), "max_steps": max_steps})
        if self.status == "done" and self.step_count < max_steps:
            self.status, self.message = "paused", ""
            self.stopped_early = False
            self.watch.resume()


    def learned_metric(self) -> str:
        """The validation metric that says a task is learned: whole sequences for source → target tasks."""
        return "val_sequence_accuracy" if self.data.kind == "seq2seq" else "val_accuracy"


    def _stop_when_learned(self) -> None:
        """With ``stop_at_accuracy`` set: done once two evaluations in a row reach it (one could be luck)."""
        target = self.config.stop_at_accuracy
        if target is None or len(self.val_history) < 2:
            return
        metric = self.learned_metric()
        if all(row[metric] >= target for row in self.val_history[-2:]):
            self.status = "done"
            self.message = (f"Learned: validation {'whole-sequence ' if 'sequence' in metric else ''}accuracy "
                            f"{self.val_history[-1][metric]:.1%} (at least {target:.0%} twice in a row) at step "
                            f"{self.step_count}.")

