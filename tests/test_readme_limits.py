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
                       ("views it keeps computed", "max_results_mb"),
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


def test_the_shared_caches_hold_what_the_readme_says() -> None:
    import explorer.ui.attention.inputs
    import explorer.ui.circuits.subject
    import explorer.ui.forward.subject  # noqa: F401  (each module declares its shared caches)
    from explorer.ui.loaders import UPLOADS
    from explorer.ui.shared_cache import CACHES

    section = " ".join(_section().split())
    recordings_mb = sum(cache.max_bytes for cache in CACHES.values() if cache is not UPLOADS) // 2**20
    uploads_mb = UPLOADS.max_bytes // 2**20
    assert f"bounded in bytes, {recordings_mb} MB and {uploads_mb} MB at most for the whole server" in section
    assert all(cache.ttl_s == 1800 for cache in CACHES.values()) and "30 minutes after its last use" in section


def test_the_server_skips_streamlit_s_full_gc_after_each_run_as_the_readme_says() -> None:
    """A full gc.collect(2) after every script run cost 0.25 s of CPU per rerun with torch loaded (the class
    benchmark's page changes went from 6.6 s to 0.1 s at the median without it)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert "`runner.postScriptGC = false`" in " ".join(_section().split())
