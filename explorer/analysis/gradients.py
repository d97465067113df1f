"""Vanishing and exploding gradients: ‖∂L/∂hₜ‖ back through time, and the eigenvalues of W_hh.

Backpropagation through time multiplies the gradient by the Jacobian ∂hₜ/∂hₜ₋₁ once per step. For an
Elman RNN that Jacobian is diag(1 − hₜ²)·W_hh, so after k steps the gradient has been multiplied by (about)
W_hhᵀ k times: with W = V diag(λ) V⁻¹, Wᵏ = V diag(λ)ᵏ V⁻¹, it shrinks like |λ_max|ᵏ when the spectral
radius is below 1 and can grow like it above 1 (Bengio et al. 1994; Pascanu et al. 2013). An LSTM's cell
state is carried by Cₜ = fₜ∗Cₜ₋₁ + …, whose Jacobian is (mostly) diag(fₜ): a forget gate near 1 passes the
gradient on undiminished.

:func:`hidden_gradient_norms` replays the model through its explicit cells with a step hook that keeps each
hₜ of one layer, takes the loss at the last step, and asks autograd for ∂L/∂hₜ (the total derivative: through
every later step and every layer above). Steps are reading steps: for a model that reads backwards
(``go_backwards``) step 0 is the input's last token. With mean pooling every hₜ also reaches the loss directly
(a 1/T share), so the curve then mixes that direct path with the one back through the recurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.nn import functional

from explorer.models import RecurrentConfig, RecurrentModel, build_model
from explorer.models.recurrent_cells import layer_weights

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"tanh": torch.tanh, "linear": lambda a: a}
BLOCKS = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}
BLOCK_NAMES = {
    "i": "W_hi (input gate iₜ)", "f": "W_hf (forget gate fₜ)", "g": "W_hg (candidate C̃ₜ)",
    "o": "W_ho (output gate oₜ)", "r": "W_hr (reset gate rₜ)", "z": "W_hz (torch's update z)",
    "n": "W_hn (candidate h̃ₜ)", "h": "W_hh",
}


@dataclass
class GradientCurve:
    """‖∂L/∂hₜ‖ for every reading step t of one input, and what the loss was."""

    norms: np.ndarray  # [pos], in the order the model reads the input
    loss: float
    target: int
    target_from: str  # "label" (given) or "prediction" (the model's own top output)
    layer: int


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _elman_override(model: RecurrentModel, tokens: torch.Tensor, activation: str, outputs: dict[int, list]):
    """A step hook that recomputes each Elman step with another activation (e.g. linear, for the theory)."""
    act = ACTIVATIONS[activation]
    embedded = model.embed(model.reading_order(tokens))  # [batch, pos, d_embed], what replay feeds layer 0

    def hook(layer: int, t: int, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        w_ih, w_hh, b_ih, b_hh = layer_weights(model.rnn, layer)
        x = embedded[:, t] if layer == 0 else outputs[layer - 1][t]  # [batch, d_in]
        kept = outputs.setdefault(layer, [])
        prev = kept[t - 1] if t else torch.zeros_like(state["h"])
        h = act(x @ w_ih.T + b_ih + prev @ w_hh.T + b_hh)  # replaces the cell's tanh result
        kept.append(h)
        return {"h": h}

    return hook


def hidden_gradient_norms(model: RecurrentModel, ids: list[int] | tuple[int, ...], target: int | None = None,
                          layer: int | None = None, activation: str | None = None) -> GradientCurve:
    """‖∂L/∂hₜ‖₂ of layer ``layer`` (default: the top one) for every t, L = cross-entropy at the last step.

    Classifier: L = −log p(target | whole input). Language model: L = −log p(target | input) for the token
    after the input. ``target`` None: the model's own most likely output. ``activation`` (Elman only):
    replace tanh, e.g. by ``"linear"`` to see the pure effect of W_hh.
    """
    if len(ids) == 0:
        raise ValueError("The input has no tokens.")
    norms, losses, targets, layer = batch_gradient_norms(model, [list(ids)], None if target is None else [target],
                                                         layer, activation)
    return GradientCurve(norms[0], float(losses[0]), int(targets[0]), "label" if target is not None else "prediction",
                         layer)


def batch_gradient_norms(model: RecurrentModel, sequences: list[list[int]], targets: list[int] | None = None,
                         layer: int | None = None, activation: str | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`hidden_gradient_norms` for several inputs of one length at once: returns norms ``[n, pos]``, the
    losses ``[n]``, the targets ``[n]`` and the layer. The loss summed over the batch has, with respect to each
    example's hₜ, exactly that example's gradient (the examples do not interact)."""
    cfg = model.config
    layer = cfg.n_layers - 1 if layer is None else layer
    if not 0 <= layer < cfg.n_layers:
        raise ValueError(f"The model has {cfg.n_layers} layer(s); layer {layer} does not exist.")
    if activation is not None and (cfg.cell != "rnn" or activation not in ACTIVATIONS):
        raise ValueError(f"An activation override is for Elman RNNs only, one of {', '.join(ACTIVATIONS)}.")
    if not sequences or len({len(s) for s in sequences}) != 1 or not sequences[0]:
        raise ValueError("Give one or more inputs, all of the same (non-zero) length.")
    if cfg.bidirectional:
        raise ValueError("This model reads the input both ways, so every hₜ also reaches the loss through the "
                         "backward direction: the curve would not show the path back through time. Use a "
                         "one-directional model.")
    tokens = torch.tensor(sequences, dtype=torch.long, device=_device(model))  # [n, pos]
    taps: list[torch.Tensor] = []
    outputs: dict[int, list] = {}
    override = _elman_override(model, tokens, activation, outputs) if activation else None

    def step_hook(layer_i: int, t: int, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if override is not None:
            state = override(layer_i, t, state)
        if layer_i == layer:
            taps.append(state["h"])  # [n, d_hidden], a node of the graph the later steps build on
        return state

    with torch.enable_grad():
        logits = model.replay(tokens, step_hook=step_hook)
        final = logits if cfg.head == "classifier" else logits[:, -1]  # [n, n_out]
        chosen = final.argmax(-1) if targets is None else torch.tensor(targets, device=final.device)
        losses = functional.cross_entropy(final.float(), chosen, reduction="none")  # [n]
        grads = torch.autograd.grad(losses.sum(), taps, allow_unused=True)
    norms = np.stack([np.zeros(len(sequences)) if g is None else g.norm(dim=-1).detach().cpu().numpy()
                      for g in grads], axis=1)  # [n, pos]
    return norms, losses.detach().cpu().numpy(), chosen.cpu().numpy(), layer


def relative(norms: np.ndarray) -> np.ndarray:
    """Norms divided by the last step's (how much of the gradient survives going back)."""
    last = norms[-1] if len(norms) and norms[-1] > 0 else 1.0
    return norms / last


# ----------------------------------------------------------------------------------------- eigenvalues
@dataclass
class Spectrum:
    """Eigenvalues of one square block of W_hh."""

    block: str  # "i", "f", ... or "h" for an Elman RNN
    label: str  # e.g. "W_hf (forget gate fₜ)", with its rows in torch's stacked weight_hh
    eigenvalues: np.ndarray  # complex [d_hidden]

    @property
    def radius(self) -> float:
        return float(np.abs(self.eigenvalues).max()) if len(self.eigenvalues) else 0.0


def spectra(weight_hh: torch.Tensor, cell: str) -> list[Spectrum]:
    """Eigenvalues of each gate's recurrent block of torch's stacked ``weight_hh`` [n_gates·d, d].

    Rows k·d .. (k+1)·d − 1 belong to gate k in torch's order (LSTM i, f, g, o; GRU r, z, n).
    """
    w = weight_hh.detach().to("cpu", torch.float64)
    d = w.shape[1]
    out = []
    for k, block in enumerate(BLOCKS[cell]):
        square = w[k * d:(k + 1) * d]  # [d, d]
        label = BLOCK_NAMES[block] + (f", rows {k * d}–{(k + 1) * d - 1}" if cell != "rnn" else "")
        out.append(Spectrum(block, label, torch.linalg.eigvals(square).numpy()))
    return out


def radius_history(snapshots: dict[int, dict[str, torch.Tensor]], cell: str, layer: int = 0) -> pd.DataFrame:
    """Spectral radius of each W_hh block at every kept training step: columns step, block, label, radius."""
    rows = []
    for step in sorted(snapshots):
        weight = snapshots[step][f"rnn.weight_hh_l{layer}"]
        for spec in spectra(weight, cell):
            rows.append({"step": step, "block": spec.block, "label": spec.label, "radius": spec.radius})
    return pd.DataFrame(rows, columns=["step", "block", "label", "radius"])


def gradients_over_training(config: RecurrentConfig, snapshots: dict[int, dict[str, torch.Tensor]],
                            ids: list[int] | tuple[int, ...], target: int | None = None,
                            layer: int | None = None) -> pd.DataFrame:
    """‖∂L/∂hₜ‖ at every kept training step: a frame indexed by step, one column per t."""
    model = build_model(config, seed=None).eval()
    rows = {}
    for step in sorted(snapshots):
        model.load_state_dict(snapshots[step])
        rows[step] = hidden_gradient_norms(model, ids, target=target, layer=layer).norms
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "step"
    return frame
