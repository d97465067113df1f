"""The README's "For a class" states the limits the code enforces (explorer/training/limits.py and the rest)."""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT

from explorer.data.tasks import MAX_TASK_TOKENS
from explorer.training.checkpoints import MAX_CHECKPOINT_BYTES
from explorer.training.config import MAX_SNAPSHOT_BUDGET_MB
from explorer.training.limits import CLASS, LAPTOP
from explorer.training.recipes import MAX_LINK_STEPS


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## For a class"):text.index("## Inside")]


def _row(section: str, starts: str) -> tuple[str, str]:
    for line in section.splitlines():
        if line.startswith(f"| {starts}"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            return cells[1], cells[2]
    raise AssertionError(f"no row {starts!r} in the README's limits table")


def _number(cell: str) -> float:
    value = float(re.search(r"[\d,.]+", cell).group(0).replace(",", ""))
    return value * 1_000_000 if re.search(r"\d\s*M\b", cell) else value


def test_the_limits_table_is_what_the_code_enforces() -> None:
    section = _section()
    for row, field in [("runs kept", "max_runs"), ("memory of its runs", "max_session_mb"),
                       ("parameters per model", "max_parameters"), ("step target", "max_steps"),
                       ("data uploads", "max_upload_mb")]:
        laptop, klass = _row(section, row)
        assert (_number(laptop), _number(klass)) == (getattr(LAPTOP, field), getattr(CLASS, field)), row
    laptop, klass = _row(section, "Hugging Face downloads")
    assert (laptop.startswith("on"), klass.startswith("on")) == (LAPTOP.hub_downloads, CLASS.hub_downloads)


def test_the_limits_for_every_session_are_what_the_code_enforces() -> None:
    section = " ".join(_section().split())
    assert f"at most {MAX_TASK_TOKENS:,} tokens" in section
    assert f"snapshots at most {MAX_SNAPSHOT_BUDGET_MB} MB a run" in section
    assert f"checkpoints at most {MAX_CHECKPOINT_BYTES // 2**20} MB" in section
    assert f"a link re-trains at most {MAX_LINK_STEPS:,} steps" in section
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_CHECKPOINT_BYTES // 2**20  # the server takes no bigger file
