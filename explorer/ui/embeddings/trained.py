"""Embeddings page, first section: the token embeddings W_E and hidden states of a model trained in this session,
projected at every kept training snapshot and aligned from step to step, live while it trains."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.analysis.embeddings import (
    DEFAULT_EXAMPLES,
    UNITS,
    PointSet,
    available_steps,
    embedding_table,
    extend_layouts,
    hidden_points,
    model_at_step,
    probe_set,
    state_sources,
    token_counts,
    token_points,
    weights_tag,
)
from explorer.analysis.projection import ProjectionError, ProjectionParams, check_points
from explorer.data.tasks import TaskSpec
from explorer.figures.embeddings import snapshot_figure
from explorer.training.run import Run, describe_model
from explorer.ui.embeddings.controls import export_points, limit_points, projection_controls
from explorer.ui.figure import show_figure
from explorer.ui.live import live_tick_s
from explorer.ui.model_picker import offer_training, pick_subject
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice, set_value

PICK = "emb.trained.model"
WHAT = "emb.trained.what"
SOURCE = "emb.trained.source"
UNIT = "emb.trained.unit"
COLOR = "emb.trained.color"
STEP = "emb.trained.step"
FOLLOW = "emb.trained.follow"
COMPUTE = "emb.trained.compute"
OFFER = "emb.trained.offer"
PREFIX = "emb.trained"
W_E_VIEW, HIDDEN_VIEW = "Token embeddings W_E", "Hidden states"
LIVE_EVERY = 4  # live ticks between redraws while the run trains (4 s alone)
MAX_ANIMATION_VALUES = 40_000  # points × frames sent to the browser for the ▶ animation


@dataclass
class Selection:
    """What is projected: a cache key, the points' description (same at every step) and their vectors per step."""

    key: tuple
    points: PointSet
    vectors_at: Callable[[int], np.ndarray]


def render_trained_section() -> None:
    subject = pick_subject(PICK, accept=lambda r: True, label="Trained model")
    if subject is None or subject.run is None:
        offer_training(OFFER, "▶️ Train an LSTM on a tiny grammar of brackets, letters and digits",
                       TaskSpec(name="grammar", seq_len=32), "LSTM",
                       "No model trained in this session yet. This one reads strings like (a3(b7c1)d4) and predicts "
                       "the next symbol. Letters, digits and brackets play different roles, so its embedding table "
                       "pulls them into three groups as the loss falls (within a few hundred steps). It trains with "
                       "weight decay 0.3 (AdamW), which shrinks the random directions the embeddings start with, so "
                       "what was learned shows in the map.",
                       train_overrides={"optimizer": "adamw", "weight_decay": 0.3})
        return
    run = subject.run
    st.caption(f"{describe_model(run.config)} · data: {run.data_name} · step {run.step:,}")
    seed_choice(WHAT, [W_E_VIEW, HIDDEN_VIEW], W_E_VIEW)
    what = st.segmented_control("Vectors", [W_E_VIEW, HIDDEN_VIEW], key=WHAT) or W_E_VIEW
    selection = _token_selection(run) if what == W_E_VIEW else _hidden_selection(run)
    if selection is None:
        return
    params = projection_controls(PREFIX)
    training = run.trainer is not None and run.trainer.is_running
    if training:
        seed(FOLLOW, True)
        st.toggle("Follow training (show the newest step)", key=FOLLOW)

    @st.fragment(run_every=live_tick_s(LIVE_EVERY) if training else None)
    def view() -> None:
        if run.id in get_state().runs:
            _render_view(run, selection, params)

    view()


# ----------------------------------------------------------------------------------------------- what to project
def _token_selection(run: Run) -> Selection:
    state = get_state()
    counts = state.remember((run.id, "emb.token_counts"), lambda: token_counts(run.data, run.tokenizer.vocab_size))
    points = token_points(embedding_table(run, run.step), run.tokenizer, counts)
    n = len(points.frame)
    st.caption(f"Each point is one row of the embedding matrix W_E: the vector the model looks up for a token "
               f"({n} tokens × {points.vectors.shape[1]} dimensions). Tokens the model must tell apart drift apart "
               "as it learns; tokens it may treat alike stay together. Tokens that never occur in the data (often the "
               "specials) keep their random initial vectors.")
    return Selection(("W_E",), points, lambda step: embedding_table(run, step)[:n])


def _hidden_selection(run: Run) -> Selection | None:
    state = get_state()
    sources = state_sources(run.config)
    c1, c2 = st.columns([2, 1])
    labels = [s.label for s in sources]
    # another run has its own layers (classifiers: the pooled state first)
    seed_choice(SOURCE, labels, labels[-1] if run.config.head == "classifier" else labels[0])
    source = sources[labels.index(c1.selectbox("Hidden state", labels, key=SOURCE))]
    seed_choice(UNIT, list(UNITS))
    unit = "example" if source.pooled else c2.radio("Points", list(UNITS), format_func=UNITS.get, key=UNIT,
                                                    horizontal=True)
    try:
        probe = state.remember((run.id, "emb.probe"), lambda: probe_set(run, DEFAULT_EXAMPLES))
    except ValueError as err:
        st.info(str(err))
        return None
    store: dict = state.remember((run.id, "emb.hidden", source.hook, unit), dict)  # (step, tag) -> PointSet
    steps = available_steps(run)
    for stale in [k for k in list(store) if k[0] not in steps]:  # past live steps: not kept
        store.pop(stale, None)

    def points_at(step: int) -> PointSet:
        key = (step, weights_tag(run, step))
        if key not in store:
            store[key] = hidden_points(model_at_step(run, step), run, source, unit, probe)
        return store[key]

    points = points_at(run.step)
    st.caption(f"{len(probe):,} validation examples run through the model; {points.description}. "
               "Colour by the example's class to see whether the state already separates the answers.")
    return Selection(("hidden", source.hook, unit), points, lambda step: points_at(step).vectors)


# ----------------------------------------------------------------------------------------------- the view
def _layouts(run: Run, selection: Selection, params: ProjectionParams, keys: list, compute: bool) -> dict:
    """Layouts per (step, weights tag) for these parameters; missing ones are computed only if ``compute``."""
    store: dict = get_state().remember((run.id, "emb.layouts", selection.key, params), dict)
    missing = [k for k in keys if k not in store]
    if missing and compute:
        bar = st.progress(0.0, text=f"{params.title}: laying out {len(missing)} snapshot(s)…") \
            if len(missing) > 2 or params.method != "pca" else None

        def tick(done: int, total: int) -> None:
            if bar is not None:
                bar.progress(done / total, text=f"{params.title}: snapshot {done} of {total}")

        extend_layouts(store, keys, selection.vectors_at, params, on_step=tick)
        if bar is not None:
            bar.empty()
    return store


def _render_view(run: Run, selection: Selection, params: ProjectionParams) -> None:
    try:
        check_points(selection.points.vectors, params)
    except ProjectionError as err:
        st.warning(f"⚠️ {err}")
        return
    keep = limit_points(len(selection.points.frame), params)
    if keep is not None:
        selection = _subsample(selection, keep)
    steps = available_steps(run)
    keys = [(s, weights_tag(run, s)) for s in steps]
    try:
        layouts, shown_params = _layouts_to_show(run, selection, params, keys)
    except ValueError as err:  # ProjectionError, or a library refusing these points: say so, keep the page
        st.warning(f"⚠️ {params.title} could not lay out these points: {err}")
        return
    for stale in [k for k in list(layouts) if k not in keys and k[0] not in steps]:  # past live steps: not kept
        layouts.pop(stale, None)  # list() and pop(): an overlapping script run of this session may prune too
    shown = [(k[0], layouts[k]) for k in keys if k in layouts]
    if shown:
        _draw(run, selection, shown, shown_params)


def _subsample(selection: Selection, keep: np.ndarray) -> Selection:
    """The same seeded subset of the points at every step."""
    points = selection.points
    subset = PointSet(points.vectors[keep], points.frame.iloc[keep].reset_index(drop=True), points.colors,
                      points.numeric, points.total, points.description)
    return Selection((*selection.key, "sample", len(keep)), subset, lambda step: selection.vectors_at(step)[keep])


def _layouts_to_show(run: Run, selection: Selection, params: ProjectionParams, keys: list
                     ) -> tuple[dict, ProjectionParams]:
    """PCA layouts at once; UMAP/t-SNE ones after a click (PCA shown until the first is computed)."""
    pca_params = ProjectionParams("pca", params.n_components)
    shown_params = params
    if params.method == "pca":
        layouts = _layouts(run, selection, params, keys, compute=True)
    else:
        layouts = _layouts(run, selection, params, keys, compute=False)
        missing = [k for k in keys if k not in layouts]
        if missing:
            label = f"▶️ Compute {params.describe()} for {len(missing)} snapshot(s)"
            if st.button(label, key=COMPUTE, type="primary"):
                with st.spinner(f"{params.title} for {len(missing)} snapshot(s)…", show_time=True):
                    layouts = _layouts(run, selection, params, keys, compute=True)
            elif not any(k in layouts for k in keys):
                st.caption(f"Showing PCA until {params.title} is computed: each snapshot's layout starts from the "
                           "previous one and is aligned to it, so points move smoothly from step to step.")
                shown_params = pca_params
                layouts = _layouts(run, selection, pca_params, keys, compute=True)
    return layouts, shown_params


def _draw(run: Run, selection: Selection, shown: list, params: ProjectionParams) -> None:
    steps = [s for s, _ in shown]
    follow = st.session_state.get(FOLLOW, False) and run.trainer is not None and run.trainer.is_running
    seed_choice(STEP, steps, steps[-1])
    if follow:
        set_value(STEP, steps[-1])
    if len(steps) > 1:
        st.select_slider("Training step (a kept snapshot)", options=steps, key=STEP, disabled=follow,
                         format_func=lambda s: f"{s:,}")
    step = st.session_state[STEP]
    active = steps.index(step)
    points = selection.points
    c1, c2 = st.columns([1, 3])
    seed_choice(COLOR, points.colors)  # the options differ between W_E and hidden states
    color = c1.selectbox("Colour by", points.colors, key=COLOR)
    c2.caption(_loss_caption(run, step))
    projection = shown[active][1]
    frames = _thin_frames(shown, active, len(points.frame))
    fig = snapshot_figure(points.frame, [(s, p.coords) for s, p in frames], [s for s, _ in frames].index(step),
                          projection.axis_titles, color, f"{run.name} · {_what(selection)} · {params.title}",
                          numeric=color in points.numeric)
    show_figure(fig, "emb.trained.figure", f"{run.name}_{selection.key[0]}_{params.method}_step{step}")
    vectors = selection.vectors_at(step)
    export_points("emb.trained.export", f"{selection.key[0]}_step{step}", points.frame, projection, vectors)


def _what(selection: Selection) -> str:
    return "W_E" if selection.key[0] == "W_E" else f"hidden states ({selection.key[1]})"


def _thin_frames(shown: list, active: int, n_points: int) -> list:
    """At most MAX_ANIMATION_VALUES / n_points evenly spaced frames, always with the active and last step."""
    limit = max(2, MAX_ANIMATION_VALUES // max(n_points, 1))
    if len(shown) <= limit:
        return shown
    picked = set(np.linspace(0, len(shown) - 1, limit).round().astype(int).tolist()) | {active, len(shown) - 1}
    return [shown[i] for i in sorted(picked)]


def _loss_caption(run: Run, step: int) -> str:
    if run.trainer is None:
        return f"step {step:,}"
    val = [row for row in run.trainer.val_history if row["step"] <= step]
    train = [row for row in run.trainer.history if row["step"] <= step]
    parts = [f"step {step:,} of {run.step:,}"]
    if train:
        parts.append(f"training loss {train[-1]['loss']:.3f}")
    if val:
        parts.append(f"validation loss {val[-1]['val_loss']:.3f} (step {val[-1]['step']:,})")
    return " · ".join(parts)
