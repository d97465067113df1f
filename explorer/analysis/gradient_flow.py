"""How much gradient travels back through time, measured so that it can be compared between models and steps.

One example's raw ‖∂L/∂hₜ‖ says little: a model that is already sure (loss ≈ 0) has almost no gradient at all, and
a ReLU head that is off has none. What the lecture's argument is about is the *share* of the gradient at the last
step that survives going back k steps, ‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖, and whether a model can learn a long gap depends
on that share when it starts (and while it learns). So:

- :func:`probe_set` takes validation examples of one length with their true targets;
- :func:`averaged_curve` gives, per step t, the geometric mean of that share over the examples (the mean of the
  logarithms: the shares span many orders of magnitude), leaving out — and counting — the examples whose loss does
  not depend on h_last at all;
- :func:`first_step_over_training` gives the share that reaches t = 0 at every kept training step;
- :func:`input_gradient_norms` gives ‖∂L/∂xₜ‖ with respect to the input embeddings, for recurrent models and
  transformers alike, so that both can be put on one figure by distance from the output.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.nn import functional

from explorer.analysis.gradients import batch_gradient_norms
from explorer.data.dataset import TaskData
from explorer.data.examples import validation_inputs
from explorer.models import Model, ModelConfig, RecurrentModel, build_model

N_PROBE = 32
FLOOR = 1e-30  # shares below this are drawn at it (a log axis has no 0)


@dataclass
class ProbeSet:
    """Inputs of one length with the target the loss is measured against."""

    sequences: list[list[int]]
    targets: list[int]
    what: str  # e.g. "32 validation examples of 41 tokens, true labels"

    @property
    def length(self) -> int:
        return len(self.sequences[0]) if self.sequences else 0


def probe_set(data: TaskData | None, n: int = N_PROBE) -> ProbeSet | None:
    """Up to ``n`` validation inputs of the most common length, with their true targets: the class for a
    classifier, the next token for a language model (the input is then the sequence without its last token).
    None when the data has no such examples."""
    if data is None:
        return None
    if data.kind == "classification":
        pairs = list(zip(data.val.sources, data.val.labels or []))
        kind = "true labels"
    elif data.is_stream:
        stream = data.val.stream.tolist()
        width = 64
        pairs = [(stream[i:i + width], stream[i + width]) for i in range(0, len(stream) - width - 1, width + 1)]
        kind = "the true next token"
    else:
        pairs = [(seq[:-1], seq[-1]) for seq in validation_inputs(data) if len(seq) > 1]
        kind = "the true next token"
    pairs = [(list(s), int(t)) for s, t in pairs if len(s) > 0]
    if not pairs:
        return None
    length = Counter(len(s) for s, _ in pairs[:500]).most_common(1)[0][0]
    chosen = [(s, t) for s, t in pairs if len(s) == length][:n]
    return ProbeSet([s for s, _ in chosen], [t for _, t in chosen],
                    f"{len(chosen)} validation examples of {length} tokens, {kind}")


@dataclass
class AveragedCurve:
    """The share of the last step's gradient that reaches each step t, over a probe set."""

    shares: np.ndarray  # [pos], geometric mean over the examples of ‖∂L/∂hₜ‖ ÷ ‖∂L/∂h_last‖
    n_used: int
    n_without_gradient: int  # examples whose loss does not depend on h_last (e.g. every ReLU of the head off)
    mean_loss: float

    @property
    def first(self) -> float:
        return float(self.shares[0]) if len(self.shares) else float("nan")


def _geometric_mean(ratios: np.ndarray) -> np.ndarray:
    return np.exp(np.log(np.maximum(ratios, FLOOR)).mean(axis=0))


def averaged_curve(model: RecurrentModel, probe: ProbeSet, layer: int | None = None) -> AveragedCurve:
    """:class:`AveragedCurve` of ``model`` (eval mode) on ``probe``."""
    norms, losses, _, _ = batch_gradient_norms(model, probe.sequences, probe.targets, layer)
    alive = norms[:, -1] > 0
    n_pos = norms.shape[1]
    if not alive.any():
        return AveragedCurve(np.full(n_pos, np.nan), 0, len(norms), float(losses.mean()))
    shares = _geometric_mean(norms[alive] / norms[alive, -1:])
    return AveragedCurve(shares, int(alive.sum()), int((~alive).sum()), float(losses.mean()))


def first_step_over_training(config: ModelConfig, snapshots: dict[int, dict[str, torch.Tensor]], probe: ProbeSet,
                             layer: int | None = None) -> pd.DataFrame:
    """At every kept step: the share reaching t = 0, the mean loss and the examples without gradient."""
    model = build_model(config, seed=None).eval()
    rows = []
    for step in sorted(snapshots):
        model.load_state_dict(snapshots[step])
        curve = averaged_curve(model, probe, layer)
        rows.append({"step": step, "share at t = 0": curve.first, "mean loss": curve.mean_loss,
                     "without gradient": curve.n_without_gradient})
    return pd.DataFrame(rows, columns=["step", "share at t = 0", "mean loss", "without gradient"])


def shares_over_training(config: ModelConfig, snapshots: dict[int, dict[str, torch.Tensor]], probe: ProbeSet,
                         layer: int | None = None) -> pd.DataFrame:
    """The whole averaged curve at every kept step: a frame indexed by step, one column per t."""
    model = build_model(config, seed=None).eval()
    rows = {}
    for step in sorted(snapshots):
        model.load_state_dict(snapshots[step])
        rows[step] = averaged_curve(model, probe, layer).shares
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "step"
    return frame


# ----------------------------------------------------------------------------------------- inputs
def input_gradient_norms(model: Model, probe: ProbeSet) -> np.ndarray:
    """‖∂L/∂xₜ‖ for every input position, ``[n, pos]``, where xₜ is the embedding the model reads at position t
    (the ``hook_embed`` activation; for a recurrent model that reads backwards, position t is its t-th reading
    step). Works for recurrent models (through the explicit cells) and transformers alike; the loss is the one of
    :func:`probe_set`'s targets."""
    captured: list[torch.Tensor] = []

    def leaf(tensor: torch.Tensor, _name: str) -> torch.Tensor:
        x = tensor.detach().requires_grad_(True)  # [n, pos, d_embed]
        captured.append(x)
        return x

    tokens = torch.tensor(probe.sequences, dtype=torch.long, device=next(model.parameters()).device)
    with torch.enable_grad(), model.hooks([("hook_embed", leaf)]):
        logits = model.replay(tokens) if isinstance(model, RecurrentModel) else model(tokens)
    with torch.enable_grad():
        final = logits if model.config.head == "classifier" else logits[:, -1]
        loss = functional.cross_entropy(final.float(), torch.tensor(probe.targets, device=final.device),
                                        reduction="sum")
        (grad,) = torch.autograd.grad(loss, captured)
    return grad.norm(dim=-1).detach().cpu().numpy()  # [n, pos]


def by_distance(norms: np.ndarray) -> np.ndarray:
    """Geometric mean over examples of ‖∂L/∂xₜ‖ ÷ ‖∂L/∂x_last‖, indexed by the distance d = T − 1 − t back from the
    last input (d = 0: the last one). Examples without any gradient at the last input are left out."""
    alive = norms[:, -1] > 0
    if not alive.any():
        return np.full(norms.shape[1], np.nan)
    return _geometric_mean(norms[alive] / norms[alive, -1:])[::-1]
