"""Why attention helps gradients: ‖∂L/∂xₜ‖ by distance from the output for the Elman RNN, GRU and LSTM and a
transformer trained on the same task, and the sequential work each must do against its measured throughput."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from explorer.analysis.gradient_flow import by_distance, input_gradient_norms
from explorer.figures.gradients import CELL_COLORS, distance_figure
from explorer.figures.seq2seq import work_figure
from explorer.figures.theme import COLORWAY
from explorer.training.presets import PRESETS
from explorer.training.run import Run, new_run
from explorer.training.run_selection import one_per_cell, recurrent_runs, same_task
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.lstm.gradient_share import probe_for
from explorer.ui.lstm.runs import CELL_NAMES
from explorer.ui.state import NoRoom, get_state

TRAIN_TRANSFORMER = "lstm.distance.transformer"
TRANSFORMER_COLOR = COLORWAY[4]


def _transformers(run: Run) -> list[Run]:
    return [r for r in get_state().runs.values()
            if r.is_transformer and r.data is not None and same_task(r, run) and r.config.head == run.config.head]


def _train_transformer(run_id: str) -> None:
    """Callback: a transformer (encoder classifier or tiny GPT) on the same data, for as many steps."""
    state = get_state()
    run = state.runs.get(run_id)
    if run is None or run.data is None:
        return
    if problem := state.room_for(1):
        state.notice = problem
        return
    preset = "Encoder classifier" if run.config.head == "classifier" else "Tiny GPT 2 layers × 4 heads"
    model_cfg, train_cfg = PRESETS[preset].build(run.data)
    steps = run.trainer.config.max_steps if run.trainer is not None else train_cfg.max_steps
    other = new_run(state.unique_name(f"Transformer · {run.data.name}"), run.data, model_cfg,
                    dataclasses.replace(train_cfg, max_steps=steps), preset=preset)
    try:
        state.add_run(other, make_current=False)
    except NoRoom as err:
        state.notice = str(err)
        return
    other.trainer.start()


def render_distance(run: Run) -> None:
    st.markdown("#### ‖∂L/∂xₜ‖ by distance: recurrent cells and a transformer")
    state = get_state()
    trio = one_per_cell(run, [r for r in recurrent_runs(state.runs.values()) if not r.config.bidirectional])
    transformers = _transformers(run)
    if not transformers:
        st.info("A recurrent model carries the gradient back one step at a time; in a transformer every position "
                "reaches the output through the same few layers, whatever the distance. Train a transformer on the "
                "same task to see both.")
        problem = state.room_for(1)
        st.button(f"➕ Train a transformer on {run.data_name}", key=TRAIN_TRANSFORMER, on_click=_train_transformer,
                  args=(run.id,), disabled=problem is not None or run.data is None, help=problem)
    models = {f"{CELL_NAMES[c]} · {r.name}": r for c, r in trio.items()}
    colors = {f"{CELL_NAMES[c]} · {r.name}": CELL_COLORS[c] for c, r in trio.items()}
    if transformers:
        newest = transformers[-1]
        models[f"Transformer · {newest.name}"] = newest
        colors[f"Transformer · {newest.name}"] = TRANSFORMER_COLOR
    probe = probe_for(run)
    if probe is None:
        st.caption("This data has no validation examples to measure on.")
        return
    curves = {}
    for name, other in models.items():
        key = (other.id, other.analysis_step, "input gradient by distance")
        curves[name] = state.remember(key, lambda o=other: by_distance(input_gradient_norms(frozen_model(o), probe)))
    show_figure(distance_figure(curves, colors), "lstm.distance", "gradient by distance")
    far = probe.length - 1
    said = "; ".join(f"{name.split(' · ')[0]} {curve[far]:.1e}" for name, curve in curves.items() if len(curve) > far)
    st.caption(f"Current weights of each model, geometric mean over {probe.what}; xₜ is the embedding read at step "
               f"t and d = T − 1 − t its distance from the last input. Share reaching the first input (d = {far}): "
               f"{said}. A transformer's self-attention links every position to every other in one layer, so its "
               "curve does not have to fall with distance" + (" (its mean pooling also reaches every position "
                                                              "directly)." if _mean_pooled(models) else "."))
    _work(models, probe.length)


def _mean_pooled(models: dict[str, Run]) -> bool:
    return any(r.is_transformer and r.config.head == "classifier" and r.config.pooling == "mean"
               for r in models.values())


def _work(models: dict[str, Run], length: int) -> None:
    rows = []
    for name, run in models.items():
        sequential = run.config.n_layers * (1 if run.is_transformer else length)
        speed = run.trainer.tokens_per_second() if run.trainer is not None and run.trainer.history else None
        rows.append({"model": name.split(" · ")[0], "run": run.name, "sequential steps": sequential,
                     "tokens/s": speed or 0.0, "measured over": "last 20 training steps" if speed else "not trained"})
    frame = pd.DataFrame(rows)
    show_figure(work_figure(frame, f"Sequential steps per sequence of {length} tokens, and measured throughput"),
                "lstm.work", "sequential vs parallel")
    st.dataframe(frame, hide_index=True, column_config={"tokens/s": st.column_config.NumberColumn(format="%.0f")})
    st.caption("A recurrent layer must compute hₜ before hₜ₊₁: T steps one after another per layer. A transformer "
               "layer computes every position at once (one matrix product per weight, softmax(QKᵀ/√d)V for all "
               "queries). Throughput: tokens per second of each run's own training steps in this session, on this "
               "machine (one CPU thread; runs that train at the same time share the CPU, and small models leave "
               "most of a CPU's parallelism unused — on a GPU the gap grows).")
