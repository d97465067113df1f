"""Fine-tuned encoders for every page: the merged weights of a run (what the analysis pages read), its base, and the
Compare page's run selection (which several pages set after creating runs).

A fine-tuning run trains its own copy of what it changes; the pages read a frozen, merged copy (W + ΔW for LoRA),
a :class:`PretrainedModel` with the base's hook names, made once per (run, step) and kept in the session's memo.
"""

from __future__ import annotations

from explorer.models.finetune import merged_encoder
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.run import Run
from explorer.training.snapshots import live_copy, model_at, nearest_snapshot
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.state import get_state
from explorer.ui.widget_state import set_value

COMPARE_RUNS = "compare.runs"  # the Compare page's Runs picker (a seeded multiselect)


def select_for_compare(run_ids: list[str]) -> None:
    """Show exactly these runs on the Compare page the next time it is drawn."""
    set_value(COMPARE_RUNS, list(run_ids))


def finetune_runs() -> list[Run]:
    return [r for r in get_state().runs.values() if r.is_finetune]


def merged_model(run: Run, step: int | None = None) -> PretrainedModel:
    """The run's encoder with its fine-tuned weights merged, at ``step`` (a snapshot) or its current analysis step."""
    state = get_state()
    if step is None or run.trainer is None:
        current = run.analysis_step
        return state.remember((run.id, current, "merged encoder"), lambda: merged_encoder(
            live_copy(run) if run.trainer is not None else run.model))
    step = nearest_snapshot(run, step)  # a kept step (the ring thins out while the run trains)
    return state.remember((run.id, step, "merged encoder"), lambda: merged_encoder(model_at(run, step)))


def base_of(run: Run) -> tuple[PretrainedModel | None, str | None]:
    """(the shared pretrained base of a fine-tuning run, None) or (None, why it could not be loaded)."""
    return get_pretrained(run.config.base)
