"""Projections: PCA against scikit-learn, exact k-NN against brute force, Procrustes, snapshot alignment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA

from explorer.analysis.projection import (
    MAX_POINTS,
    ProjectionError,
    ProjectionParams,
    check_points,
    exact_knn,
    pca,
    procrustes,
    project,
    project_sequence,
    sample_indices,
)

# umap-learn warns that a precomputed k-NN graph cannot transform new points: we never call transform
pytestmark = pytest.mark.filterwarnings(r"ignore:precomputed_knn\[2\]:UserWarning")


def _data(n: int = 300, d: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)) @ rng.standard_normal((d, d))).astype(np.float32)


def test_pca_matches_scikit_learn_up_to_sign() -> None:
    x = _data()
    ours = pca(x, 3)
    reference = PCA(3).fit(x)
    expected = reference.transform(x)
    np.testing.assert_allclose(np.abs(ours.coords), np.abs(expected), atol=1e-3)
    np.testing.assert_allclose(ours.explained, reference.explained_variance_ratio_, rtol=1e-4)
    for i in range(3):  # same axis up to a sign
        assert abs(abs(np.corrcoef(ours.coords[:, i], expected[:, i])[0, 1]) - 1) < 1e-5
    assert ours.axis_titles[0].startswith("PC 1 (")


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_knn_equals_brute_force(metric: str) -> None:
    x = _data(500, 16, seed=1)
    indices, distances = exact_knn(x, 8, metric)
    brute = cdist(x.astype(np.float64), x.astype(np.float64), metric=metric)
    np.fill_diagonal(brute, 0.0)
    expected = np.argsort(brute, axis=1, kind="stable")[:, :8]
    assert (indices[:, 0] == np.arange(len(x))).all(), "each point is its own first neighbour"
    np.testing.assert_array_equal(np.sort(indices, axis=1), np.sort(expected, axis=1))
    np.testing.assert_allclose(distances, np.take_along_axis(brute, expected, axis=1), atol=1e-4)


def test_procrustes_undoes_a_rotation_a_reflection_and_a_shift() -> None:
    rng = np.random.default_rng(2)
    reference = rng.standard_normal((50, 2)).astype(np.float32)
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1, -1])
    moved = reference @ rotation.T + np.array([5.0, -3.0])
    np.testing.assert_allclose(procrustes(moved.astype(np.float32), reference), reference, atol=1e-4)


def test_aligned_snapshot_layouts_differ_less_than_unaligned_ones() -> None:
    """Two 'snapshots' (the second a slightly trained version of the first), laid out independently by t-SNE
    with different seeds, land in arbitrary orientations; aligned, they nearly coincide."""
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((4, 10)) * 6
    first = (centres[rng.integers(0, 4, 120)] + rng.standard_normal((120, 10))).astype(np.float32)
    second = (first + 0.05 * rng.standard_normal(first.shape)).astype(np.float32)
    params = ProjectionParams("tsne", perplexity=15)
    a = project(first, params).coords
    b_unaligned = project(second, ProjectionParams("tsne", perplexity=15, seed=7)).coords
    b_aligned = procrustes(b_unaligned, a)
    unaligned = np.linalg.norm(b_unaligned - a)
    aligned = np.linalg.norm(b_aligned - a)
    assert aligned < unaligned
    chained = project_sequence([first, second], params)
    assert np.linalg.norm(chained[1].coords - chained[0].coords) < unaligned


def test_pca_sequence_alignment_never_increases_the_jump() -> None:
    x = _data(80, 12, seed=4)
    steps = [x, x @ np.diag(np.linspace(1.0, 1.3, 12)).astype(np.float32), -x]  # the last one flips every sign
    independent = [pca(s, 2).coords for s in steps]
    aligned = [p.coords for p in project_sequence(steps, ProjectionParams("pca"))]
    for i in (1, 2):
        assert np.linalg.norm(aligned[i] - aligned[i - 1]) <= np.linalg.norm(independent[i] - independent[i - 1]) + 1e-4


def test_bad_inputs_give_clear_messages() -> None:
    x = _data(10, 5)
    with pytest.raises(ProjectionError, match="n_neighbors"):
        check_points(x, ProjectionParams("umap", n_neighbors=15))
    with pytest.raises(ProjectionError, match="perplexity"):
        check_points(x, ProjectionParams("tsne", perplexity=30))
    with pytest.raises(ProjectionError, match="no points"):
        check_points(np.zeros((0, 5), dtype=np.float32), ProjectionParams())
    with pytest.raises(ProjectionError, match="NaN"):
        check_points(np.full((5, 3), np.nan, dtype=np.float32), ProjectionParams())
    with pytest.raises(ProjectionError, match="dimension"):
        check_points(np.ones((9, 2), dtype=np.float32), ProjectionParams(n_components=3))
    with pytest.raises(ProjectionError):
        ProjectionParams(method="mds")


def test_sampling_is_seeded_and_bounded() -> None:
    assert sample_indices(100, MAX_POINTS["umap"]) is None
    first = sample_indices(50_000, MAX_POINTS["tsne"], seed=0)
    again = sample_indices(50_000, MAX_POINTS["tsne"], seed=0)
    assert len(first) == MAX_POINTS["tsne"] and (first == again).all() and (np.diff(first) > 0).all()


def test_umap_lays_out_points_with_our_knn_graph() -> None:
    """Two far-apart clusters stay apart (runs umap-learn; compiled kernels come from numba's cache)."""
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal((40, 8)), rng.standard_normal((40, 8)) + 20]).astype(np.float32)
    coords = project(x, ProjectionParams("umap", n_neighbors=10)).coords
    assert coords.shape == (80, 2) and np.isfinite(coords).all()
    centre_gap = np.linalg.norm(coords[:40].mean(0) - coords[40:].mean(0))
    spread = max(coords[:40].std(0).max(), coords[40:].std(0).max())
    assert centre_gap > 2 * spread


def test_the_umap_warm_up_starts_once_and_finishes() -> None:
    from explorer.ui.umap_warmup import start_umap_warmup, umap_warmup_status

    thread = start_umap_warmup()
    assert start_umap_warmup() is thread, "one warm-up per process"
    thread.join(timeout=300)
    status = umap_warmup_status()
    assert status.state == "ready", status.message
    assert thread.daemon and not thread.is_alive()
