"""Your runs: one row per run (status, steps, data, size) with rename, make current, save, download and close.

Nothing here closes a run on its own: closing takes two clicks (Close, then the confirmation), and the page says
how many runs and how much memory the session may hold, so a user can choose what to save or close before a
preset that needs room.
"""

from __future__ import annotations

import streamlit as st

from explorer.analysis.runs_table import runs_overview
from explorer.training.run import Run
from explorer.ui.checkpoints import download_run, save_run
from explorer.ui.state import get_state
from explorer.ui.widget_state import forget, seed

RENAME = "runs.rename"
CURRENT = "runs.current"
SAVE = "runs.save"
DOWNLOAD = "runs.download"
CLOSE = "runs.close"
CONFIRM = "runs.confirm"
CANCEL = "runs.cancel"
CLOSING = "runs.closing"  # st.session_state: the id of the run whose close awaits confirmation
STATUS = {"running": "🟢 training", "paused": "⏸️ paused", "ready": "⚪ ready", "done": "✅ done",
          "diverged": "🛑 stopped", "inspect only": "🔍 inspect only"}


def _rename(run_id: str) -> None:
    state = get_state()
    run = state.runs.get(run_id)
    if run is None:
        return
    wanted = str(st.session_state.get(f"{RENAME}.{run_id}", "")).strip()[:80]
    if wanted and wanted != run.name:
        run.name = state.unique_name(wanted)
    st.session_state[f"{RENAME}.{run_id}"] = run.name


def _close(run_id: str) -> None:
    state = get_state()
    state.remove_run(run_id)
    forget(f"{RENAME}.{run_id}")
    st.session_state.pop(CLOSING, None)


def _ask_close(run_id: str) -> None:
    st.session_state[CLOSING] = run_id


def _cancel_close() -> None:
    st.session_state.pop(CLOSING, None)


def _save(run_id: str) -> None:
    run = get_state().runs.get(run_id)
    if run is not None:
        save_run(run)


def render_summary() -> None:
    """How full the session is: runs and memory, against the limits."""
    state = get_state()
    used, limits = state.memory_bytes(), state.limits
    st.progress(min(1.0, used / (limits.max_session_mb * 2**20)),
                text=f"{len(state.runs)} of {limits.max_runs} runs · {used / 2**20:,.1f} of {limits.max_session_mb} "
                     "MB (weights, optimizer state and snapshots)")
    st.caption(f"A session keeps at most {limits.max_runs} runs and {limits.max_session_mb} MB: when a button needs "
               "more, it says so first and nothing is closed for you; close or save runs here to make room. A session "
               "ends a minute after its last tab closes: its runs stop and, with the saved checkpoints, are gone — "
               "download what you want to keep.")


def render_runs() -> None:
    state = get_state()
    runs = sorted(state.runs.values(), key=lambda r: r.created)
    if not runs:
        st.info("No runs yet. Start one on the Train page, from Home, or on any page that offers one.")
        return
    st.dataframe(runs_overview(runs, current=state.current), hide_index=True, width="stretch",
                 column_config={"memory (MB)": st.column_config.NumberColumn(format="%.1f")})
    for run in runs:
        _render_row(run)


def _render_row(run: Run) -> None:
    state = get_state()
    with st.container(border=True):
        c_name, c_status, c_current, c_save, c_download, c_close = st.columns([3, 2.6, 0.7, 0.7, 0.7, 0.7],
                                                                               vertical_alignment="center")
        key = f"{RENAME}.{run.id}"
        seed(key, run.name)
        c_name.text_input("Name", key=key, on_change=_rename, args=(run.id,), label_visibility="collapsed",
                          help="Rename the run (press Enter)")
        trainer = run.trainer
        progress = f"step {run.step:,}" + (f" of {trainer.config.max_steps:,}" if trainer else "")
        c_status.text(f"{STATUS.get(run.status, run.status)} · {progress}")
        is_current = state.current == run.id
        c_current.button("⭐", key=f"{CURRENT}.{run.id}", disabled=is_current, width="stretch",
                         on_click=state.set_current, args=(run.id,),
                         help="The current model" if is_current else
                         "Make it the current model (the sidebar's: the Train page trains it, pages show it)")
        c_save.button("💾", key=f"{SAVE}.{run.id}", on_click=_save, args=(run.id,), width="stretch",
                      disabled=trainer is None, help="Save: keep a checkpoint in this session's list")
        with c_download:
            download_run(run, f"{DOWNLOAD}.{run.id}", "⬇️")
        c_close.button("🗑️", key=f"{CLOSE}.{run.id}", on_click=_ask_close, args=(run.id,), width="stretch",
                       help="Close the run (asks first)")
        if st.session_state.get(CLOSING) == run.id:
            unsaved = "" if any(label.startswith(f"{run.name} @ ") for label in state.saved) else \
                " It has no saved checkpoint: its weights and history will be gone."
            st.warning(f"Close '{run.name}'?{unsaved}")
            c1, c2, _ = st.columns([1.4, 1, 4])
            c1.button("Yes, close it", key=f"{CONFIRM}.{run.id}", type="primary", on_click=_close, args=(run.id,))
            c2.button("Keep it", key=f"{CANCEL}.{run.id}", on_click=_cancel_close)
