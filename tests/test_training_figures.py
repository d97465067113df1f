"""The Train page's live curves: a figure refreshed in place shows what one built anew would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.figures.schedules import mark_validation_minimum, move_validation_minimum
from explorer.figures.training import refresh_training_curves, training_curves


def _frame(steps: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    step = np.arange(1, steps + 1)
    every = step % 50 == 0
    return pd.DataFrame({"step": step, "loss": rng.random(steps), "accuracy": rng.random(steps),
                         "val_loss": np.where(every, rng.random(steps), np.nan),
                         "val_accuracy": np.where(every, rng.random(steps), np.nan)})


def _points(fig) -> list[tuple[str, list, list]]:
    return [(t.name, list(t.x), list(t.y)) for t in fig.data]


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_a_refreshed_curve_holds_the_points_of_one_built_anew(metric: str) -> None:
    early, later = _frame(400, 0), _frame(3000, 1)  # both with validation rows; the later one is thinned
    fig = training_curves({"run": early}, metric, max_points=600)
    refresh_training_curves(fig, {"run": later}, metric, max_points=600)
    fresh = training_curves({"run": later}, metric, max_points=600)
    assert _points(fig) == _points(fresh)
    assert len(fig.data[0].x) <= 601 and fig.data[0].x[-1] == 3000, "thinned, and the last step is kept"
    assert _points(fig) != _points(training_curves({"run": early}, metric, max_points=600))


def test_the_validation_minimum_moves_in_place() -> None:
    fig = mark_validation_minimum(training_curves({"run": _frame(400, 0)}, "loss"), 100, 0.5)
    refresh_training_curves(fig, {"run": _frame(800, 2)}, "loss")
    move_validation_minimum(fig, 650, 0.25)
    star = fig.data[-1]
    assert (list(star.x), list(star.y), star.name) == ([650], [0.25], "validation minimum (step 650)")
    assert len(fig.data) == 4, "raw, smoothed, validation and the star: nothing added"


def test_the_metrics_table_follows_a_history_appended_to_and_rewritten() -> None:
    """metrics_frame reads only the new rows of a growing history; a rewritten one (a new list) is read in full."""
    from explorer.training.history import MetricsReadout

    def row(step: int) -> dict[str, float]:
        return {"step": step, "loss": 1.0 / step, "accuracy": 0.5, "lr": 0.01, "grad_norm": 1.0, "tokens_per_s": 9.0}

    readout = MetricsReadout()
    readout.history, readout.val_history = [row(s) for s in range(1, 6)], []
    assert readout.metrics_frame()["step"].tolist() == [1, 2, 3, 4, 5]
    readout.history += [row(s) for s in range(6, 11)]
    readout.val_history.append({"step": 10, "val_loss": 0.3, "val_accuracy": 0.9, "val_sequence_accuracy": 0.8})
    frame = readout.metrics_frame()
    expected = pd.DataFrame(readout.history).merge(pd.DataFrame(readout.val_history), on="step", how="left")
    pd.testing.assert_frame_equal(frame, expected[frame.columns], check_dtype=False)
    assert frame["step"].dtype.kind == "i" and frame["val_loss"].notna().sum() == 1
    readout.history = [row(s) for s in range(1, 4)]  # reset or thinned: a new list
    readout.val_history = []
    assert readout.metrics_frame()["loss"].tolist() == [1.0, 0.5, 1.0 / 3]
