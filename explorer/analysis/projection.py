"""Project high-dimensional vectors to 2-D or 3-D: PCA, UMAP and t-SNE, and align layouts with Procrustes.

- PCA (Pearson 1901): the top eigenvectors of the covariance matrix, computed exactly (``torch.linalg.eigh`` of
  the covariance in float64), signs fixed so that each component's largest loading is positive. Instant; the default.
- UMAP (McInnes, Healy & Melville 2018, umap-learn): a k-nearest-neighbour graph (``n_neighbors``, ``metric``)
  laid out in few dimensions (``min_dist``: how tightly points may pack). We compute the exact k-NN ourselves
  (torch, in chunks) and hand it to umap-learn, which skips pynndescent and its long numba compilation.
- t-SNE (van der Maaten & Hinton 2008, scikit-learn): matches neighbour probabilities; ``perplexity`` ≈ the
  number of neighbours each point cares about.
- Orthogonal Procrustes (Schönemann 1966): the rotation/reflection + shift that best maps one layout onto another
  of the same points, so that successive training snapshots do not flip or spin. UMAP and t-SNE also start from
  the previous layout (``init``), so the picture changes only as much as the vectors do.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import ModuleType

import numpy as np
import torch

METHODS = ("pca", "umap", "tsne")
METHOD_TITLES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
METRICS = ("euclidean", "cosine")
# Most points each method takes here; beyond that a seeded random sample is projected (and the page says so).
MAX_POINTS = {"pca": 50_000, "umap": 10_000, "tsne": 2_000}
UMAP_EPOCHS = 200  # umap-learn's own choice for large data; plenty for small data too
TSNE_ITERATIONS = 750  # scikit-learn's default is 1000; the layout hardly moves after ~500
KNN_CHUNK = 2048  # rows of the distance matrix computed at a time: [chunk, n] floats


class ProjectionError(ValueError):
    """A projection that cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class ProjectionParams:
    """How to project. Hashable: use it in cache keys."""

    method: str = "pca"
    n_components: int = 2
    n_neighbors: int = 15  # UMAP
    min_dist: float = 0.1  # UMAP
    metric: str = "euclidean"  # UMAP and t-SNE
    perplexity: float = 30.0  # t-SNE
    seed: int = 0  # t-SNE, and the sample when there are too many points

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ProjectionError(f"Unknown projection method {self.method!r}; choose one of {', '.join(METHODS)}.")
        if self.n_components not in (2, 3):
            raise ProjectionError("Project to 2 or 3 dimensions.")
        if self.metric not in METRICS:
            raise ProjectionError(f"Unknown metric {self.metric!r}; choose one of {', '.join(METRICS)}.")
        if self.n_neighbors < 2:
            raise ProjectionError("UMAP needs n_neighbors of at least 2.")
        if not 0.0 <= self.min_dist <= 1.0:
            raise ProjectionError("min_dist must be between 0 and 1.")
        if self.perplexity <= 0:
            raise ProjectionError("The perplexity must be positive.")

    @property
    def title(self) -> str:
        return METHOD_TITLES[self.method]

    def describe(self) -> str:
        """E.g. ``UMAP (n_neighbors 15, min_dist 0.1, cosine)``."""
        if self.method == "umap":
            return f"UMAP (n_neighbors {self.n_neighbors}, min_dist {self.min_dist:g}, {self.metric})"
        if self.method == "tsne":
            return f"t-SNE (perplexity {self.perplexity:g}, {self.metric})"
        return "PCA"


@dataclass
class Projection:
    """A layout: ``coords`` [n_points, n_components] float32, with axis titles for the figure."""

    coords: np.ndarray
    axis_titles: list[str]
    params: ProjectionParams
    explained: np.ndarray | None = None  # PCA: fraction of the variance along each component


# ----------------------------------------------------------------------------------------------- checks
def min_points(params: ProjectionParams) -> int:
    """Fewest points a method can lay out with these parameters."""
    if params.method == "umap":
        return params.n_neighbors + 1  # each point needs n_neighbors others
    if params.method == "tsne":
        return int(np.floor(params.perplexity)) + 2  # scikit-learn needs perplexity < n_samples
    return params.n_components + 1


def check_points(vectors: np.ndarray, params: ProjectionParams) -> None:
    """Raise :class:`ProjectionError` with a clear message when ``vectors`` [n, d] cannot be projected."""
    if vectors.ndim != 2:
        raise ProjectionError(f"Expected a matrix of vectors [points, dimensions]; got shape {tuple(vectors.shape)}.")
    n, d = vectors.shape
    if n == 0:
        raise ProjectionError("There are no points to project.")
    if not np.isfinite(vectors).all():
        raise ProjectionError("Some vectors contain NaN or infinite values (did training diverge?).")
    if d < params.n_components:
        raise ProjectionError(f"The vectors have {d} dimension{'s' if d != 1 else ''}: too few to project to "
                              f"{params.n_components}-D. Choose 2-D.")
    needed = min_points(params)
    if n < needed:
        if params.method == "umap":
            raise ProjectionError(f"UMAP with n_neighbors = {params.n_neighbors} needs at least {needed} points; "
                                  f"there are only {n}. Lower n_neighbors to at most {max(n - 1, 2)}, or use PCA.")
        if params.method == "tsne":
            raise ProjectionError(f"t-SNE with perplexity {params.perplexity:g} needs at least {needed} points; there "
                                  f"are only {n}. Lower the perplexity below {max(n - 1, 1)}, or use PCA.")
        raise ProjectionError(f"PCA to {params.n_components}-D needs at least {needed} points; there are only {n}.")


def sample_indices(n: int, max_points: int, seed: int = 0) -> np.ndarray | None:
    """A seeded random subset of ``range(n)`` of size ``max_points`` (sorted), or None when n fits."""
    if n <= max_points:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_points, replace=False))


# ----------------------------------------------------------------------------------------------- methods
def pca(vectors: np.ndarray, n_components: int = 2) -> Projection:
    """Principal components of ``vectors`` [n, d]: coordinates [n, n_components] and variance ratios."""
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    centred = x - x.double().mean(dim=0).float()  # [n, d]
    cov = (centred.T @ centred).double() / max(x.shape[0] - 1, 1)  # [d, d]; float32 products, float64 eigensolver
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)  # ascending
    order = torch.argsort(eigenvalues, descending=True)[:n_components]
    components = eigenvectors[:, order]  # [d, n_components]
    biggest = components.abs().argmax(dim=0)  # sign convention: largest loading positive (as sklearn's svd_flip)
    signs = torch.sign(components[biggest, torch.arange(n_components)])  # [n_components]
    components = components * torch.where(signs == 0, 1.0, signs)
    coords = (centred @ components.float()).numpy()  # [n, n_components]
    total = eigenvalues.clamp(min=0).sum().item()
    ratio = (eigenvalues[order].clamp(min=0) / total).numpy() if total > 0 else np.zeros(n_components)
    titles = [f"PC {i + 1} ({100 * r:.0f}% of variance)" for i, r in enumerate(ratio)]
    return Projection(coords, titles, ProjectionParams("pca", n_components), explained=ratio)


def exact_knn(vectors: np.ndarray, k: int, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row, itself first: indices [n, k] int64 and distances [n, k] float32.

    Cosine distance is 1 − cos; computed in chunks of rows so memory stays at [chunk, n].
    """
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    if metric == "cosine":
        x = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
    n = x.shape[0]
    squared = (x * x).sum(dim=1)  # [n]
    indices, distances = [], []
    for start in range(0, n, KNN_CHUNK):
        rows = x[start:start + KNN_CHUNK]  # [chunk, d]
        if metric == "cosine":
            dist = (1.0 - rows @ x.T).clamp(min=0.0)  # [chunk, n]
        else:  # ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b: one matrix product (cdist's exact path is ~40x slower)
            dist = (squared[start:start + KNN_CHUNK, None] + squared[None, :] - 2.0 * rows @ x.T).clamp(min=0.0).sqrt()
        own = torch.arange(start, start + rows.shape[0])
        dist[torch.arange(rows.shape[0]), own] = -1.0  # each point is its own nearest neighbour
        values, idx = dist.topk(k, dim=1, largest=False)
        distances.append(values.clamp(min=0.0))
        indices.append(idx)
    return torch.cat(indices).numpy().astype(np.int64), torch.cat(distances).numpy().astype(np.float32)


_UMAP_LOCK = threading.Lock()
_FIT_LOCK = threading.Lock()  # one UMAP fit at a time per process: 2 sessions' fits would only thrash a small CPU
_UMAP_KERNELS = (("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch_parallel"),
                 ("umap.umap_", "compute_membership_strengths"), ("umap.umap_", "smooth_knn_dist"),
                 ("umap.layouts", "clip"), ("umap.layouts", "tau_rand_int"), ("umap.utils", "tau_rand"),
                 ("umap.utils", "tau_rand_int"))


def umap_module() -> ModuleType:
    """``import umap`` once per process (4-10 s), and keep numba's compiled UMAP kernels on disk.

    umap-learn compiles the kernels we use (the layout epoch, the membership strengths, smooth k-NN distances)
    without numba's disk cache: ~20 s in every new process. Switching the cache on for those functions before
    their first call makes every later process load them in ~2 s. Where no cache folder is writable, numba
    refuses and we simply compile in memory.
    """
    with _UMAP_LOCK:
        import importlib

        import umap

        if not getattr(umap, "_explorer_ready", False):
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            for module_name, name in _UMAP_KERNELS:
                kernel = getattr(importlib.import_module(module_name), name, None)
                if kernel is not None and hasattr(kernel, "enable_caching") and not kernel.signatures:
                    # numba refuses ("cannot cache function …: no locator available") where nothing is writable
                    with contextlib.suppress(RuntimeError, OSError):
                        kernel.enable_caching()
            umap._explorer_ready = True
        return umap


def umap_layout(vectors: np.ndarray, params: ProjectionParams, init: np.ndarray | None = None) -> np.ndarray:
    """UMAP coordinates [n, n_components] float32 from our exact k-NN graph (``init``: a starting layout)."""
    umap = umap_module()
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    knn_indices, knn_distances = exact_knn(data, params.n_neighbors, params.metric)
    reducer = umap.UMAP(n_components=params.n_components, n_neighbors=params.n_neighbors, min_dist=params.min_dist,
                        metric=params.metric, n_epochs=UMAP_EPOCHS, precomputed_knn=(knn_indices, knn_distances),
                        init=init if init is not None else "spectral")
    with _FIT_LOCK:
        return np.asarray(reducer.fit_transform(data), dtype=np.float32)


def tsne_layout(vectors: np.ndarray, params: ProjectionParams, init: np.ndarray | None = None) -> np.ndarray:
    """t-SNE coordinates [n, n_components] float32 (scikit-learn, Barnes-Hut; ``init``: a starting layout)."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    start: np.ndarray | str = "pca"
    if init is not None:
        start = np.asarray(init, dtype=np.float64)
        start = (start - start.mean(0)) / max(float(start[:, 0].std()), 1e-12) * 1e-4  # t-SNE's small initial scale
    tsne = TSNE(n_components=params.n_components, perplexity=params.perplexity, metric=params.metric, init=start,
                learning_rate="auto", max_iter=TSNE_ITERATIONS, random_state=params.seed)
    # One OpenMP thread: on a shared CPU, scikit-learn's Barnes-Hut threads spin-wait on each other (measured
    # 39 s instead of 1.2 s for 120 points on 2 busy cores).
    with threadpool_limits(limits=1, user_api="openmp"):
        return np.asarray(tsne.fit_transform(np.asarray(vectors, dtype=np.float32)), dtype=np.float32)


def project(vectors: np.ndarray, params: ProjectionParams, init: np.ndarray | None = None) -> Projection:
    """Lay out ``vectors`` [n, d] with ``params`` (``init`` only for UMAP/t-SNE). Raises :class:`ProjectionError`."""
    vectors = np.asarray(vectors, dtype=np.float32)
    check_points(vectors, params)
    if init is not None and init.shape != (vectors.shape[0], params.n_components):
        init = None
    if params.method == "pca":
        result = pca(vectors, params.n_components)
        return replace(result, params=params)
    layout = umap_layout(vectors, params, init) if params.method == "umap" else tsne_layout(vectors, params, init)
    titles = [f"{params.title} {i + 1}" for i in range(params.n_components)]
    return Projection(layout, titles, params)


# ----------------------------------------------------------------------------------------------- alignment
def procrustes(layout: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``layout`` [n, k] rotated/reflected and shifted onto ``reference`` [n, k] (same points, same order).

    Orthogonal Procrustes: with centred A (layout) and B (reference), R = U Vᵀ from the SVD of AᵀB minimises
    ‖A R − B‖; no scaling, so distances within the layout are kept.
    """
    a_mean, b_mean = layout.mean(axis=0), reference.mean(axis=0)
    a, b = layout - a_mean, reference - b_mean  # [n, k]
    u, _s, vt = np.linalg.svd(a.astype(np.float64).T @ b.astype(np.float64))  # [k, k]
    rotation = u @ vt  # [k, k], orthogonal
    return (a @ rotation + b_mean).astype(np.float32)


def project_sequence(vectors: Sequence[np.ndarray], params: ProjectionParams,
                     previous: np.ndarray | None = None,
                     on_step: Callable[[int, int], None] | None = None) -> list[Projection]:
    """Layouts of the same points at successive moments (training snapshots), each aligned to the one before.

    ``previous``: an aligned layout to continue from (e.g. the step before the first one given). UMAP and
    t-SNE start from the previous layout; every layout is then Procrustes-aligned to it. ``on_step(i, n)``
    reports progress.
    """
    out: list[Projection] = []
    for i, x in enumerate(vectors):
        result = project(x, params, init=previous if params.method != "pca" else None)
        if previous is not None and previous.shape == result.coords.shape:
            result = replace(result, coords=procrustes(result.coords, previous))
        previous = result.coords
        out.append(result)
        if on_step is not None:
            on_step(i + 1, len(vectors))
    return out
