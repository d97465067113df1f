"""Fine-tuning page: what fine-tuning changed in a run — the heads that moved, the weights, LoRA's updates, the
sentence embeddings — and a one-click LoRA run of MiniLM when the session has none."""

from __future__ import annotations

import streamlit as st

from explorer.models.finetune import FinetuneConfig
from explorer.models.pretrained import MINILM
from explorer.training.finetune_run import default_train_config, new_finetune_run
from explorer.training.snapshots import snapshot_steps
from explorer.ui.finetune.data import pang_lee_ready, sentences
from explorer.ui.finetune_views import (
    MAX_SENTENCES,
    held_out_texts,
    render_embeddings,
    render_head_changes,
    render_lora_spectra,
    render_weight_changes,
)
from explorer.ui.finetuned import finetune_runs
from explorer.ui.pretrained_loader import get_pretrained
from explorer.ui.state import NoRoom, get_state
from explorer.ui.widget_state import seed, seed_choice

RUN = "finetune.changes.run"
VIEW = "finetune.changes.view"
N_TEXTS = "finetune.changes.n_texts"
N_POINTS = "finetune.changes.n_points"
STEP = "finetune.changes.step"
MAP = "finetune.changes.map"
MAPS = {"pca": "PCA", "umap": "UMAP"}
NOW = "now"
START = "finetune.changes.start"
HEADS, WEIGHTS, SPECTRA, EMBEDDINGS = "👀 Heads", "⚖️ Weights", "📉 LoRA's rank", "🗺️ Sentence embeddings"


def _start_lora() -> None:
    state = get_state()
    base, error = get_pretrained(MINILM)
    if base is None or (problem := state.room_for(1)):
        state.notice = error or problem
        return
    data = sentences()
    try:
        run = new_finetune_run(state.unique_name(f"MiniLM LoRA · {data.name}"), data, base,
                               FinetuneConfig(base=MINILM, method="lora", n_classes=data.n_classes),
                               default_train_config("lora"), preset="Fine-tune")
        state.add_run(run)
    except (ValueError, RuntimeError, NoRoom) as err:
        state.notice = f"Could not start the run: {err}"
        return
    run.trainer.start()


def render_changes() -> None:
    runs = finetune_runs()
    if not runs:
        st.info("No fine-tuning run in this session yet. Fine-tune MiniLM with LoRA on movie-review sentiment (it "
                "trains 0.3 % of the parameters; about a second a step on a laptop CPU), or choose another method "
                "and data on the Train page (🎯 Fine-tune a pretrained encoder).")
        if pang_lee_ready(START):
            st.button("🎯 Fine-tune MiniLM with LoRA on the Pang & Lee sentences", key=START, type="primary",
                      on_click=_start_lora)
        return
    ids = [r.id for r in runs]
    state = get_state()
    seed_choice(RUN, ids, state.current if state.current in ids else ids[-1])
    run_id = st.selectbox("Fine-tuned run", ids, key=RUN, format_func=lambda i: state.runs[i].name)
    run = state.runs[run_id]
    steps = snapshot_steps(run)
    step = None
    if len(steps) > 1:
        seed(STEP, NOW, valid=lambda v: v == NOW or v in steps)
        chosen = st.select_slider("After: the weights at step", [*steps, NOW], key=STEP,
                                  help="The steps at which the trainer kept the trained parameters, and now")
        step = None if chosen == NOW else int(chosen)
    st.caption(f"{run.config.describe()} · step {run.analysis_step if step is None else step} (“now” follows a "
               "training run every 25 steps) · before = the pretrained model, after = the run's weights, adapters "
               "merged")
    seed_choice(VIEW, [HEADS, WEIGHTS, SPECTRA, EMBEDDINGS])
    view = st.segmented_control("View", [HEADS, WEIGHTS, SPECTRA, EMBEDDINGS], key=VIEW, required=True,
                                label_visibility="collapsed") or HEADS
    if view == HEADS:
        seed(N_TEXTS, 24)
        n = int(st.slider("Held-out sentences", 4, MAX_SENTENCES, step=4, key=N_TEXTS))
        texts = held_out_texts(run, n)
        render_head_changes(run, texts, "finetune.changes", f"{len(texts)} held-out sentences", step)
    elif view == WEIGHTS:
        render_weight_changes(run, "finetune.changes", step)
    elif view == SPECTRA:
        render_lora_spectra(run, "finetune.changes", step)
    else:
        seed(N_POINTS, 200)
        seed_choice(MAP, list(MAPS))
        c1, c2 = st.columns([3, 1])
        n = int(c1.slider("Held-out sentences to map", 20, 400, step=20, key=N_POINTS))
        method = c2.radio("Map", list(MAPS), format_func=MAPS.get, key=MAP, horizontal=True)
        render_embeddings(run, "finetune.changes", n, method, step)
