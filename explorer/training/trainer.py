"""A trainer that advances in bounded chunks, so that a UI stays responsive while it trains.

``trainer.step(n_steps=…, time_budget_s=…)`` runs at most that many optimizer steps (or until the
time budget is spent) and returns. Between chunks the caller may redraw, pause, scrub snapshots or
change nothing at all. The trainer keeps:

- ``history``: one row per step (loss, accuracy, learning rate, gradient norm, tokens/s) and
  ``val_history``: one row per evaluation (validation loss, token and sequence accuracy);
- ``snapshots``: a bounded ring of weights (step -> state dict on the CPU) for scrubbing through
  training; when it is full every other snapshot is dropped and the spacing doubles, so it always
  covers the whole run;
- the learning-rate schedule (``config.schedule``: ε_k is set before every update) and, with
  ``config.early_stopping``, a watch on the validation loss: after ``patience`` evaluations without a new minimum
  the run stops and the weights of the best evaluation are put back (``best_step``; the history is kept, so the
  curve still shows the rise that stopped it);
- a guard: a non-finite loss or gradient, or a loss that explodes (above EXPLODE_FACTOR times its
  starting level for EXPLODE_STEPS steps: Adam with a huge learning rate stays finite but useless),
  stops the run, says why, and restores the last good weights.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from explorer.data.batches import Formatted, check_compatible, format_split
from explorer.data.dataset import TaskData
from explorer.data.masking import mask_batch, masking_for
from explorer.models import Model, build_model
from explorer.training.budget import check_step_memory
from explorer.training.config import TrainConfig
from explorer.training.control import LiveControl
from explorer.training.device import default_device
from explorer.training.early_stopping import ValidationWatch
from explorer.training.history import MetricsReadout
from explorer.training.metrics import accuracy_counts, evaluate_split, forward, loss_fn
from explorer.training.optim import make_optimizer
from explorer.training.pacing import Pacer
from explorer.training.schedules import learning_rate

ACCURACY_ROWS = 16  # train accuracy is measured on this many sequences of each batch (argmax is not free)
EVAL_TOKENS = 8192  # token tasks validate on at most eval_examples sequences and about this many tokens
GOOD_COPY_EVERY = 10  # steps between copies of the last good weights (the divergence fallback)
EXPLODE_FACTOR = 5.0  # a loss this many times its starting level ...
EXPLODE_STEPS = 3  # ... for this many steps in a row counts as diverged
MAX_HISTORY = 20_000  # per-step rows kept; beyond, the older half is thinned to every other row
HEALTHY_FACTOR = 1.5  # the fallback copy is refreshed only while the loss is at most this factor of it
VAL_MASK_SEED = 1234  # a masked-LM model's validation split is masked once with this seed




@dataclass
class ChunkResult:
    """What one call to :meth:`Trainer.step` did."""

    steps: int
    seconds: float
    status: str


class Trainer(LiveControl, MetricsReadout):
    """Trains ``model`` on ``data`` (formatted once, kept on the device) with ``config``."""

    def __init__(self, model: Model, data: TaskData, config: TrainConfig | None = None,
                 device: torch.device | str | None = None, model_seed: int = 0,
                 initial_state: dict[str, torch.Tensor] | None = None):
        """``initial_state``: weights to start from (and to reset to) instead of the seeded initialisation, e.g. a
        pre-trained body under a fresh classifier head."""
        self.config = config or TrainConfig()
        self.initial_config = self.config  # what it started with (links re-train from it)
        self._check_fits(model, data)
        self.device = torch.device(device) if device is not None else default_device()
        self.initial_state = initial_state
        if initial_state is not None:
            model.load_state_dict(initial_state)
        self.model = model.to(self.device)
        self.data = data
        self.model_seed = model_seed
        self.masking = masking_for(model.config, data.tokenizer)  # masked-LM models: BERT's 80/10/10 rule
        self.train_set, self.val_set = self._format_splits(data)
        # One chunk at a time: a scheduler worker and a page may both ask for steps.
        self._lock = threading.Lock()
        self.pace = Pacer()  # a speed limit for live training (none by default)
        self._pause_at: int | None = None  # step_through: pause when this step is reached
        self.wake: Callable[[], None] | None = None  # set by a scheduler: called when the run starts or changes
        # The weights training starts from (and Reset returns to): the seeded init plus whatever was put in
        # before the trainer was made (e.g. GloVe rows in the embedding), so a rebuild from the seed would miss it.
        self._initial_state = self._cpu_state()
        self._start_fresh()

    # ----------------------------------------------------------------- what subclasses adapt (fine-tuning)
    def _check_fits(self, model: Model, data: TaskData) -> None:
        """Raise ValueError (saying what to change) before anything is allocated."""
        check_compatible(data, model.config, self.config.seq_len)
        check_step_memory(model.config, self.config, data)

    def _format_splits(self, data: TaskData) -> tuple[Formatted, Formatted]:
        """The training split and (at most eval_examples of) the validation split as tensors on the device.
        A masked-LM model's validation inputs are masked once, with a fixed seed, so evaluations compare."""
        train = format_split(data.train, data, self.model.config, self.config.seq_len).to(self.device)
        val = format_split(data.val, data, self.model.config, self.config.seq_len)
        n_val = min(len(val), self.config.eval_examples)
        if data.kind != "classification":  # token tasks: about EVAL_TOKENS labelled positions are plenty
            n_val = min(n_val, max(32, EVAL_TOKENS // max(val.inputs.shape[1], 1)))
        val = val.take(torch.arange(n_val))
        if self.masking is not None:
            val = mask_batch(val, self.masking, torch.Generator().manual_seed(VAL_MASK_SEED))
        return train, val.to(self.device)

    def _fresh_state(self) -> dict[str, torch.Tensor]:
        """The initial weights (what reset goes back to): the ones the run started from (``initial_state``), else
        the seeded initialisation plus whatever was put in before the trainer was made (e.g. GloVe rows)."""
        if self.initial_state is not None:
            return self.initial_state
        return self._initial_state

    def _load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)

    def _draw_batch(self) -> Formatted:
        """A random training batch (masked afresh at every step for a masked-LM model, as RoBERTa does)."""
        index = torch.randint(len(self.train_set), (self.config.batch_size,), generator=self.generator)
        batch = self.train_set.take(index.to(self.device))
        return batch if self.masking is None else mask_batch(batch, self.masking, self.generator)

    # ----------------------------------------------------------------- state
    def _start_fresh(self) -> None:
        self.history_version = getattr(self, "history_version", 0) + 1  # history rewritten, not appended to
        self.step_count = 0
        self.tokens_seen = 0
        self.history: list[dict[str, float]] = []
        self.val_history: list[dict[str, float]] = []
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.snapshot_every = self.config.snapshot_every
        self.status = "ready"  # ready | running | paused | done | diverged
        self.message = ""
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.optimizer = self._make_optimizer()
        self._good_state = self._cpu_state()
        self._good_step = 0
        self._reference_loss: float | None = None  # the loss at the first step
        self._exploding_steps = 0
        self.watch = ValidationWatch(self.config.patience, self.config.early_stopping)
        self.stopped_early = False
        self._take_snapshot()

    def _make_optimizer(self) -> torch.optim.Optimizer:
        return make_optimizer(self.model.parameters(), self.config)

    def _cpu_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def _snapshot_capacity(self) -> int:
        n_bytes = sum(v.numel() * v.element_size() for v in self._good_state.values())  # what one snapshot holds
        by_memory = int(self.config.snapshot_budget_mb * 2**20 // max(n_bytes, 1))
        return max(2, min(self.config.max_snapshots, by_memory))

    def _take_snapshot(self) -> None:
        self.snapshots[self.step_count] = self._cpu_state()
        if len(self.snapshots) > self._snapshot_capacity():
            # Thin out: keep step 0, the newest, and every other one in between; double the spacing.
            steps = sorted(self.snapshots)
            keep = set(steps[::2]) | {steps[0], steps[-1]}
            self.snapshots = {s: self.snapshots[s] for s in steps if s in keep}
            self.snapshot_every *= 2

    # ----------------------------------------------------------------- control
    def reset(self) -> None:
        """Back to the seeded initial weights with an empty history (waits for a running chunk to end)."""
        fresh = self._fresh_state()
        with self._lock:
            self._load_state(fresh)
            self._start_fresh()

    def restore_progress(self, step: int, history: list[dict], val_history: list[dict],
                         snapshots: dict[int, dict[str, torch.Tensor]] | None = None) -> None:
        """Continue a run loaded from a checkpoint (or moved to a training host): its step count, metrics, earlier
        snapshots and early-stopping watch (the weights are already loaded). Reset still returns to the seeded
        initial weights, not to the checkpoint's."""
        self._reseed_initial_state()
        self.step_count = step
        self.history, self.val_history = list(history), list(val_history)
        self.history_version += 1
        earlier = {s: w for s, w in (snapshots or {}).items() if s < step}
        self.snapshots = {**dict(sorted(earlier.items())), step: self._cpu_state()}
        self._good_state, self._good_step = self._cpu_state(), step
        self.watch = ValidationWatch(self.config.patience, self.config.early_stopping)
        for row in self.val_history:  # the minimum so far, with its weights where a snapshot of its step is kept
            self.watch.update(row["step"], row["val_loss"], lambda s=row["step"]: self.snapshots.get(s))
        self.status = "paused" if step < self.config.max_steps else "done"
        self.message = "" if self.status == "paused" else f"Reached the step target ({self.config.max_steps})."

    def _reseed_initial_state(self) -> None:
        """What reset returns to after a checkpoint was loaded: the seeded initialisation, not the loaded weights."""
        seeded = build_model(self.model.config, seed=self.model_seed)
        self._initial_state = {k: v.detach().to("cpu", copy=True) for k, v in seeded.state_dict().items()}

    def current_weights(self) -> dict[str, torch.Tensor]:
        """CPU copies of all the weights now (an analysis reads these, never the live model)."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def load_snapshot(self, step: int) -> dict[str, torch.Tensor]:
        """The weights recorded at ``step`` (a CPU state dict); KeyError if none was kept."""
        return self.snapshots[step]

    def load_snapshots(self, steps: list[int]) -> dict[int, dict[str, torch.Tensor]]:
        """The weights at each of ``steps`` that is still kept (training may thin snapshots meanwhile)."""
        kept = self.snapshots  # one look: thinning replaces the dict (new snapshots are only ever added to it)
        return {s: kept[s] for s in steps if s in kept}

    # ----------------------------------------------------------------- training
    def step(self, n_steps: int | None = None, time_budget_s: float | None = None,
             only_if_running: bool = False) -> ChunkResult:
        """Run up to ``n_steps`` optimizer steps, stopping early when the time budget is spent,
        the step target is reached, or the loss diverges. With neither bound, runs one step.
        Returns at once (0 steps) while another thread is training this run, and (``only_if_running``: the
        scheduler's call) when the run was paused or reset meanwhile."""
        if self.status == "diverged" or not self._lock.acquire(blocking=False):
            return ChunkResult(0, 0.0, self.status)
        if only_if_running and self.status != "running":
            self._lock.release()
            return ChunkResult(0, 0.0, self.status)
        try:
            return self._run_chunk(n_steps, time_budget_s)
        except (RuntimeError, MemoryError) as err:
            if not _out_of_memory(err):
                raise
            # Stop this run and keep its last good weights; the server and the other runs go on.
            self._stop_at_good_weights(f"Training stopped at step {self.step_count + 1}: {_first_line(err)}. The "
                                       f"weights were restored to step {self._good_step}, the last good ones; a "
                                       "smaller batch, window or model may fit.")
            return ChunkResult(0, 0.0, self.status)
        finally:
            self._lock.release()

    def _run_chunk(self, n_steps: int | None, time_budget_s: float | None) -> ChunkResult:
        if n_steps is None and time_budget_s is None:
            n_steps = 1
        start = time.perf_counter()
        done = 0
        was_running = self.status == "running"
        self.model.train()
        while self.step_count < self.config.max_steps:
            if n_steps is not None and done >= n_steps:
                break
            if was_running and self.status != "running":  # paused (or reset) while this chunk ran: stop now
                break
            if time_budget_s is not None and done and time.perf_counter() - start >= time_budget_s:
                break
            if not self._one_step():
                done += int(self.stopped_early)  # the step that triggered early stopping was taken
                break
            done += 1
            if self.status == "done":  # learned: stop_at_accuracy reached
                break
            if self._pause_at is not None and self.step_count >= self._pause_at:
                self._pause_at = None
                if self.status == "running":
                    self.status = "paused"
                break
        elapsed = time.perf_counter() - start
        if self.step_count >= self.config.max_steps and self.status not in ("diverged", "done"):
            self.status, self.message = "done", f"Reached the step target ({self.config.max_steps})."
        return ChunkResult(done, elapsed, self.status)

    def _one_step(self) -> bool:
        """One optimizer step with its bookkeeping. False when the run diverged."""
        t0 = time.perf_counter()
        batch = self._draw_batch()
        logits = forward(self.model, batch)
        loss = loss_fn(logits, batch.labels)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            return self._diverged(f"the loss became {loss_value}")
        reference = self._reference_loss = self._reference_loss or max(loss_value, 1e-3)
        self._exploding_steps = self._exploding_steps + 1 if loss_value > EXPLODE_FACTOR * reference else 0
        if self._exploding_steps >= EXPLODE_STEPS:
            return self._diverged(f"the loss exploded to {loss_value:.3g} (it started at {reference:.3g})")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        rate = learning_rate(self.config, self.step_count)  # ε_k of this update (k = steps taken so far)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        if self.config.grad_clip is not None:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip))
        else:
            grads = [p.grad for p in self.model.parameters() if p.grad is not None]
            grad_norm = float(torch.nn.utils.get_total_norm(grads))
        if not math.isfinite(grad_norm):
            return self._diverged(f"the gradient norm became {grad_norm}")
        self.optimizer.step()
        self.step_count += 1
        self.tokens_seen += batch.n_tokens
        rows = slice(0, ACCURACY_ROWS) if batch.labels.dim() > 1 else slice(None)
        correct, total, _, _ = accuracy_counts(logits[rows].detach(), batch.labels[rows])
        seconds = time.perf_counter() - t0
        self.history.append({
            "step": self.step_count, "loss": loss_value, "accuracy": correct / max(total, 1),
            "lr": self.optimizer.param_groups[0]["lr"], "grad_norm": grad_norm,
            "tokens_per_s": batch.n_tokens / max(seconds, 1e-9),
        })
        if len(self.history) > MAX_HISTORY:  # a million-step run must not grow without bound
            half = len(self.history) // 2
            self.history = self.history[:half:2] + self.history[half:]
            self.history_version += 1
        if self.step_count % GOOD_COPY_EVERY == 0 and loss_value <= HEALTHY_FACTOR * reference:
            self._good_state, self._good_step = self._cpu_state(), self.step_count
        if self.step_count % self.snapshot_every == 0:
            self._take_snapshot()
        if self.step_count % self.config.eval_every == 0 or self.step_count == self.config.max_steps:
            self.val_history.append({"step": self.step_count, **self.evaluate()})
            self.model.train()
            self._stop_when_learned()
            if self._watch_validation():
                return False
        return True

    def fail(self, message: str) -> None:
        """Stop after an unexpected error: the last good weights are restored, the message says what happened."""
        self._stop_at_good_weights(message)

    def _watch_validation(self) -> bool:
        """With early stopping, stop after ``patience`` evaluations without a new validation minimum and put the
        best weights back. True when the run stopped."""
        if not self.watch.update(self.step_count, self.val_history[-1]["val_loss"], self._cpu_state):
            return False
        self.model.load_state_dict(self.watch.best_state)
        self.stopped_early = True
        self.status = "done"
        self.message = (f"Early stopping at step {self.step_count}: the validation loss has not gone below its minimum "
                        f"{self.best_val_loss:.4f} (step {self.best_step}) for {self.config.patience} evaluations. "
                        f"The weights of step {self.best_step} were restored.")
        return True

    @property
    def best_step(self) -> int | None:
        """The step of the lowest validation loss so far (None before the first evaluation)."""
        return self.watch.best_step

    @property
    def best_val_loss(self) -> float:
        return self.watch.best_val_loss

    def _diverged(self, why: str) -> bool:
        self._stop_at_good_weights(
            f"Training stopped at step {self.step_count + 1}: {why}. The learning rate "
            f"({self.config.lr:g}) is probably too high. The weights were restored to step {self._good_step}, "
            "the last good ones; lower the learning rate and reset, or keep what was learned."
        )
        return False

    def _stop_at_good_weights(self, message: str) -> None:
        """Stop (status ``diverged``: the user must act) and go back to the last good weights and history."""
        self._load_state(self._good_state)
        self.optimizer = self._make_optimizer()  # its moments are polluted by the bad steps
        self.status, self.message = "diverged", message
        self.step_count = self._good_step
        self._exploding_steps = 0
        self.history = [row for row in self.history if row["step"] <= self._good_step]
        self.history_version += 1
        self.val_history = [row for row in self.val_history if row["step"] <= self._good_step]
        self.snapshots = {s: w for s, w in self.snapshots.items() if s <= self._good_step}

    def clear_divergence(self) -> None:
        """Accept the restored weights and allow training again (e.g. after lowering the rate)."""
        if self.status == "diverged":
            self.status, self.message = "paused", ""

    def set_lr(self, lr: float) -> None:
        self.config = TrainConfig.from_dict({**self.config.to_dict(), "lr": lr})
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, split: Formatted | None = None, batch_size: int = 256) -> dict[str, float]:
        """Validation loss, token accuracy and whole-sequence accuracy (default split: validation)."""
        return evaluate_split(self.model, split if split is not None else self.val_set, self.device, batch_size)



def _out_of_memory(err: BaseException) -> bool:
    """True for torch's CPU/GPU allocation failures and Python's MemoryError."""
    text = str(err).lower()
    return isinstance(err, MemoryError | torch.OutOfMemoryError) or "allocate" in text or "out of memory" in text


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]
