"""A process that hosts many training runs: their models and trainers, and a scheduler that trains them.

A class server starts one host per core (``explorer.training.remote.pool``, as Ray actors), so that training uses
every core although one Python process cannot (the GIL; measured in explorer.training.scheduler). The web server
keeps, for each run, a :class:`~explorer.training.remote.proxy.RemoteTrainer` that reads status and history from
its host and fetches weights only when a page needs them.

Nothing here imports Ray: the class is plain Python (tests drive it directly), and Ray makes it an actor.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import torch

from explorer.data.batches import Formatted
from explorer.data.dataset import TaskData
from explorer.models import build_model, config_from_dict
from explorer.training.config import TrainConfig
from explorer.training.scheduler import Scheduler
from explorer.training.trainer import Trainer

CONTROLS = ("start", "pause", "reset", "step_through", "set_speed", "set_max_steps", "keep_training",
            "clear_divergence", "restore_progress")


def _cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


class TrainerHost:
    """Trainers by run id, trained by this process's own scheduler (an equal share per owner)."""

    def __init__(self, threads: int = 1, workers: int = 1, nice: int = 0):
        """``nice`` lowers this process's CPU priority (a host process only: the web server's pages come first, and
        training takes what they leave)."""
        if nice:
            os.nice(nice)
        torch.set_num_threads(max(1, threads))
        self._trainers: dict[str, Trainer] = {}
        self._owner_of: dict[str, str] = {}
        self._lock = threading.Lock()
        self.scheduler = Scheduler(workers=workers)

    # ----------------------------------------------------------------- runs
    def create(self, run_id: str, owner: str, model_config: dict, train_config: dict, data: TaskData,
               seed: int = 0, state_dict: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
        """Build the run's model (seeded, or with the given weights) and trainer here; returns its status."""
        config = config_from_dict(model_config)
        model = build_model(config, seed=seed)
        if state_dict is not None:
            model.load_state_dict(state_dict)
        trainer = Trainer(model, data, TrainConfig.from_dict(train_config), model_seed=seed)
        with self._lock:
            self._trainers[run_id] = trainer
            self._owner_of[run_id] = owner
        self.scheduler.add(owner, trainer)
        return self.status([run_id], {})[run_id]

    def remove(self, run_id: str) -> None:
        with self._lock:
            trainer = self._trainers.pop(run_id, None)
            self._owner_of.pop(run_id, None)
        if trainer is not None:
            trainer.pause()
            self.scheduler.remove(trainer)

    def remove_owner(self, owner: str) -> int:
        """Drop every run of ``owner`` (its browser session is gone); returns how many."""
        with self._lock:
            ids = [r for r, o in self._owner_of.items() if o == owner]
        for run_id in ids:
            self.remove(run_id)
        return len(ids)

    # ----------------------------------------------------------------- control and reading
    def control(self, run_id: str, action: str, *args: Any) -> None:
        """Call one of CONTROLS on the run's trainer."""
        if action not in CONTROLS:
            raise ValueError(f"Unknown control {action!r}.")
        getattr(self._trainer(run_id), action)(*args)

    def step(self, run_id: str, n_steps: int | None = None, time_budget_s: float | None = None) -> None:
        """Train now, in this call (tests and benchmarks; pages use start/step_through)."""
        self._trainer(run_id).step(n_steps=n_steps, time_budget_s=time_budget_s)

    def status(self, run_ids: list[str], seen: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, Any]]:
        """For each run: its status, and the history rows the caller lacks. ``seen`` maps a run id to the
        (history version, rows of history, rows of validation history) the caller has; a new version (a reset, a
        divergence restore, thinning) sends the whole history again."""
        out = {}
        for run_id in run_ids:
            trainer = self._trainers.get(run_id)
            if trainer is None:
                out[run_id] = {"gone": True}
                continue
            version, n_history, n_val = seen.get(run_id, (-1, 0, 0))
            same = version == trainer.history_version
            out[run_id] = {
                "status": trainer.status, "message": trainer.message, "step_count": trainer.step_count,
                "config": trainer.config.to_dict(), "steps_per_second": trainer.steps_per_second,
                "snapshot_steps": sorted(trainer.snapshots), "tokens_seen": trainer.tokens_seen,
                "history_version": trainer.history_version, "replace": not same,
                "best_step": trainer.best_step, "best_val_loss": trainer.best_val_loss,
                "stopped_early": trainer.stopped_early,
                "snapshot_bytes": sum(t.nelement() * t.element_size() for snap in trainer.snapshots.values()
                                      for t in snap.values()),
                "history": list(trainer.history[n_history:] if same else trainer.history),
                "val_history": list(trainer.val_history[n_val:] if same else trainer.val_history),
            }
        return out

    def val_set(self, run_id: str) -> Formatted:
        """The validation examples the run evaluates on (as its trainer formatted them)."""
        return self._trainer(run_id).val_set

    def weights(self, run_id: str) -> dict[str, torch.Tensor]:
        """The run's current weights (CPU copies)."""
        return self._trainer(run_id).current_weights()

    def snapshot(self, run_id: str, step: int) -> dict[str, torch.Tensor]:
        return _cpu(self._trainer(run_id).load_snapshot(step))

    def snapshots_at(self, run_id: str, steps: list[int]) -> dict[int, dict[str, torch.Tensor]]:
        """The snapshots of ``steps`` still kept, in one call (a page that reads many asks once)."""
        return {s: _cpu(w) for s, w in self._trainer(run_id).load_snapshots(steps).items()}

    def owners(self) -> dict[str, dict]:
        return self.scheduler.owners()

    def ping(self) -> int:
        return len(self._trainers)

    def _trainer(self, run_id: str) -> Trainer:
        trainer = self._trainers.get(run_id)
        if trainer is None:
            raise KeyError(f"No run {run_id} on this training host (it was closed, or its session ended).")
        return trainer
