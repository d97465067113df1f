"""Explicit recurrent cells that replay the weights of torch's fused ``nn.RNN/GRU/LSTM``.

The fused modules are fast but hide their gates. These step functions compute one time step with
the same weights and torch's own conventions, returning every intermediate quantity, so that the
replay reproduces the fused outputs (tested to 1e-5).

Torch's weight layout for layer ``l``: ``weight_ih_l{l}`` stacks the input weights of the gates
row-wise (LSTM: i, f, g, o; GRU: r, z, n), ``weight_hh_l{l}`` the recurrent ones, plus two biases.

Equations (x = input at step t, h = h_{t-1}, c = C_{t-1}):

LSTM (Hochreiter & Schmidhuber 1997; the lecture's notation in brackets)
    i = σ(W_ii x + b_ii + W_hi h + b_hi)          input gate        [i_t]
    f = σ(W_if x + b_if + W_hf h + b_hf)          forget gate       [f_t]
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)       candidate         [C̃_t]
    o = σ(W_io x + b_io + W_ho h + b_ho)          output gate       [o_t]
    c' = f * c + i * g                            cell state        [C_t]
    h' = o * tanh(c')                             hidden state      [h_t]

GRU (Cho et al. 2014, as torch and cuDNN compute it)
    r = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
    z = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate (weight of the *old* state)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) candidate
    h' = (1 - z) * n + z * h
  The lecture writes h_t = (1 - z_t) h_{t-1} + z_t h̃_t, so its z_t is torch's 1 - z, and it applies
  r before the matrix product (W·[r*h, x]); torch applies it after. Both are GRUs.

Elman RNN
    h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
"""

from __future__ import annotations

import torch
from torch import nn

GATE_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
    "rnn": ("h",),
}


def layer_weights(rnn: nn.RNNBase, layer: int, suffix: str = "") -> tuple[torch.Tensor, ...]:
    """``(W_ih, W_hh, b_ih, b_hh)`` of one layer of a fused module (zeros when it has no bias); ``suffix``
    ``"_reverse"`` gives the backward direction of a bidirectional module."""
    w_ih = getattr(rnn, f"weight_ih_l{layer}{suffix}")
    w_hh = getattr(rnn, f"weight_hh_l{layer}{suffix}")
    b_ih = getattr(rnn, f"bias_ih_l{layer}{suffix}", None)
    b_hh = getattr(rnn, f"bias_hh_l{layer}{suffix}", None)
    if b_ih is None:
        b_ih = torch.zeros(w_ih.shape[0], device=w_ih.device, dtype=w_ih.dtype)
        b_hh = torch.zeros_like(b_ih)
    return w_ih, w_hh, b_ih, b_hh


def lstm_step(
    x_proj: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor
) -> dict[str, torch.Tensor]:
    """One LSTM step. ``x_proj = W_ih x + b_ih`` [batch, 4*d_hidden]; ``h, c`` [batch, d_hidden]."""
    gates = x_proj + h @ w_hh.T + b_hh  # [batch, 4 * d_hidden]
    i, f, g, o = gates.chunk(4, dim=-1)  # each [batch, d_hidden]
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}


def gru_step(x_proj: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> dict[str, torch.Tensor]:
    """One GRU step (torch's convention). ``x_proj = W_ih x + b_ih`` [batch, 3*d_hidden]."""
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)  # each [batch, d_hidden]
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    h_new = (1 - z) * n + z * h
    return {"r": r, "z": z, "n": n, "h": h_new}


def elman_step(
    x_proj: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor
) -> dict[str, torch.Tensor]:
    """One Elman step: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``."""
    return {"h": torch.tanh(x_proj + h @ w_hh.T + b_hh)}


def cell_step(cell: str, x_proj: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, w_hh: torch.Tensor,
              b_hh: torch.Tensor) -> dict[str, torch.Tensor]:
    """One step of any of the three cells (``c`` is used by the LSTM only)."""
    if cell == "lstm":
        return lstm_step(x_proj, h, c, w_hh, b_hh)
    if cell == "gru":
        return gru_step(x_proj, h, w_hh, b_hh)
    return elman_step(x_proj, h, w_hh, b_hh)


def replay_layer(
    cell: str, rnn: nn.RNNBase, layer: int, inputs: torch.Tensor, step_hook=None,
    initial: dict[str, torch.Tensor] | None = None, suffix: str = "",
) -> dict[str, torch.Tensor]:
    """Run one layer over a whole sequence with the explicit cell.

    ``inputs``: [batch, pos, d_in]. Returns each gate stacked over time, ``[batch, pos, d_hidden]``.
    ``step_hook(t, state)``, if given, may replace the per-step state dict (used for gradient taps).
    ``initial``: the state before the first step, ``{"h": [batch, d_hidden], "c": …}`` (default zeros; a
    seq2seq decoder starts from the encoder's final state). ``suffix="_reverse"``: the backward weights of a
    bidirectional module (the caller gives it the reversed input, see :func:`reverse_real_steps`).
    """
    w_ih, w_hh, b_ih, b_hh = layer_weights(rnn, layer, suffix)
    batch, n_pos, _ = inputs.shape
    d_hidden = w_hh.shape[1]
    x_proj = inputs @ w_ih.T + b_ih  # [batch, pos, n_gates * d_hidden], all steps at once
    initial = initial or {}
    h = initial.get("h", inputs.new_zeros(batch, d_hidden))
    c = initial.get("c", inputs.new_zeros(batch, d_hidden))
    steps: list[dict[str, torch.Tensor]] = []
    for t in range(n_pos):
        state = cell_step(cell, x_proj[:, t], h, c, w_hh, b_hh)
        c = state.get("c", c)
        if step_hook is not None:
            state = step_hook(t, state)
            c = state.get("c", c)
        h = state["h"]
        steps.append(state)
    if not steps:
        empty = inputs.new_zeros(batch, 0, d_hidden)
        return {name: empty for name in GATE_NAMES[cell]}
    return {name: torch.stack([s[name] for s in steps], dim=1) for name in GATE_NAMES[cell]}  # [batch, pos, d_hidden]


def reverse_real_steps(x: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
    """Reverse the real (right-padded) prefix of every row of ``x`` [batch, pos, ...] in time, padding left in
    place; ``real`` [batch, pos] bool marks real steps (None: all). Applying it twice gives ``x`` back: the backward
    direction of a bidirectional layer reads the reversed input, and its states are reversed back to line up."""
    batch, n_pos = x.shape[:2]
    position = torch.arange(n_pos, device=x.device).expand(batch, n_pos)  # [batch, pos]
    length = (torch.full_like(position, n_pos) if real is None
              else real.long().sum(dim=1, keepdim=True).expand(batch, n_pos))  # [batch, pos]
    source = torch.where(position < length, length - 1 - position, position)  # [batch, pos]
    index = source.reshape(batch, n_pos, *([1] * (x.dim() - 2))).expand_as(x)  # [batch, pos, ...]
    return x.gather(1, index)
