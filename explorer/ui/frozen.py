"""The model an analysis reads: a frozen copy of a run's weights, never the live model.

The sidebar's fragment may be training the live model on another script thread at the same moment
(Streamlit starts a new script run before the last one has returned its chunk). An analysis on the live
model could see its weights change halfway, and switching it to eval mode would switch dropout off for
the trainer too. A CPU copy in eval mode, made once per (run, step) and kept per session, cannot.
"""

from __future__ import annotations

from explorer.models import Model
from explorer.training.run import Run
from explorer.training.snapshots import live_copy
from explorer.ui.state import get_state


def frozen_model(run: Run, exact: bool = False) -> Model:
    """An eval-mode CPU copy of ``run``'s current weights, memoized by (run, step).

    By default it is keyed by ``run.analysis_step`` (while training: renewed every REFRESH_STEPS steps, so
    views do not recompute on every tick); ``exact=True`` keys it by the current step (live lab views).
    Runs that cannot train (opened from a checkpoint without data) are read directly.
    """
    if run.trainer is None:
        return run.model.eval()
    step = run.step if exact else run.analysis_step
    return get_state().remember((run.id, step, "frozen model"), lambda: live_copy(run))
