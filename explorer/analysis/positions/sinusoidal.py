"""What a position encoding must satisfy, measured on Vaswani's sinusoids (and on any position table).

The course's requirements for a position encoding P(t):
1. it represents time and is unique for each position: the smallest distance between two rows is > 0;
2. it is bounded: here ‖PE(t)‖ = √(d/2) at every position;
3. a shift is a fixed norm-preserving map: PE(t + k) = M(k)·PE(t) for every t, with M(k) = M(1)^k
   block-diagonal, one 2×2 rotation by the angle k·ω_i per frequency ω_i = base^(-2i/d):
       [sin ω(t+k)]   [ cos ωk   sin ωk] [sin ωt]
       [cos ω(t+k)] = [-sin ωk   cos ωk] [cos ωt]
   (the angle-sum identities). The tables come from :func:`explorer.models.positional.sinusoidal_table`.
Because ⟨PE(t), PE(s)⟩ = Σ_i cos(ω_i (t - s)), the similarity of two positions depends on t - s only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch

from explorer.models.positional import rotary_frequencies, sinusoidal_table

MAX_D_MODEL = 2048  # the widest model the app builds (explorer.models.config.MAX_WIDTH)
MAX_POSITIONS = 1024  # rows drawn; beyond this a heatmap is only noise on a screen
DEFAULT_BASE = 10000.0


@dataclass(frozen=True)
class SinusoidSettings:
    """A checked request for a sinusoidal table: ``n_pos`` positions, ``d_model`` (even) columns, ``base`` > 1."""

    n_pos: int
    d_model: int
    base: float


def check_sinusoid_settings(n_pos: int, d_model: int, base: float) -> tuple[SinusoidSettings, list[str]]:
    """Settings the formulas accept, and a notice for each value that was clamped.

    Raises ``ValueError`` (with what to change) where no clamp makes sense: d_model below 2, a base ≤ 1.
    """
    notices: list[str] = []
    if not isinstance(d_model, int) or d_model < 2:
        raise ValueError(f"d_model must be a whole number of at least 2 (one sine and one cosine); got {d_model!r}.")
    if not math.isfinite(base) or base <= 1:
        raise ValueError(f"The base must be greater than 1, got {base:g}: with a base ≤ 1 the wavelengths do not "
                         "grow from one pair of dimensions to the next (base = 1 makes every pair the same sine).")
    if d_model > MAX_D_MODEL:
        notices.append(f"d_model = {d_model} is wider than any model here; using {MAX_D_MODEL}.")
        d_model = MAX_D_MODEL
    if d_model % 2:
        notices.append(f"d_model = {d_model} is odd: the sinusoids come in (sin, cos) pairs, so its last sine has "
                       f"no partner and the shift is no longer a rotation. Using d_model = {d_model - 1}.")
        d_model -= 1
    if not isinstance(n_pos, int) or n_pos < 2:
        notices.append(f"Need at least 2 positions to compare; using 2 instead of {n_pos!r}.")
        n_pos = 2
    if n_pos > MAX_POSITIONS:
        notices.append(f"Showing {MAX_POSITIONS} positions (asked for {n_pos}).")
        n_pos = MAX_POSITIONS
    return SinusoidSettings(n_pos=n_pos, d_model=d_model, base=float(base)), notices


def wavelengths(d_model: int, base: float = DEFAULT_BASE) -> torch.Tensor:
    """Wavelength (in positions) of each (sin, cos) pair i: 2π / ω_i = 2π·base^(2i/d), from 2π up to
    (almost) base·2π. Shape ``[d_model // 2]``."""
    return 2 * math.pi / rotary_frequencies(2 * (d_model // 2), base)


def dimension_curves(settings: SinusoidSettings, dims: list[int]) -> pd.DataFrame:
    """Long frame (position, dimension, value, wavelength) of chosen table columns, for line plots."""
    table = sinusoidal_table(settings.n_pos, settings.d_model, settings.base)  # [pos, d_model]
    waves = wavelengths(settings.d_model, settings.base)
    rows = []
    for dim in dims:
        if not 0 <= dim < settings.d_model:
            continue
        for pos, value in enumerate(table[:, dim].tolist()):
            rows.append({"position": pos, "dimension": dim, "value": value,
                         "wavelength": float(waves[dim // 2]), "function": "sin" if dim % 2 == 0 else "cos"})
    return pd.DataFrame(rows, columns=["position", "dimension", "value", "wavelength", "function"])


# ----------------------------------------------------------------- requirement 1: distinct positions
@dataclass(frozen=True)
class ClosestPair:
    """The two positions whose encodings are nearest (Euclidean distance)."""

    distance: float
    first: int
    second: int


def _distances_to_others(table: torch.Tensor) -> torch.Tensor:
    """‖P(t) - P(s)‖ for all pairs ``[n_pos, n_pos]``, with +inf on the diagonal (a position is not its neighbour)."""
    if table.shape[0] < 2:
        raise ValueError("Need at least two positions to compare.")
    x = table.detach().double()
    dist = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")  # [pos, pos], exact differences
    return dist.fill_diagonal_(float("inf"))


def nearest_distances(table: torch.Tensor) -> torch.Tensor:
    """For each position, the distance to the nearest other position: ``[n_pos]`` (0 would mean two positions
    share an encoding)."""
    return _distances_to_others(table).min(dim=1).values


def closest_pair(table: torch.Tensor) -> ClosestPair:
    """Smallest ‖P(t) - P(s)‖ over t ≠ s for a table ``[n_pos, d]`` (n_pos ≥ 2)."""
    dist = _distances_to_others(table)
    flat = int(torch.argmin(dist))
    first, second = divmod(flat, dist.shape[1])
    return ClosestPair(float(dist[first, second]), min(first, second), max(first, second))


# ----------------------------------------------------------------- requirement 2: bounded
def position_norms(table: torch.Tensor) -> torch.Tensor:
    """‖P(t)‖ for every row of ``[n_pos, d]`` -> ``[n_pos]``."""
    return table.detach().double().norm(dim=1)


# ----------------------------------------------------------------- requirement 3: a shift is a rotation
def shift_matrix(k: int, d_model: int, base: float = DEFAULT_BASE) -> torch.Tensor:
    """M(k) ``[d_model, d_model]`` (float64, d_model even): one 2×2 rotation by k·ω_i per (sin, cos) pair."""
    if d_model % 2:
        raise ValueError(f"The shift is a rotation of (sin, cos) pairs: d_model must be even, got {d_model}.")
    angle = k * rotary_frequencies(d_model, base)  # [d/2]
    cos, sin = torch.cos(angle), torch.sin(angle)
    blocks = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # [d/2, 2, 2]
    return torch.block_diag(*blocks)  # [d, d]


@dataclass(frozen=True)
class ShiftCheck:
    """PE(t + k) against M(k)·PE(t) for t = 0 .. n_pos - 1."""

    k: int
    residual: torch.Tensor  # [n_pos]: max_j |PE(t + k)_j - (M(k) PE(t))_j|
    max_residual: float
    power_residual: float  # max |M(1)^k - M(k)|: the shift by k is k shifts by one
    orthogonality: float  # max |M(k)ᵀ M(k) - I|: M(k) preserves norms


def shift_check(settings: SinusoidSettings, k: int) -> ShiftCheck:
    """Measure PE(t + k) = M(k)·PE(t) on the table that the models use (float32 entries)."""
    d = settings.d_model
    table = sinusoidal_table(settings.n_pos + abs(k), d, settings.base).double()  # [pos + |k|, d]
    m = shift_matrix(k, d, settings.base)
    start = table[: settings.n_pos] if k >= 0 else table[-k:]
    target = table[k: k + settings.n_pos] if k >= 0 else table[: settings.n_pos]
    residual = (target - start @ m.T).abs().amax(dim=1)  # rows are PE(t)ᵀ, so M·PE(t) is PE(t)ᵀ Mᵀ
    power = torch.linalg.matrix_power(shift_matrix(1, d, settings.base), k) if k >= 0 else \
        torch.linalg.matrix_power(shift_matrix(-1, d, settings.base), -k)
    eye = torch.eye(d, dtype=torch.float64)
    return ShiftCheck(k=k, residual=residual, max_residual=float(residual.max()),
                      power_residual=float((power - m).abs().max()), orthogonality=float((m.T @ m - eye).abs().max()))


# ----------------------------------------------------------------- similarity between positions
def cosine_similarity(table: torch.Tensor) -> torch.Tensor:
    """cos(P(t), P(s)) for all pairs: ``[n_pos, d]`` -> ``[n_pos, n_pos]`` (a zero row gives 0)."""
    x = table.detach().double()
    unit = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return unit @ unit.T


def similarity_by_offset(similarity: torch.Tensor, max_offset: int | None = None) -> pd.DataFrame:
    """Mean, min and max of sim(t, t + δ) over t, per offset δ ≥ 0: a narrow band (max - min ≈ 0) means
    the similarity depends on the offset only."""
    n = similarity.shape[0]
    last = n - 1 if max_offset is None else min(n - 1, max_offset)
    rows = []
    for offset in range(last + 1):
        diagonal = torch.diagonal(similarity, offset=offset)
        rows.append({"offset": offset, "mean": float(diagonal.mean()), "min": float(diagonal.min()),
                     "max": float(diagonal.max())})
    return pd.DataFrame(rows)


def offset_spread(similarity: torch.Tensor) -> float:
    """Largest (max - min) along any diagonal of a similarity matrix: 0 when it depends on t - s only."""
    n = similarity.shape[0]
    spreads = [float(torch.diagonal(similarity, o).max() - torch.diagonal(similarity, o).min()) for o in range(n)]
    return max(spreads)


# ----------------------------------------------------------------- projections
@dataclass(frozen=True)
class Projection:
    """Principal components of a set of points: ``coords [n, k]`` and the share of variance each explains."""

    coords: torch.Tensor
    explained: torch.Tensor  # [k]
    mean: torch.Tensor  # [d]
    components: torch.Tensor  # [k, d]

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Other points ``[m, d]`` in the same coordinates -> ``[m, k]``."""
        return (x.detach().double() - self.mean) @ self.components.T


def pca(x: torch.Tensor, n_components: int = 2) -> Projection:
    """PCA by SVD of the centred rows of ``x [n, d]`` (deterministic signs: largest loading positive)."""
    data = x.detach().double()
    mean = data.mean(dim=0)
    centred = data - mean  # [n, d]
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)  # vh [min(n, d), d]
    k = min(n_components, vh.shape[0])
    components = vh[:k]
    signs = torch.sign(components.gather(1, components.abs().argmax(dim=1, keepdim=True)))  # [k, 1]
    components = components * signs
    variance = singular**2
    explained = variance[:k] / variance.sum().clamp_min(1e-12)
    return Projection(coords=centred @ components.T, explained=explained, mean=mean, components=components)
