"""The web server's stand-in for a trainer that lives in a training host process.

:class:`RemoteTrainer` answers what pages read of a :class:`~explorer.training.trainer.Trainer` (status, step,
config, history, snapshots, speed) from a status that the pool's poller brings up to date for all runs of a host in
one call every ``POLL_S`` seconds (explorer.training.remote.pool): a page's read is a look at that status, not a round
trip. A status older than ``REFRESH_S`` (no poller: tests; a host that was slow to answer) is fetched on read, and a
control (start, pause, step_through, …) is forwarded to the host and followed by a fresh status. Weights travel only
when asked for (``current_weights``, ``load_snapshot``: an analysis, a checkpoint), each fetched once per step and
kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from explorer.data.batches import Formatted
from explorer.data.dataset import TaskData
from explorer.models import Model
from explorer.training.config import TrainConfig
from explorer.training.history import MetricsReadout

REFRESH_S = 1.5  # a status older than this is fetched when read (the poller renews it every POLL_S)
KEPT_SNAPSHOTS = 8  # snapshots kept on this side (a slider over training fetches each once)


class RemoteSnapshots(Mapping):
    """The host's snapshot steps, each step's weights fetched when first read (then kept, a few at a time)."""

    def __init__(self, trainer: RemoteTrainer):
        self._trainer = trainer
        self._cache: OrderedDict[int, dict[str, torch.Tensor]] = OrderedDict()

    def __getitem__(self, step: int) -> dict[str, torch.Tensor]:
        if step not in self._trainer.snapshot_steps:
            raise KeyError(step)
        if step not in self._cache:
            try:
                weights = self._trainer.call("snapshot", step)
            except KeyError:  # thinned by the host since the last status: as if it had never been listed
                self._trainer.refresh(force=True)
                raise KeyError(step) from None
            self._keep(step, weights)
        self._cache.move_to_end(step)
        return self._cache[step]

    def many(self, steps: list[int]) -> dict[int, dict[str, torch.Tensor]]:
        """The weights of each of ``steps`` the host still keeps: those not kept here fetched in one call."""
        here = {s: self._cache[s] for s in steps if s in self._cache}
        missing = [s for s in steps if s not in here]
        fetched = self._trainer.call("snapshots_at", missing) if missing else {}
        for step, weights in fetched.items():
            self._keep(step, weights)
        found = {**here, **fetched}
        return {s: found[s] for s in steps if s in found}

    def _keep(self, step: int, weights: dict[str, torch.Tensor]) -> None:
        self._cache[step] = weights
        while len(self._cache) > KEPT_SNAPSHOTS:
            self._cache.popitem(last=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._trainer.snapshot_steps)

    def __len__(self) -> int:
        return len(self._trainer.snapshot_steps)

    def __contains__(self, step: object) -> bool:
        return step in self._trainer.snapshot_steps


class RemoteTrainer(MetricsReadout):
    """A trainer in another process, read and driven through ``call(method, run_id, *args)`` (a Ray actor's)."""

    remote = True  # the local scheduler leaves it alone: its host trains it

    def __init__(self, run_id: str, call: Callable[..., Any], model: Model, data: TaskData, status: dict,
                 initial_config: TrainConfig | None = None, model_seed: int = 0):
        self.run_id = run_id
        self.model_seed = model_seed  # as the local trainer's: a link re-makes the run from these
        self.initial_config = initial_config or TrainConfig.from_dict(status["config"])
        self._call = call
        self.model = model  # a local copy, refreshed by current_weights()
        self.data = data
        self.snapshots = RemoteSnapshots(self)
        self.wake: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._weights_step = -1
        self._history: list[dict[str, float]] = []
        self._val_history: list[dict[str, float]] = []
        self._live: dict[str, Any] = {}
        self._version = -1
        self._fetched = 0.0
        self._val_set: Formatted | None = None
        self._apply(status)

    # ----------------------------------------------------------------- status
    def call(self, method: str, *args: Any) -> Any:
        return self._call(method, self.run_id, *args)

    def _apply(self, status: dict) -> None:
        if status.get("gone"):
            self._live.update(status="diverged", message="This run's training process no longer has it.")
            self._fetched = time.monotonic()
            return
        if status["replace"]:
            self._history, self._val_history = list(status["history"]), list(status["val_history"])
        else:
            self._history += status["history"]
            self._val_history += status["val_history"]
        self._version = status["history_version"]
        self._live = {k: status[k] for k in ("status", "message", "step_count", "tokens_seen", "steps_per_second",
                                             "snapshot_steps", "best_step", "best_val_loss", "stopped_early",
                                             "snapshot_bytes")}
        self._live["config"] = TrainConfig.from_dict(status["config"])
        self._fetched = time.monotonic()

    def refresh(self, force: bool = False) -> None:
        """Bring the status up to date (when it is older than REFRESH_S, or ``force``)."""
        if not force and time.monotonic() - self._fetched < REFRESH_S:
            return
        with self._lock:
            seen = {self.run_id: self._seen()}
            self._apply(self._call("status", [self.run_id], seen)[self.run_id])

    def seen(self) -> tuple[int, int, int]:
        """What this side has of the history: (history version, rows of history, rows of validation history)."""
        with self._lock:
            return self._seen()

    def _seen(self) -> tuple[int, int, int]:
        return self._version, len(self._history), len(self._val_history)

    def apply_polled(self, status: dict, seen: tuple[int, int, int]) -> None:
        """A status the poller fetched for ``seen``; dropped when this side has changed since (a forced refresh
        came first: its rows must not be appended twice)."""
        with self._lock:
            if self._seen() == seen:
                self._apply(status)

    def _read(self, name: str) -> Any:
        self.refresh()
        return self._live[name]

    status = property(lambda self: self._read("status"))
    message = property(lambda self: self._read("message"))
    step_count = property(lambda self: self._read("step_count"))
    tokens_seen = property(lambda self: self._read("tokens_seen"))
    steps_per_second = property(lambda self: self._read("steps_per_second"))
    snapshot_steps = property(lambda self: self._read("snapshot_steps"))
    config = property(lambda self: self._read("config"))
    best_step = property(lambda self: self._read("best_step"))  # of the lowest validation loss (early stopping)
    best_val_loss = property(lambda self: self._read("best_val_loss"))
    stopped_early = property(lambda self: self._read("stopped_early"))
    snapshot_bytes = property(lambda self: self._read("snapshot_bytes"))  # what the host's snapshots hold

    @property
    def val_set(self) -> Formatted:
        """The host's validation examples (fetched once: they do not change)."""
        if self._val_set is None:
            self._val_set = self.call("val_set")
        return self._val_set

    @property
    def history(self) -> list[dict[str, float]]:
        self.refresh()
        return self._history

    @property
    def val_history(self) -> list[dict[str, float]]:
        self.refresh()
        return self._val_history

    @property
    def is_running(self) -> bool:
        return self.status == "running"

    @property
    def learned(self) -> bool:
        return self.status == "done" and self.step_count < self.config.max_steps

    def learned_metric(self) -> str:
        return "val_sequence_accuracy" if self.data.kind == "seq2seq" else "val_accuracy"

    def due_steps(self, now: float) -> int:  # the local scheduler's question: never this process's job
        return 0

    def seconds_to_next_step(self, now: float) -> float:
        return 1.0

    # ----------------------------------------------------------------- controls (forwarded)
    def _control(self, action: str, *args: Any) -> None:
        self.call("control", action, *args)
        self.refresh(force=True)

    def start(self) -> None:
        self._control("start")

    def pause(self) -> None:
        self._control("pause")

    def reset(self) -> None:
        self._control("reset")
        self._weights_step = -1

    def step_through(self, n_steps: int) -> None:
        self._control("step_through", int(n_steps))

    def set_speed(self, steps_per_second: float | None) -> None:
        self._control("set_speed", steps_per_second)

    def set_max_steps(self, max_steps: int) -> None:
        self._control("set_max_steps", int(max_steps))

    def keep_training(self) -> None:
        self._control("keep_training")

    def clear_divergence(self) -> None:
        self._control("clear_divergence")

    def restore_progress(self, step: int, history: list[dict], val_history: list[dict],
                         snapshots: dict[int, dict[str, torch.Tensor]] | None = None) -> None:
        self._control("restore_progress", step, history, val_history, snapshots)

    def fail(self, message: str) -> None:
        self._control("pause")

    def step(self, n_steps: int | None = None, time_budget_s: float | None = None, only_if_running: bool = False):
        """Train in the host now, waiting for it (tests and benchmarks)."""
        if not only_if_running:
            self.call("step", n_steps, time_budget_s)
            self.refresh(force=True)

    # ----------------------------------------------------------------- weights
    def current_weights(self) -> dict[str, torch.Tensor]:
        """The host's weights now; the local model copy is updated too (fetched once per step)."""
        step = self.step_count
        if self._weights_step != step:
            self.model.load_state_dict(self.call("weights"))
            self._weights_step = step
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def load_snapshot(self, step: int) -> dict[str, torch.Tensor]:
        return self.snapshots[step]

    def load_snapshots(self, steps: list[int]) -> dict[int, dict[str, torch.Tensor]]:
        """As :meth:`Trainer.load_snapshots`: the ones of ``steps`` the host still keeps."""
        return self.snapshots.many(list(steps))
