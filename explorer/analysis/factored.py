"""A matrix kept as a product of two thin factors, ``M = A · B``, never multiplied out unless asked.

A head's QK circuit ``W_Q W_Kᵀ`` and OV circuit ``W_V W_O`` are d_model × d_model matrices of rank at most
d_head; the full circuits ``W_E W_QK W_Eᵀ`` and ``W_E W_OV W_U`` are vocab × vocab. Everything a student wants to
know about them (singular values, eigenvalues, norms, products with other circuits) follows from small
``d_head × d_head`` computations (Elhage et al. 2021, "A Mathematical Framework for Transformer Circuits"):

- SVD through the small core: with ``A = Q_A R_A`` and ``Bᵀ = Q_B R_B`` (thin QR),
  ``AB = Q_A (R_A R_Bᵀ) Q_Bᵀ``, so the SVD of the core ``R_A R_Bᵀ`` gives the SVD of AB;
- eigenvalues: the non-zero eigenvalues of AB are those of the small product BA;
- Frobenius norm: ``‖AB‖_F = ‖R_A R_Bᵀ‖_F``.

Leading batch dimensions are allowed (e.g. ``[n_layers, n_heads, d_model, d_model]``) and broadcast as in torch.
The names follow TransformerLens's ``FactoredMatrix`` so that results can be compared.
"""

from __future__ import annotations

import torch


class FactoredMatrix:
    """``M = A @ B`` with ``A`` [..., ldim, mdim] and ``B`` [..., mdim, rdim]."""

    def __init__(self, A: torch.Tensor, B: torch.Tensor):
        if A.dim() < 2 or B.dim() < 2:
            raise ValueError("Both factors need at least two dimensions: A [..., ldim, mdim], B [..., mdim, rdim].")
        if A.shape[-1] != B.shape[-2]:
            raise ValueError(f"Inner dimensions differ: A is {tuple(A.shape)}, B is {tuple(B.shape)}.")
        batch = torch.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        self.A = A.expand(*batch, *A.shape[-2:])
        self.B = B.expand(*batch, *B.shape[-2:])

    # ----------------------------------------------------------------- shape
    @property
    def ldim(self) -> int:
        return self.A.shape[-2]

    @property
    def mdim(self) -> int:
        return self.A.shape[-1]

    @property
    def rdim(self) -> int:
        return self.B.shape[-1]

    @property
    def shape(self) -> torch.Size:
        """The shape of the (virtual) product: [..., ldim, rdim]."""
        return torch.Size((*self.A.shape[:-2], self.ldim, self.rdim))

    def __repr__(self) -> str:
        return f"FactoredMatrix(shape={tuple(self.shape)}, mdim={self.mdim})"

    def __getitem__(self, index) -> FactoredMatrix:
        """Index the batch dimensions only, e.g. ``qk[layer, head]``."""
        index = index if isinstance(index, tuple) else (index,)
        if len(index) > len(self.A.shape) - 2:
            raise IndexError("Only the batch dimensions of a FactoredMatrix can be indexed; use .AB for entries.")
        return FactoredMatrix(self.A[index], self.B[index])

    # ----------------------------------------------------------------- products
    @property
    def AB(self) -> torch.Tensor:
        """The dense matrix [..., ldim, rdim] (only when you really want it)."""
        return self.A @ self.B

    @property
    def BA(self) -> torch.Tensor:
        """The small product [..., mdim, mdim] (square matrices only)."""
        if self.ldim != self.rdim:
            raise ValueError(f"BA is defined for square matrices; this one is {self.ldim} × {self.rdim}.")
        return self.B @ self.A

    @property
    def T(self) -> FactoredMatrix:
        """The transpose ``(AB)ᵀ = Bᵀ Aᵀ``."""
        return FactoredMatrix(self.B.transpose(-2, -1), self.A.transpose(-2, -1))

    def __matmul__(self, other: torch.Tensor | FactoredMatrix) -> FactoredMatrix:
        """``self @ other``, kept factored with the smaller of the two inner dimensions."""
        if isinstance(other, FactoredMatrix):
            middle = self.B @ other.A  # [..., self.mdim, other.mdim]
            if self.mdim <= other.mdim:
                return FactoredMatrix(self.A, middle @ other.B)
            return FactoredMatrix(self.A @ middle, other.B)
        if other.dim() == 1:
            raise ValueError("Multiply by a matrix, not a vector (use other[:, None]).")
        return FactoredMatrix(self.A, self.B @ other)

    def __rmatmul__(self, other: torch.Tensor) -> FactoredMatrix:
        """``other @ self`` for a dense ``other`` [..., n, ldim]."""
        return FactoredMatrix(other @ self.A, self.B)

    # ----------------------------------------------------------------- the small core
    def _qr_factors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Thin QR of A and of Bᵀ: ``A = Q_A R_A``, ``Bᵀ = Q_B R_B``."""
        q_a, r_a = torch.linalg.qr(self.A)  # [..., ldim, k], [..., k, mdim]
        q_b, r_b = torch.linalg.qr(self.B.transpose(-2, -1))  # [..., rdim, k'], [..., k', mdim]
        return q_a, r_a, q_b, r_b

    def compact_left(self) -> torch.Tensor:
        """``R_A B`` [..., min(ldim, mdim), rdim]: AB with its orthonormal left factor dropped.

        ``‖AB X‖_F = ‖R_A B X‖_F`` for any X, so norms of products need only this small matrix.
        """
        _, r_a = torch.linalg.qr(self.A)
        return r_a @ self.B

    def compact_right(self) -> torch.Tensor:
        """``A R_Bᵀ`` [..., ldim, min(rdim, mdim)]: ``‖X AB‖_F = ‖X A R_Bᵀ‖_F`` for any X."""
        _, r_b = torch.linalg.qr(self.B.transpose(-2, -1))
        return self.A @ r_b.transpose(-2, -1)

    def core(self) -> torch.Tensor:
        """``R_A R_Bᵀ``: a small matrix with the same singular values as AB."""
        _, r_a, _, r_b = self._qr_factors()
        return r_a @ r_b.transpose(-2, -1)

    def svd(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``U, S, V`` with ``AB = U diag(S) Vᵀ`` (thin: at most min(ldim, mdim, rdim) singular values).

        U [..., ldim, k] and V [..., rdim, k] have orthonormal columns; S [..., k] is descending.
        Computed from the core, never from AB (V is returned untransposed, as TransformerLens does).
        """
        q_a, r_a, q_b, r_b = self._qr_factors()
        u_core, s, vh_core = torch.linalg.svd(r_a @ r_b.transpose(-2, -1), full_matrices=False)
        return q_a @ u_core, s, q_b @ vh_core.transpose(-2, -1)

    @property
    def S(self) -> torch.Tensor:
        """Singular values [..., k], descending."""
        return torch.linalg.svdvals(self.core())

    @property
    def eigenvalues(self) -> torch.Tensor:
        """Eigenvalues of AB (square only), complex [..., mdim]: those of the small product BA.

        They are AB's non-zero eigenvalues, padded with zeros when mdim exceeds AB's rank; AB's remaining
        ``ldim - mdim`` eigenvalues are zero. Computed in double precision (the matrix is small).
        """
        small = self.BA.double()
        return torch.linalg.eigvals(small).to(torch.complex64 if self.A.dtype != torch.float64 else torch.complex128)

    def norm(self) -> torch.Tensor:
        """Frobenius norm ‖AB‖_F [...] from the core (no ldim × rdim matrix)."""
        return torch.linalg.matrix_norm(self.core())

    def get_corner(self, k: int = 3) -> torch.Tensor:
        """The top-left k × k corner of AB (a quick look at entries)."""
        return self.A[..., :k, :] @ self.B[..., :, :k]
