"""Class mode: tighter limits for a server a whole class shares, a banner that says so, and a teacher's code.

On when ``EXPLORER_CLASS_MODE=1`` or ``.streamlit/secrets.toml`` has a ``[class]`` section with ``enabled = true``.
That section may also set ``teacher_code`` (a session that types it gets the laptop's limits), ``allow_hub = true``
(Hugging Face downloads stay on), and any of the limits in explorer.training.limits (``max_runs``,
``max_session_mb``, ``max_results_mb``, ``max_parameters``, ``max_steps``, ``max_upload_mb``). Class mode also
trains in worker processes unless ``EXPLORER_TRAIN_BACKEND`` says otherwise.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
from functools import cache
from typing import Any

import streamlit as st

from explorer.training.limits import CLASS, LAPTOP, Limits

TEACHER_CODE = "class.teacher_code"
UNLOCKED = "class.unlocked"  # st.session_state: this session typed the teacher's code


@dataclasses.dataclass(frozen=True)
class ClassSettings:
    enabled: bool = False
    limits: Limits = LAPTOP
    teacher_code: str = ""


def _secrets_section() -> dict[str, Any]:
    try:
        section = st.secrets.get("class", {})
    except (FileNotFoundError, KeyError, ValueError, OSError):  # no secrets file: nothing configured
        return {}
    return dict(section) if hasattr(section, "keys") else {}


@cache
def class_settings() -> ClassSettings:
    """Read once per server process."""
    section = _secrets_section()
    enabled = os.environ.get("EXPLORER_CLASS_MODE", "").strip() in ("1", "true", "yes") or bool(
        section.get("enabled", False))
    if not enabled:
        return ClassSettings()
    overrides = {f.name: section[f.name] for f in dataclasses.fields(Limits) if f.name in section}
    if "allow_hub" in section:
        overrides["hub_downloads"] = bool(section["allow_hub"])
    limits = dataclasses.replace(CLASS, **{k: type(getattr(CLASS, k))(v) for k, v in overrides.items()})
    if "EXPLORER_TRAIN_BACKEND" not in os.environ:
        os.environ["EXPLORER_TRAIN_BACKEND"] = "processes"  # read by explorer.training.remote.pool
    return ClassSettings(True, limits, str(section.get("teacher_code", "")))


def session_limits() -> Limits:
    """The limits of this session: the class's, or the laptop's when class mode is off or the teacher unlocked it."""
    settings = class_settings()
    if not settings.enabled or st.session_state.get(UNLOCKED):
        return LAPTOP
    return settings.limits


def _check_code() -> None:
    settings = class_settings()
    typed = str(st.session_state.get(TEACHER_CODE, ""))
    if settings.teacher_code and hmac.compare_digest(typed.encode(), settings.teacher_code.encode()):
        st.session_state[UNLOCKED] = True


def render_banner() -> None:
    """In class mode: what is limited, and the teacher's code box (in the sidebar)."""
    settings = class_settings()
    if not settings.enabled:
        return
    if st.session_state.get(UNLOCKED):
        st.sidebar.caption("🎓 Class server · teacher session: the laptop's limits apply.")
        return
    st.sidebar.caption(f"🎓 Class server: {settings.limits.describe()}.")
    if settings.teacher_code:
        st.sidebar.text_input("Teacher code", key=TEACHER_CODE, type="password", on_change=_check_code,
                              help="Lifts this session's limits")
