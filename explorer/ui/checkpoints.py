"""Checkpoints, shared by the Train page and Your runs: save to the session's list, open, download, upload.

Uploads are validated before anything is built (explorer.training.checkpoints); nothing is ever unpickled.
"""

from __future__ import annotations

import streamlit as st

from explorer.data.names import plain_markdown
from explorer.training.checkpoints import MAX_CHECKPOINT_BYTES, from_bytes, header_format
from explorer.training.finetune_checkpoints import FINETUNE_FORMAT
from explorer.training.run import Run, run_from_checkpoint
from explorer.ui.finetune_checkpoints import run_from_bytes, run_to_bytes
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

NAME = "ckpt.name"
SAVE = "ckpt.save"
UPLOAD = "ckpt.upload"
OPEN = "ckpt.open"
DOWNLOAD = "ckpt.download"
FAILED = "ckpt.failed_uploads"  # st.session_state: file id -> why it was refused (shown again, never re-parsed)
MAX_FAILED = 20
# What opening a checkpoint may raise: CheckpointError (a ValueError) for a bad file, ValueError/TypeError for
# settings the model or data refuse, RuntimeError/MemoryError when the weights cannot be loaded or fit.
OPEN_ERRORS = (ValueError, TypeError, KeyError, RuntimeError, MemoryError)


def _open_run(blob: bytes, label: str | None = None) -> Run:
    """Parse, validate and build a run from checkpoint bytes; the session is not touched (raises OPEN_ERRORS)."""
    if header_format(blob) == FINETUNE_FORMAT:  # a fine-tuning run: its trained parameters on their base
        run = run_from_bytes(blob)
    else:
        ckpt = from_bytes(blob)
        run = run_from_checkpoint(ckpt)
    run.name = get_state().unique_name(label or run.name)
    return run


def _save(run_id: str) -> None:
    run = get_state().runs.get(run_id)
    if run is not None:
        save_run(run, st.session_state.get(f"{NAME}.{run_id}"))


def _open(label: str) -> None:
    state = get_state()
    try:
        run = _open_run(state.saved[label], label)
    except OPEN_ERRORS as err:  # a saved checkpoint is ours, but be explicit
        state.notice = f"Could not open {label}: {err}"
        return
    state.add_run(run)


def save_run(run: Run, name: str | None = None) -> None:
    """Keep a checkpoint of ``run`` in the session's list (named ``name`` or after the run)."""
    if run.trainer is None:
        return
    name = (name or run.name).strip()[:80] or run.name
    get_state().keep_checkpoint(f"{name} @ step {run.step}", run_to_bytes(run, name))


def download_run(run: Run, key: str, label: str = "⬇️ Download .safetensors") -> None:
    """A download button for ``run``'s checkpoint, built when clicked."""
    trainer = run.trainer
    st.download_button(label, key=key, on_click="ignore", width="stretch",
                       data=lambda: run_to_bytes(run, run.name),
                       file_name=f"{run.name.replace(' ', '_')}_step{run.step}.safetensors",
                       mime="application/octet-stream", disabled=trainer is None,
                       help="Download its checkpoint (.safetensors)" if trainer else
                       "Opened for inspection only: download the file it came from.")


def render_checkpoints(run: Run | None) -> None:
    """The Train page's panel: save or download the run, the session's saved checkpoints, an upload box."""
    if run is not None and run.trainer is not None:
        c1, c2, c3 = st.columns([2, 1, 1])
        seed(f"{NAME}.{run.id}", run.name)
        c1.text_input("Checkpoint name", key=f"{NAME}.{run.id}", label_visibility="collapsed")
        c2.button("💾 Save to this session", key=SAVE, on_click=_save, args=(run.id,), width="stretch")
        with c3:
            download_run(run, DOWNLOAD)
    render_saved()
    render_upload()


def render_saved() -> None:
    """The session's saved checkpoints: open one as a run, or download it."""
    state = get_state()
    for i, (label, blob) in enumerate(state.saved.items()):
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.text(f"📄 {label} ({len(blob) / 1024:.0f} KB)")
        c2.button("Open as a run", key=f"{OPEN}.{i}", on_click=_open, args=(label,), width="stretch",
                  disabled=state.room_for(1) is not None, help=state.room_for(1))
        c3.download_button("Download", blob, file_name=f"{label.replace(' ', '_')}.safetensors",
                           key=f"{DOWNLOAD}.{i}", on_click="ignore", width="stretch")


def render_upload() -> None:
    upload = st.file_uploader("Open a checkpoint (.safetensors saved by this app)", type=["safetensors"], key=UPLOAD,
                              max_upload_size=MAX_CHECKPOINT_BYTES // 2**20)
    if upload is not None:
        _open_upload(upload)


def _open_upload(upload) -> None:
    """Open an uploaded checkpoint once. A refused file is remembered with its message, so that it is
    neither parsed again on each rerun nor silently forgotten while it sits in the uploader."""
    state = get_state()
    failed: dict[str, str] = st.session_state.setdefault(FAILED, {})
    if upload.file_id in failed:
        st.error(failed[upload.file_id])
        return
    if upload.file_id in state.seen_uploads:
        return
    if problem := state.room_for(1):  # before any parsing; the file stays in the uploader for later
        st.warning(f"{plain_markdown(upload.name)} is not opened yet: {problem}")
        return
    state.seen_uploads.add(upload.file_id)
    try:
        opened = _open_run(upload.getvalue())
    except OPEN_ERRORS as err:
        failed[upload.file_id] = plain_markdown(f"{upload.name}: {err}")
        while len(failed) > MAX_FAILED:
            del failed[next(iter(failed))]
        st.error(failed[upload.file_id])
        return
    state.add_run(opened)
    st.success(f"Opened {plain_markdown(upload.name)} as run '{opened.name}'"
               + ("" if opened.trainer else " (inspect only: its data is not available here)."))
    st.rerun()
