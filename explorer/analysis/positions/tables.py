"""Position tables inside models: the sizes of E and P, one token at every position, learned tables over training.

Works for a :class:`~explorer.models.Transformer` of the session and for a pretrained model of the adapter
(``W_E [d_vocab, d_model]``, ``W_pos [n_ctx, d_model]`` or None, ``config.positional``). The first residual
stream is X = E(token) + P(position) (Vaswani et al. 2017, section 3.5, with the sinusoids for P; a
learned P is one trained vector per position, as in GPT-2 and BERT).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import torch

from explorer.analysis.positions.sinusoidal import Projection, cosine_similarity, pca
from explorer.training.run import Run
from explorer.training.snapshots import model_at, snapshot_steps


def position_table(model: Any) -> torch.Tensor | None:
    """The table added to the token embeddings, ``[n_ctx, d_model]`` float32 on the CPU; None for
    rotary (applied to queries and keys instead) or no positions."""
    table = getattr(model, "W_pos", None)
    return None if table is None else table.detach().float().cpu()


def positions_used(run: Run) -> int:
    """How many positions the run's training data fills (rows of a learned table beyond it never learn)."""
    n_ctx = run.config.n_ctx
    data = run.data
    if data is None:
        return n_ctx
    if data.is_stream:
        return min(n_ctx, run.trainer.config.seq_len if run.trainer else n_ctx)
    if getattr(run.config, "encoder_decoder", False):
        longest = max((len(s) for s in data.train.sources), default=0)
        if data.train.targets is not None:
            longest = max(longest, max((len(t) for t in data.train.targets), default=0))
        return min(n_ctx, longest)
    return min(n_ctx, max(1, data.max_length() - (1 if data.kind != "classification" else 0)))


# ----------------------------------------------------------------- sizes
def _stats(name: str, norms: torch.Tensor) -> dict:
    return {"vectors": name, "count": int(norms.numel()), "mean norm": float(norms.mean()),
            "median norm": float(norms.median()), "min norm": float(norms.min()), "max norm": float(norms.max())}


def embedding_sizes(model: Any, n_used: int | None = None, token_ids: list[int] | None = None) -> pd.DataFrame:
    """Norms of the token embeddings E(token) and of the position vectors P(pos), side by side.

    ``n_used``: positions seen in training (the rest of a learned table is listed apart); ``token_ids``: the
    tokens to count (default all d_vocab rows).
    """
    E = model.W_E.detach().float().cpu()  # [d_vocab, d_model]
    if token_ids is not None:
        E = E[torch.tensor(token_ids, dtype=torch.long)]
    rows = [_stats("token embeddings E(token)", E.norm(dim=1))]
    table = position_table(model)
    if table is not None:
        n_used = table.shape[0] if n_used is None else max(1, min(n_used, table.shape[0]))
        rows.append(_stats(f"position vectors P(0..{n_used - 1})", table[:n_used].norm(dim=1)))
        if n_used < table.shape[0]:
            rows.append(_stats(f"P({n_used}..{table.shape[0] - 1}), never seen in training",
                               table[n_used:].norm(dim=1)))
    return pd.DataFrame(rows)


def addition_note(model: Any) -> str:
    """How this model combines token and position: the formula, and whether E is scaled."""
    cfg = model.config
    d = cfg.d_model
    vaswani = f"(Vaswani et al. multiply E by √d_model = {math.sqrt(d):.1f} before adding their sinusoids.)"
    if cfg.positional in ("rotary", "none"):
        kind = "rotary: rotates queries and keys instead" if cfg.positional == "rotary" else "none"
        return f"This model adds nothing to its token embeddings (positions: {kind}): X = E(token)."
    if getattr(cfg, "token_types", False):
        return ("This model (BERT family) computes X = LayerNorm(E(token) + P(pos) + T(segment 0)), with no scaling: "
                f"the LayerNorm after the sum rescales each sum to the same size. {vaswani}")
    trained = ("training changes E; P is the fixed sinusoid table" if cfg.positional == "sinusoidal"
               else "training changes both E and P")
    return (f"This model adds X = E(token) + P(pos) with no scaling {vaswani} Here E starts with norm about "
            f"√d_model = {math.sqrt(d):.1f} (standard normal entries), and {trained}.")


# ----------------------------------------------------------------- one token at every position
def token_at_positions(E_rows: torch.Tensor, table: torch.Tensor, labels: list[str]) -> tuple[pd.DataFrame, Projection]:
    """E(token) + P(pos) for each token row of ``E_rows [n_tokens, d]`` and every row of ``table [n_pos, d]``,
    projected together to 2D by PCA. Also each E(token) alone (position "—", in the same coordinates).

    Returns a long frame (token, position, x, y, distance = ‖P(pos)‖, angle° between P(pos) and P(0)).
    """
    E_rows, table = E_rows.detach().double(), table.detach().double()
    n_tok, n_pos = E_rows.shape[0], table.shape[0]
    points = (E_rows[:, None, :] + table[None, :, :]).reshape(n_tok * n_pos, -1)  # [tok * pos, d]
    projection = pca(points, 2)
    coords = projection.coords.reshape(n_tok, n_pos, -1)  # [tok, pos, 2]
    anchors = projection.project(E_rows)  # [tok, 2]
    distance = table.norm(dim=1)  # [pos]: how far each position moves a token
    angle = torch.rad2deg(torch.arccos(cosine_similarity(table)[0].clamp(-1, 1)))  # [pos]
    rows = []
    for t, label in enumerate(labels):
        rows.append({"token": label, "position": -1, "x": float(anchors[t, 0]), "y": float(anchors[t, 1]),
                     "distance": 0.0, "angle": float("nan")})
        for p in range(n_pos):
            rows.append({"token": label, "position": p, "x": float(coords[t, p, 0]), "y": float(coords[t, p, 1]),
                         "distance": float(distance[p]), "angle": float(angle[p])})
    return pd.DataFrame(rows), projection


# ----------------------------------------------------------------- learned tables during training
def neighbour_similarity(table: torch.Tensor, far: int = 8) -> tuple[float, float]:
    """Mean cos(P(t), P(t + 1)) and mean cos(P(t), P(t + far)): near positions grow alike when a table is smooth."""
    sim = cosine_similarity(table)
    near = float(torch.diagonal(sim, 1).mean()) if sim.shape[0] > 1 else float("nan")
    distant = float(torch.diagonal(sim, far).mean()) if sim.shape[0] > far else float("nan")
    return near, distant


def learned_table_at(run: Run, step: int) -> torch.Tensor:
    """The run's learned position table ``[n_ctx, d_model]`` as it was at a kept snapshot."""
    return position_table(model_at(run, step))


def learned_formation(run: Run, n_used: int, far: int = 8) -> pd.DataFrame:
    """Per kept snapshot: how alike neighbouring (and distant) learned positions are, over the used rows."""
    rows = []
    for step in snapshot_steps(run):
        table = learned_table_at(run, step)[:n_used]
        near, distant = neighbour_similarity(table, far)
        rows.append({"step": step, "neighbours (t, t+1)": near, f"far apart (t, t+{far})": distant})
    return pd.DataFrame(rows)
