"""Section 1 of the Positions page: Vaswani's sinusoids and the requirements they meet, each one measured."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from explorer.analysis.positions.sinusoidal import (
    DEFAULT_BASE,
    SinusoidSettings,
    check_sinusoid_settings,
    closest_pair,
    cosine_similarity,
    dimension_curves,
    nearest_distances,
    offset_spread,
    position_norms,
    shift_check,
    shift_matrix,
    similarity_by_offset,
    wavelengths,
)
from explorer.figures.positions.sinusoidal import (
    dimension_curves_figure,
    requirements_figure,
    shift_figure,
    similarity_heatmap,
    similarity_offset_figure,
    table_heatmap,
    wavelengths_figure,
)
from explorer.models.positional import sinusoidal_table
from explorer.ui.figure import show_figure
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice, seed_many

N_POS = "positions.sin.n_pos"
D_MODEL = "positions.sin.d_model"
BASE = "positions.sin.base"
DIMS = "positions.sin.dims"
SHIFT = "positions.sin.shift"
BASES = [1.0, 1.5, 2.0, 5.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0]  # 1: no wavelength grows (refused)


def _measure(settings: SinusoidSettings) -> dict:
    table = sinusoidal_table(settings.n_pos, settings.d_model, settings.base)  # [pos, d_model]
    similarity = cosine_similarity(table)
    return {"table": table, "norms": position_norms(table), "nearest": nearest_distances(table),
            "closest": closest_pair(table), "similarity": similarity, "spread": offset_spread(similarity),
            "by_offset": similarity_by_offset(similarity), "waves": wavelengths(settings.d_model, settings.base)}


def _settings() -> SinusoidSettings | None:
    c1, c2, c3 = st.columns(3)
    seed(N_POS, 128)
    n_pos = c1.slider("Positions shown", 8, 512, step=8, key=N_POS)
    seed(D_MODEL, 64)
    d_model = c2.slider("d_model", 2, 1024, step=2, key=D_MODEL,
                        help="Width of the encoding: d/2 (sin, cos) pairs, one frequency each.")
    seed_choice(BASE, BASES, DEFAULT_BASE)
    base = c3.select_slider("base", BASES, key=BASE, format_func=lambda b: f"{b:g}",
                            help="Vaswani et al. use 10000: wavelengths grow geometrically from 2π to base·2π. "
                                 "A small base makes the slowest pair repeat soon.")
    try:
        settings, notices = check_sinusoid_settings(int(n_pos), int(d_model), float(base))
    except ValueError as err:
        st.error(f"⚠️ {err}")
        return None
    for notice in notices:
        st.warning(notice)
    return settings


def render() -> None:
    st.markdown(
        "The course asks what a position encoding P(t) must do: **represent time**, be **unique** for every position, "
        "stay **bounded**, and make a shift a fixed, norm-preserving map: **P(t + k) = Mᵏ·P(t)**. Vaswani et al.'s "
        "answer: PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(pos / base^(2i/d)). Below, each "
        "requirement is measured on the table the models of this app use.")
    settings = _settings()
    if settings is None:
        return
    state = get_state()
    measured = state.remember(("positions.sin", settings), lambda: _measure(settings))
    d = settings.d_model

    fig = state.remember(("positions.sin.heatmap", settings), lambda: table_heatmap(
        measured["table"], f"Sinusoidal table: {settings.n_pos} positions × {d} dimensions (base {settings.base:g})"))
    show_figure(fig, "positions.sin.table", "sinusoidal_table")
    st.caption("Each row is the vector added to the token at that position. Left columns (high frequency) change "
               "fast from row to row; right columns change so slowly they look constant over these positions.")

    left, right = st.columns(2)
    with left:
        default = sorted({0, 1, min(d - 2, 2 * (d // 8)), min(d - 2, 2 * (d // 4))})
        seed_many(f"{DIMS}.{d}", list(range(d)), default)
        dims = st.multiselect("Dimensions to draw", list(range(d)), key=f"{DIMS}.{d}",
                              max_selections=6)
        curves = dimension_curves(settings, dims)
        if curves.empty:
            st.info("Pick one or more dimensions to draw.")
        else:
            show_figure(dimension_curves_figure(curves), "positions.sin.curves", "sinusoid_dimensions")
    with right:
        show_figure(wavelengths_figure(measured["waves"], settings.base), "positions.sin.waves", "wavelengths")

    st.subheader("The requirements, measured")
    seed(SHIFT, 5)
    k = st.slider("Shift k (positions)", 1, 64, key=SHIFT)
    check = state.remember(("positions.sin.shift", settings, k), lambda: shift_check(settings, k))
    closest = measured["closest"]
    norms = measured["norms"]
    rows = [
        {"requirement": "unique for each position",
         "measured": f"closest pair: positions {closest.first} and {closest.second}, distance {closest.distance:.3g}",
         "holds": closest.distance > 1e-3},
        {"requirement": "bounded",
         "measured": f"‖PE(t)‖ from {float(norms.min()):.6f} to {float(norms.max()):.6f} (√(d/2) = "
                     f"{math.sqrt(d / 2):.6f})", "holds": float(norms.max() - norms.min()) < 1e-4},
        {"requirement": f"shift is a rotation: PE(t+{k}) = M({k})·PE(t)",
         "measured": f"max residual over t = 0…{settings.n_pos - 1}: {check.max_residual:.1e}",
         "holds": check.max_residual < 1e-4},
        {"requirement": f"M({k}) = M(1)^{k}, norm-preserving",
         "measured": f"|M(1)^{k} − M({k})| ≤ {check.power_residual:.1e}, |MᵀM − I| ≤ {check.orthogonality:.1e}",
         "holds": check.power_residual < 1e-6 and check.orthogonality < 1e-9},
        {"requirement": "similarity depends on the offset only",
         "measured": f"largest spread along a diagonal of the cosine matrix: {measured['spread']:.1e}",
         "holds": measured["spread"] < 1e-4},
    ]
    table = pd.DataFrame(rows)
    table["holds"] = table["holds"].map({True: "✅ yes", False: "❌ no"})
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Residuals of 10⁻⁷ are float32 rounding: the models store the table in float32. The rotation "
               "comes from the angle-sum identities sin(a+b) = sin a cos b + cos a sin b and "
               "cos(a+b) = cos a cos b − sin a sin b, one 2×2 block per frequency.")
    show_figure(requirements_figure(norms, measured["nearest"]), "positions.sin.requirements", "requirements")
    fig = shift_figure(shift_matrix(k, d, settings.base), check.residual, k)
    show_figure(fig, "positions.sin.shift", f"shift_rotation_k{k}")

    st.subheader("How alike are two positions?")
    left, right = st.columns(2)
    with left:
        fig = state.remember(("positions.sin.sim", settings), lambda: similarity_heatmap(
            measured["similarity"], "Cosine similarity of PE(t) and PE(s)"))
        show_figure(fig, "positions.sin.similarity", "sinusoid_similarity")
    with right:
        show_figure(similarity_offset_figure(measured["by_offset"], "Similarity against the offset s − t"),
                    "positions.sin.by_offset", "sinusoid_similarity_by_offset")
    st.caption("⟨PE(t), PE(s)⟩ = Σᵢ cos(ωᵢ (t − s)): every diagonal of the matrix is constant (the band on the right "
               "has no width) and neighbours are more alike than distant positions, though not monotonically.")
