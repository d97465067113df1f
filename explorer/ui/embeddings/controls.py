"""Widgets shared by the Embeddings page's sections: projection settings, on-demand UMAP/t-SNE, exports."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.embedding_export import points_csv, projector_metadata_tsv, projector_vectors_tsv
from explorer.analysis.projection import (
    MAX_POINTS,
    METHOD_TITLES,
    METHODS,
    METRICS,
    Projection,
    ProjectionError,
    ProjectionParams,
    check_points,
    project,
    sample_indices,
)
from explorer.ui.state import get_state
from explorer.ui.umap_warmup import umap_warmup_status
from explorer.ui.widget_state import seed, seed_choice

METHOD_HELP = ("PCA: the directions of largest variance, exact and instant. UMAP: keeps each point's nearest "
               "neighbours together (n_neighbors: how local; min_dist: how tightly clusters pack). t-SNE: matches "
               "neighbour probabilities (perplexity ≈ how many neighbours count). UMAP and t-SNE distort distances "
               "between clusters: read clusters, not the gaps between them.")


def projection_controls(prefix: str) -> ProjectionParams:
    """Method, dimensions and the method's parameters; widget keys start with ``prefix``."""
    cols = st.columns([2, 1, 1.4, 1.4, 1.4])
    seed_choice(f"{prefix}.method", METHODS, "pca")
    method = cols[0].segmented_control("Projection", METHODS, format_func=METHOD_TITLES.get,
                                       key=f"{prefix}.method", help=METHOD_HELP) or "pca"
    seed_choice(f"{prefix}.dims", [2, 3], 2)
    dims = cols[1].segmented_control("Dimensions", [2, 3], format_func=lambda d: f"{d}-D",
                                     key=f"{prefix}.dims") or 2
    options: dict = {}
    if method == "umap":
        seed(f"{prefix}.n_neighbors", 15)
        seed(f"{prefix}.min_dist", 0.1)
        options["n_neighbors"] = cols[2].slider("n_neighbors", 2, 100, key=f"{prefix}.n_neighbors",
                                                help="How many neighbours define each point's neighbourhood: small "
                                                     "= local detail, large = global shape.")
        options["min_dist"] = cols[3].slider("min_dist", 0.0, 1.0, step=0.05, key=f"{prefix}.min_dist",
                                             help="How close points may be packed in the layout.")
    if method == "tsne":
        seed(f"{prefix}.perplexity", 30)
        options["perplexity"] = float(cols[2].slider("perplexity", 2, 100, key=f"{prefix}.perplexity",
                                                     help="Roughly the number of neighbours each point attends to; "
                                                          "must be below the number of points."))
    if method in ("umap", "tsne"):
        seed_choice(f"{prefix}.metric", METRICS)
        options["metric"] = cols[4 if method == "umap" else 3].selectbox(
            "metric", METRICS, key=f"{prefix}.metric", help="cosine compares directions only (usual for word "
                                                            "vectors); euclidean also compares lengths.")
    return ProjectionParams(method=method, n_components=int(dims), **options)


def limit_points(n: int, params: ProjectionParams, seed: int = 0) -> np.ndarray | None:
    """The rows to keep when ``n`` exceeds what the method takes here (and a note saying so), else None."""
    keep = sample_indices(n, MAX_POINTS[params.method], seed)
    if keep is not None:
        st.info(f"{params.title} takes at most {MAX_POINTS[params.method]:,} points here: showing a random sample of "
                f"{len(keep):,} of the {n:,} points (the same sample every time).")
    return keep


@st.cache_data(max_entries=32, show_spinner=False)
def shared_project(vectors: np.ndarray, params: ProjectionParams) -> Projection:
    """:func:`project`, cached for every session (same vectors and parameters → same layout)."""
    return project(vectors, params)


def pca_fallback(vectors: np.ndarray, n_components: int) -> Projection | None:
    """PCA shown while UMAP/t-SNE waits for its button (None when even PCA cannot be made)."""
    try:
        return shared_project(vectors, ProjectionParams("pca", n_components))
    except ProjectionError:
        return None


def _first_fit_hint(params: ProjectionParams) -> str:
    if params.method != "umap":
        return ""
    status = umap_warmup_status()
    if status.state in ("running", "not started"):
        return " UMAP is still being prepared in the background (its code compiles once per server), so this " \
               "first one can take up to half a minute longer."
    return ""


def on_demand(key: tuple, vectors: np.ndarray, params: ProjectionParams, button_key: str,
              compute: Callable[[], Projection] | None = None) -> Projection | None:
    """PCA at once; UMAP and t-SNE only after a click (with a timer), then remembered for this session under
    ``key`` + parameters. Returns None while not computed, or with a message when the projection cannot be made."""
    state = get_state()
    full_key = (*key, params)
    try:
        check_points(np.asarray(vectors), params)
    except ProjectionError as err:
        st.warning(f"⚠️ {err}")
        return None
    work = compute or (lambda: shared_project(vectors, params))
    try:
        if params.method == "pca" or full_key in state.memo:
            return state.remember(full_key, work)
        n = len(vectors)
        if not st.button(f"▶️ Compute {params.describe()} on {n:,} points", key=button_key, type="primary"):
            st.caption(f"{params.title} runs on demand (a few seconds for a few thousand points)."
                       f"{_first_fit_hint(params)}")
            return None
        with st.spinner(f"Computing {params.title} on {n:,} points…", show_time=True):
            return state.remember(full_key, work)
    except ProjectionError as err:
        st.warning(f"⚠️ {err}")
    except ValueError as err:  # a library refused these settings: say so, keep the page
        st.warning(f"⚠️ {params.title} could not lay out these points: {err}")
    return None


def export_points(key: str, name: str, frame: pd.DataFrame, projection: Projection, vectors: np.ndarray) -> None:
    """Download the points (CSV with coordinates) and the Embedding Projector's vectors + metadata TSV files."""
    axis_names = [f"{projection.params.title} {i + 1}".replace(" ", "_").replace("-", "") for i in
                  range(projection.coords.shape[1])]
    with st.popover("⬇️ Points and vectors", help="The projected points as CSV; the original vectors and their "
                                                "labels as the two TSV files of projector.tensorflow.org"):
        st.download_button("Points (CSV)", data=lambda: points_csv(frame, projection.coords, axis_names),
                           file_name=f"{name}_points.csv", mime="text/csv", key=f"{key}.csv", on_click="ignore")
        st.download_button("Vectors (TSV, Embedding Projector)", data=lambda: projector_vectors_tsv(vectors),
                           file_name=f"{name}_vectors.tsv", mime="text/tab-separated-values", key=f"{key}.vectors",
                           on_click="ignore")
        st.download_button("Metadata (TSV, Embedding Projector)", data=lambda: projector_metadata_tsv(frame),
                           file_name=f"{name}_metadata.tsv", mime="text/tab-separated-values", key=f"{key}.meta",
                           on_click="ignore")
        st.caption("On projector.tensorflow.org choose “Load”, then the vectors file and the metadata file.")
