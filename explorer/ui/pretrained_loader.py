"""Pretrained models for the pages: loaded once per server (``st.cache_resource``), read-only, with a spinner.

A loaded model is shared by every session: it is in eval mode, its weights never ask for gradients, and pages
only read it (``run_with_cache`` runs under ``torch.no_grad``). Failures come back as messages, never exceptions.
"""

from __future__ import annotations

import streamlit as st

from explorer.models.pretrained import PRETRAINED_MODELS, PretrainedError, PretrainedModel, packaged_name

MAX_MODELS = 3  # distinct pretrained models kept in memory by one server


@st.cache_resource(max_entries=MAX_MODELS, show_spinner=False)
def _load(name: str) -> PretrainedModel:
    from explorer.models.pretrained import load_pretrained

    # No st.* calls in here: Streamlit would replay them on every cache hit. The spinner outside shows the time.
    return load_pretrained(name)


def get_pretrained(name: str) -> tuple[PretrainedModel | None, str | None]:
    """(model, None), or (None, a message saying what went wrong and what to do).

    The first call for a name loads it under a spinner that shows the elapsed time and what to expect.
    """
    spec = PRETRAINED_MODELS.get(packaged_name(name) or "")
    hint = f" ({spec.note})" if spec else ""
    try:
        with st.spinner(f"Loading {name}{hint}…", show_time=True):
            return _load(packaged_name(name) or name.strip()), None
    except PretrainedError as err:
        return None, str(err)
    except (OSError, ValueError, RuntimeError) as err:  # a broken download or checkpoint: say so, keep the page
        return None, f"Could not load {name}: {err}"


def loaded_model(name: str) -> PretrainedModel:
    """The cached model without any Streamlit element (for use inside other cached functions).

    Raises :class:`PretrainedError` like ``load_pretrained``; call :func:`get_pretrained` first to show a spinner.
    """
    return _load(packaged_name(name) or name.strip())
