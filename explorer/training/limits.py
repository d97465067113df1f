"""What one browser session may use: runs, memory, model size, steps, uploads, hub downloads.

A laptop gets the generous defaults; a class server (class mode) tighter ones, so that thirty students share one
machine; a teacher's code lifts a session back to the laptop's limits. The ui layer decides which apply
(explorer/ui/class_mode.py); the checks here are plain functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.models import ModelConfig
from explorer.models.config import parameter_estimate
from explorer.training.config import TrainConfig


@dataclass(frozen=True)
class Limits:
    max_runs: int = 8
    max_session_mb: int = 400
    max_results_mb: int = 512  # what the session's pages keep computed (records, figures); the oldest go first
    max_parameters: int = 30_000_000
    max_steps: int = 1_000_000
    max_upload_mb: int = 10
    hub_downloads: bool = True

    def check_run(self, model: ModelConfig, train: TrainConfig) -> None:
        """Raise ``ValueError`` saying what to lower when a new run exceeds these limits."""
        n = parameter_estimate(model)
        if n > self.max_parameters:
            raise ValueError(f"This model has {n:,} parameters; this server allows {self.max_parameters:,} per run. "
                             "Make it narrower or shallower.")
        if train.max_steps > self.max_steps:
            raise ValueError(f"The step target is {train.max_steps:,}; this server allows {self.max_steps:,}.")

    def describe(self) -> str:
        return (f"at most {self.max_runs} runs and {self.max_session_mb} MB per session (and {self.max_results_mb} MB "
                "of computed views), models up to "
                f"{self.max_parameters / 1e6:g} M parameters and {self.max_steps:,} steps, uploads up to "
                f"{self.max_upload_mb} MB" + ("" if self.hub_downloads else ", no Hugging Face downloads"))


LAPTOP = Limits()
CLASS = Limits(max_runs=4, max_session_mb=150, max_results_mb=64, max_parameters=2_000_000, max_steps=20_000,
               max_upload_mb=2, hub_downloads=False)
