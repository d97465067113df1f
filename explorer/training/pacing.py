"""A speed limit for live training: at most ``steps_per_second`` optimizer steps a second (TF Playground's
slow motion), so that a teacher can narrate a run that would otherwise be over in seconds."""

from __future__ import annotations

import time


class Pacer:
    """Counts steps against the clock from the moment the limit (or a start) was set."""

    def __init__(self) -> None:
        self.steps_per_second: float | None = None
        self._since = time.monotonic()
        self._from_step = 0

    def restart(self, step: int, steps_per_second: float | None = ...) -> None:  # type: ignore[assignment]
        """Count from ``step`` now; with ``steps_per_second`` given, change the limit (None or ≤ 0: none)."""
        if steps_per_second is not ...:
            self.steps_per_second = steps_per_second if steps_per_second and steps_per_second > 0 else None
        self._since, self._from_step = time.monotonic(), step

    def due_steps(self, step: int, now: float) -> int | None:
        """Steps allowed at monotonic time ``now`` when ``step`` steps are done (None: no limit)."""
        if self.steps_per_second is None:
            return None
        return max(0, int((now - self._since) * self.steps_per_second) + 1 - (step - self._from_step))

    def seconds_to_next_step(self, step: int, now: float) -> float:
        if self.steps_per_second is None:
            return 0.0
        return max(0.0, self._since + (step - self._from_step) / self.steps_per_second - now)
