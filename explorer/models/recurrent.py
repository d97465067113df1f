"""Elman RNN, GRU and LSTM models with a language-model or classifier head.

Training runs through torch's fused module ``self.rnn`` (``nn.RNN/nn.GRU/nn.LSTM``, batch_first).
``run_with_cache`` replays the same weights through the explicit cells of
:mod:`explorer.models.recurrent_cells` and records every gate under TransformerLens-style names:
``hook_embed`` [batch, pos, d_embed]; for each layer L, LSTM ``rnn.L.hook_i|f|g|o|c|h``, GRU
``rnn.L.hook_r|z|n|h``, Elman ``rnn.L.hook_h``, all [batch, pos, d_hidden]; classifiers also
``hook_pooled`` [batch, d_hidden].

With ``bidirectional`` (classifiers; Schuster & Paliwal 1997) each layer also reads the input backwards, from its
last real token; its states ``rnn_reverse.L.hook_*`` are recorded in input order, and the next layer and the head
read [→hₜ; ←hₜ]. Last-state pooling then takes →h at the last real token and ←h at the first (each direction's
final state). ``hh_init_scale`` multiplies torch's initial W_hh (and its spectral radius) for the
exploding-gradient demo; ``freeze_embedding`` keeps the embedding table as it started (a frozen GloVe table).

With ``go_backwards`` (the lecture lab's Keras LSTM) the layers read each input from its last real token to its
first: every recorded position is a *reading step*, so position t holds the state after reading the t-th token
from the end. :meth:`RecurrentModel.reading_order` gives the tokens in that order, for labelling.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from explorer.models.config import RecurrentConfig
from explorer.models.hooks import HookedModel, HookPoint
from explorer.models.pooling import pool
from explorer.models.recurrent_cells import GATE_NAMES, replay_layer, reverse_real_steps

FUSED = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentModel(HookedModel):
    """Embedding -> 1-2 recurrent layers -> LM head (per step) or classifier head (pooled)."""

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.config = config
        cfg = config
        self.embed = nn.Embedding(cfg.d_vocab, cfg.d_embed)
        self.rnn = FUSED[cfg.cell](
            cfg.d_embed, cfg.d_hidden, num_layers=cfg.n_layers, batch_first=True,
            dropout=cfg.dropout if cfg.n_layers > 1 else 0.0, bidirectional=cfg.bidirectional,
        )
        if cfg.cell == "lstm" and cfg.forget_bias:
            self._open_forget_gates(cfg.forget_bias)
        if cfg.hh_init_scale != 1.0:
            with torch.no_grad():
                for name, weight in self.rnn.named_parameters():
                    if name.startswith("weight_hh"):
                        weight.mul_(cfg.hh_init_scale)
        if cfg.freeze_embedding:
            self.embed.weight.requires_grad_(False)
        self.hook_embed = HookPoint()

        def hooks() -> nn.ModuleList:  # per layer; exposed as rnn.{L}.hook_* (rnn_reverse.{L}.hook_*) by hook_points()
            return nn.ModuleList(nn.ModuleDict({f"hook_{g}": HookPoint() for g in GATE_NAMES[cfg.cell]})
                                 for _ in range(cfg.n_layers))

        self.gate_hooks = hooks()
        if cfg.bidirectional:
            self.reverse_gate_hooks = hooks()
        width = 2 * cfg.d_hidden if cfg.bidirectional else cfg.d_hidden  # what the head reads
        if cfg.head == "lm":
            self.unembed = nn.Linear(cfg.d_hidden, cfg.d_vocab)
        else:
            self.hook_pooled = HookPoint()
            n_out = 1 if cfg.sigmoid_output else cfg.n_classes
            if cfg.d_classifier_hidden:
                self.classifier = nn.Sequential(
                    nn.Linear(width, cfg.d_classifier_hidden), nn.ReLU(),
                    nn.Linear(cfg.d_classifier_hidden, n_out),
                )
            else:
                self.classifier = nn.Sequential(nn.Linear(width, n_out))

    def _open_forget_gates(self, bias: float) -> None:
        """Start fₜ = σ(… + bias): torch stacks the gate biases as i, f, g, o, so rows d..2d-1 are fₜ's
        (Gers et al. 2000; Jozefowicz et al. 2015). With bias 0, fₜ ≈ 0.5 halves the cell state each step."""
        d = self.config.d_hidden
        with torch.no_grad():
            for layer in range(self.config.n_layers):
                for suffix in ("", "_reverse") if self.config.bidirectional else ("",):
                    getattr(self.rnn, f"bias_ih_l{layer}{suffix}")[d:2 * d] += bias

    # ----------------------------------------------------------------- weights, TransformerLens names
    @property
    def W_E(self) -> torch.Tensor:
        """Token embeddings ``[d_vocab, d_embed]``."""
        return self.embed.weight

    @property
    def W_U(self) -> torch.Tensor:
        """Unembedding ``[d_hidden, d_vocab]`` (LM) or the classifier's last layer ``[d, n_out]``."""
        if self.config.head == "lm":
            return self.unembed.weight.T
        return self.classifier[-1].weight.T

    def W_hh(self, layer: int = 0) -> torch.Tensor:
        """Recurrent weights of one layer, ``[n_gates * d_hidden, d_hidden]`` (torch's row order)."""
        return getattr(self.rnn, f"weight_hh_l{layer}")

    def hook_points(self) -> dict[str, HookPoint]:
        points = {}
        for name, module in self.named_modules():
            if isinstance(module, HookPoint):
                name = name.replace("reverse_gate_hooks.", "rnn_reverse.", 1).replace("gate_hooks.", "rnn.", 1)
                points[name] = module
        return points

    # ----------------------------------------------------------------- forward passes
    def pad_mask(self, tokens: torch.Tensor) -> torch.Tensor | None:
        """``[batch, pos]`` bool, True for real tokens; None when the config has no pad id."""
        if self.config.pad_id is None:
            return None
        return tokens != self.config.pad_id

    def reading_order(self, tokens: torch.Tensor) -> torch.Tensor:
        """``[batch, pos]`` tokens in the order the layers read them: unchanged, or with ``go_backwards`` each
        row's real tokens reversed in place (right padding stays on the right, so pooling masks still hold)."""
        if not self.config.go_backwards:
            return tokens
        return reverse_real_tokens(tokens, self.pad_mask(tokens))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Fused forward. tokens [batch, pos] -> logits [batch, pos, d_vocab] or [batch, n_classes]."""
        tokens = self.reading_order(tokens)
        mask = self.pad_mask(tokens)
        if self.config.bidirectional and mask is not None:  # the backward direction starts at each last real token
            lengths = mask.long().sum(dim=1).clamp(min=1).cpu()
            packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
            hidden, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=tokens.shape[1])
        else:
            hidden, _ = self.rnn(self.embed(tokens))  # [batch, pos, d_hidden (× 2 when bidirectional)]
        return self._head(hidden, tokens)

    def replay(self, tokens: torch.Tensor, step_hook=None) -> torch.Tensor:
        """Explicit-cell forward through every hook point; same result as :meth:`forward`."""
        tokens = self.reading_order(tokens)
        x = self.hook_embed(self.embed(tokens))  # [batch, pos, d_embed]
        mask = self.pad_mask(tokens)
        for layer in range(self.config.n_layers):
            states = replay_layer(self.config.cell, self.rnn, layer, x,
                                  step_hook=None if step_hook is None else _bind(step_hook, layer))
            hooks = self.gate_hooks[layer]
            states = {g: hooks[f"hook_{g}"](v) for g, v in states.items()}
            if self.config.bidirectional:  # the backward direction, its states put back in input order
                read = replay_layer(self.config.cell, self.rnn, layer, reverse_real_steps(x, mask), suffix="_reverse")
                back = {g: self.reverse_gate_hooks[layer][f"hook_{g}"](reverse_real_steps(v, mask))
                        for g, v in read.items()}
                x = torch.cat([states["h"], back["h"]], dim=-1)  # [batch, pos, 2 * d_hidden]
            else:
                x = states["h"]  # [batch, pos, d_hidden]
        return self._head(x, tokens)

    def _cached_forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.replay(tokens)

    def _head(self, hidden: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        if self.config.head == "lm":
            return self.unembed(hidden)  # [batch, pos, d_vocab]
        mask = self.pad_mask(tokens)
        if self.config.bidirectional and self.config.pooling == "last":  # each direction's final state
            d = self.config.d_hidden
            forward_last = pool(hidden[..., :d], mask, "last")  # →h at the last real token
            pooled = self.hook_pooled(torch.cat([forward_last, hidden[:, 0, d:]], dim=-1))  # ←h at the first
        else:
            pooled = self.hook_pooled(pool(hidden, mask, self.config.pooling))  # [batch, d_hidden (× 2)]
        out = self.classifier(pooled)
        if self.config.sigmoid_output:
            # One sigmoid unit z as two logits [0, z]: softmax gives [1 - σ(z), σ(z)], and
            # cross-entropy on them equals binary cross-entropy on σ(z).
            out = torch.cat([torch.zeros_like(out), out], dim=-1)  # [batch, 2]
        return out


def reverse_real_tokens(tokens: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
    """Reverse the real (right-padded) prefix of every row of ``tokens`` [batch, pos]; ``real`` [batch, pos]
    bool marks real tokens (None: all are real). Applying it twice gives ``tokens`` back."""
    n_pos = tokens.shape[1]
    position = torch.arange(n_pos, device=tokens.device).expand_as(tokens)  # [batch, pos]
    length = (torch.full_like(tokens, n_pos) if real is None
              else real.long().sum(dim=1, keepdim=True).expand_as(tokens))  # [batch, pos]
    source = torch.where(position < length, length - 1 - position, position)  # [batch, pos]
    return tokens.gather(1, source)


def _bind(step_hook, layer: int):
    return lambda t, state: step_hook(layer, t, state)
