"""Models as they were during training: rebuild a run's model with the weights of one snapshot."""

from __future__ import annotations

from explorer.models import Model, build_model
from explorer.training.run import Run


def snapshot_steps(run: Run) -> list[int]:
    """Steps at which the trainer kept weights (always including 0 for runs trained here)."""
    return sorted(run.trainer.snapshots) if run.trainer else []


def model_at(run: Run, step: int) -> Model:
    """A separate CPU copy of the run's model with the weights of ``step``, in eval mode.

    The live model keeps training; callers may cache the copy by (run id, step). A fine-tuning run's snapshots hold
    its trained parameters only: the copy shares the rest with the pretrained base.
    """
    if run.is_finetune:
        return run.model.copy_with(run.trainer.load_snapshot(step))
    model = build_model(run.config, seed=None)
    model.load_state_dict(run.trainer.load_snapshot(step))
    return model.eval()


def live_copy(run: Run) -> Model:
    """A separate eval-mode CPU copy of the run's current weights (the live model may be training, here or in a
    training process)."""
    if run.is_finetune:
        return run.model.copy_with()
    model = build_model(run.config, seed=None)
    if run.trainer is not None:
        model.load_state_dict(run.trainer.current_weights())
    else:
        model.load_state_dict({k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()})
    return model.eval()


def nearest_snapshot(run: Run, step: int) -> int:
    """The kept step closest to ``step``."""
    steps = snapshot_steps(run)
    if not steps:
        raise ValueError("This run has no snapshots.")
    return min(steps, key=lambda s: abs(s - step))
