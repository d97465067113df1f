"""FactoredMatrix: every result equals the one computed from the dense product."""

from __future__ import annotations

import pytest
import torch

from explorer.analysis.factored import FactoredMatrix


def _random(ldim: int, mdim: int, rdim: int, batch: tuple[int, ...] = (), seed: int = 0) -> FactoredMatrix:
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(*batch, ldim, mdim, generator=gen, dtype=torch.float64)
    b = torch.randn(*batch, mdim, rdim, generator=gen, dtype=torch.float64)
    return FactoredMatrix(a, b)


@pytest.mark.parametrize(("ldim", "mdim", "rdim"), [(12, 3, 12), (10, 4, 7), (3, 5, 6)])
def test_svd_reconstructs_and_matches_dense_singular_values(ldim: int, mdim: int, rdim: int) -> None:
    m = _random(ldim, mdim, rdim)
    u, s, v = m.svd()
    torch.testing.assert_close(u @ torch.diag(s) @ v.T, m.AB)
    k = s.shape[0]
    torch.testing.assert_close(s, torch.linalg.svdvals(m.AB)[:k])
    torch.testing.assert_close(m.S, s)
    torch.testing.assert_close(u.T @ u, torch.eye(k, dtype=u.dtype))
    torch.testing.assert_close(v.T @ v, torch.eye(k, dtype=v.dtype))


def test_eigenvalues_equal_the_dense_nonzero_eigenvalues() -> None:
    m = _random(9, 3, 9, seed=1)
    factored = m.eigenvalues
    dense = torch.linalg.eigvals(m.AB)
    nonzero = dense[dense.abs() > 1e-8]
    assert factored.shape == (3,) and nonzero.shape == (3,)
    key = lambda z: sorted(z.tolist(), key=lambda c: (round(c.real, 6), round(c.imag, 6)))  # noqa: E731
    for got, want in zip(key(factored), key(nonzero)):
        assert abs(got - want) < 1e-8
    # the trace (sum of eigenvalues) agrees exactly
    assert abs(complex(factored.sum()) - float(torch.trace(m.AB))) < 1e-8


def test_norm_and_compact_forms_match_dense() -> None:
    m = _random(11, 4, 8, seed=2)
    torch.testing.assert_close(m.norm(), torch.linalg.matrix_norm(m.AB))
    x = torch.randn(8, 5, dtype=torch.float64)
    y = torch.randn(6, 11, dtype=torch.float64)
    torch.testing.assert_close(torch.linalg.matrix_norm(m.compact_left() @ x), torch.linalg.matrix_norm(m.AB @ x))
    torch.testing.assert_close(torch.linalg.matrix_norm(y @ m.compact_right()), torch.linalg.matrix_norm(y @ m.AB))


def test_products_transpose_and_batches_stay_factored() -> None:
    m = _random(6, 2, 5, batch=(3, 4), seed=3)
    other = _random(5, 3, 7, batch=(3, 4), seed=4)
    dense_left = torch.randn(2, 6, dtype=torch.float64)
    torch.testing.assert_close((m @ other).AB, m.AB @ other.AB)
    torch.testing.assert_close((m @ other.AB).AB, m.AB @ other.AB)
    torch.testing.assert_close((dense_left @ m).AB, dense_left @ m.AB)
    torch.testing.assert_close(m.T.AB, m.AB.transpose(-2, -1))
    assert (m @ other).mdim == 2
    assert m.shape == (3, 4, 6, 5) and m[1, 2].shape == (6, 5)
    torch.testing.assert_close(m[1, 2].AB, m.AB[1, 2])
    torch.testing.assert_close(m.norm(), torch.linalg.matrix_norm(m.AB))
    torch.testing.assert_close(m.get_corner(2), m.AB[..., :2, :2])


def test_bad_shapes_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="Inner dimensions"):
        FactoredMatrix(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="square"):
        _ = _random(4, 2, 5).BA
