"""How a run can be made again from a link: a ready-trained asset, a pretrained model, or a recipe — generated
task, model and training configs, seed — that retrains it deterministically to the linked step.

A recipe travels in a URL as base64url of zlib-compressed JSON; decoding it checks everything with the same
validation as the Train form (TaskSpec's size limits, the config dataclasses' checks) and bounds the training a link
may ask for (MAX_LINK_STEPS). Nothing is unpickled.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import zlib
from dataclasses import dataclass, fields
from typing import Any

from explorer.data.tasks import TaskSpec
from explorer.models import ModelConfig, config_from_dict
from explorer.training.config import TrainConfig
from explorer.training.run import Run

MAX_LINK_STEPS = 20_000  # the most training a link may start (a teacher's link is opened by a whole class)
MAX_RECIPE_CHARS = 6_000
TASK_FIELDS = tuple(f.name for f in fields(TaskSpec))


class LinkError(ValueError):
    """A link's model cannot be made here; the message says why."""


@dataclass(frozen=True)
class Recipe:
    """Everything that makes a run: generated task, model, training settings, seed, preset."""

    task: TaskSpec
    model: ModelConfig
    train: TrainConfig
    seed: int
    preset: str

    def encode(self) -> str:
        payload = {"task": {k: getattr(self.task, k) for k in TASK_FIELDS}, "model": self.model.to_dict(),
                   "train": self.train.to_dict(), "seed": self.seed, "preset": self.preset}
        raw = zlib.compress(json.dumps(payload, separators=(",", ":")).encode("utf-8"), 9)
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def recipe_of(run: Run) -> Recipe | None:
    """The recipe of a run trained here on a generated task (None for uploads, corpora, checkpoints…)."""
    data, trainer = run.data, run.trainer
    if data is None or trainer is None or data.origin != "generated" or run.origin != "trained":
        return None
    params = {k: v for k, v in data.params.items() if k in TASK_FIELDS}
    try:
        task = TaskSpec(**params)
    except (TypeError, ValueError):
        return None
    # The settings it started with, the step target it has now, and no early stop: a link names the step.
    train = dataclasses.replace(trainer.initial_config, max_steps=trainer.config.max_steps, stop_at_accuracy=None)
    return Recipe(task, run.config, train, trainer.model_seed, run.preset)


def decode_recipe(text: str) -> Recipe:
    """A recipe from a link (raises :class:`LinkError` with a readable reason)."""
    if len(text) > MAX_RECIPE_CHARS:
        raise LinkError("The link's model description is too long to be one of this app's.")
    try:
        inflater = zlib.decompressobj()  # bounded: a few KB of link must not inflate to megabytes
        raw = inflater.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), MAX_RECIPE_CHARS * 8)
    except (binascii.Error, zlib.error, ValueError) as err:
        raise LinkError("The link's model description is damaged (was the link cut short?).") from err
    if inflater.unconsumed_tail:
        raise LinkError("The link's model description is too long to be one of this app's.")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise LinkError("The link's model description is damaged (was the link cut short?).") from err
    if not isinstance(payload, dict):
        raise LinkError("The link's model description is not one of this app's.")
    try:
        task = payload["task"]
        if not isinstance(task, dict) or set(task) - set(TASK_FIELDS):
            raise LinkError("The link describes a task this app does not generate.")
        recipe = Recipe(TaskSpec(**task), config_from_dict(payload["model"]), TrainConfig.from_dict(payload["train"]),
                        _whole(payload["seed"]), str(payload["preset"])[:80])
    except LinkError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise LinkError(f"The link's model cannot be made here: {err}") from err
    return recipe


def check_link_step(step: Any, recipe: Recipe) -> int:
    """The step a link asks to retrain to, within the recipe's step target and MAX_LINK_STEPS."""
    step = _whole(step)
    limit = min(recipe.train.max_steps, MAX_LINK_STEPS)
    if not 0 <= step <= limit:
        raise LinkError(f"The link asks for step {step:,}; a link can retrain to at most step {limit:,}.")
    return step


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise LinkError(f"Expected a whole number, got {value!r}.")
    return int(value)
