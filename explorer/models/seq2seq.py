"""A recurrent encoder–decoder (GRU, LSTM or Elman cells) with no attention, additive or dot-product attention.

The encoder reads the source x₁ … x_S into states h₁ … h_S (torch's fused module; padded sources are packed, so
each row's final state is the one after its last real token). With ``bidirectional`` it also reads the source
backwards and hⱼ = [→hⱼ; ←hⱼ] describes xⱼ with both its sides (Bahdanau et al.'s annotations); the decoder's layer
L then starts from tanh(W_init [→h_S; ←h_1]) (zeros for an LSTM's cell state), else from the encoder's final state
of layer L. The decoder is trained with *teacher forcing*: at step t it reads the true previous target token
y_{t−1} (``<bos>`` at t = 0), not its own guess, and predicts yₜ.

- ``none`` (Sutskever et al. 2014): the decoder sees the source only through that start state, one vector of
  d_hidden numbers for the whole input — the bottleneck. Output: W_out·sₜ.
- ``additive`` (Bahdanau et al. 2015): before step t the decoder scores every encoder state with its previous
  state, e_tj = vᵀ tanh(W s_{t−1} + U hⱼ); αₜ = softmax_j(e_tj); the context cₜ = Σⱼ α_tj hⱼ is fed into the cell
  with the token: sₜ = cell([emb(y_{t−1}); cₜ], s_{t−1}). This needs a Python loop over decoder steps.
- ``location`` (Chorowski et al. 2015, "location-aware"): the additive score also sees where the previous step
  looked, e_tj = vᵀ tanh(W s_{t−1} + U hⱼ + V f_tj) with f_t = F ∗ α_{t−1} (8 filters of 7 positions slid over the
  previous weights; α_{−1} = 0). A rule such as "one position left of last time" (reverse) then holds at any length.
- ``dot`` (Luong et al. 2015): the cell reads the token only (fused over all steps); then e_tj = sₜ·hⱼ.
With attention, the output is W_out·tanh(W_c [sₜ; cₜ]) (Luong's attentional state).

Hook points (TransformerLens style): ``encoder.hook_embed`` [batch, src, d_embed], ``encoder.rnn.{L}.hook_<gate>``
[batch, src, d_hidden] (the backward direction: ``encoder.rnn_reverse.{L}.hook_<gate>``, in source order);
``decoder.hook_embed`` [batch, dec, d_embed], ``decoder.rnn.{L}.hook_<gate>``
[batch, dec, d_hidden]; ``decoder.attn.hook_scores`` and ``decoder.attn.hook_pattern`` [batch, dec_pos, enc_pos]
(scores −inf at padding); ``decoder.hook_context`` [batch, dec, d_hidden] (without attention: the encoder's final
state, the same at every step). ``run_with_cache`` replays both stacks through the explicit cells of
:mod:`explorer.models.recurrent_cells`, which reproduce the fused modules to 1e-5. With additive or location-aware
attention the pattern and context hooks record the values after the loop (they cannot be patched step by step).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from explorer.models.config import LOCATION_FILTERS, LOCATION_WIDTH, Seq2SeqConfig
from explorer.models.hooks import HookedModel, HookPoint
from explorer.models.recurrent_cells import (
    GATE_NAMES,
    cell_step,
    layer_weights,
    replay_layer,
    reverse_real_steps,
)

FUSED = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
State = dict[str, list[torch.Tensor]]  # "h" (and "c" for an LSTM): one [batch, d_hidden] tensor per layer


class RecurrentStack(nn.Module):
    """One side of the model: an embedding, 1–2 fused recurrent layers, and a hook point per gate and layer."""

    def __init__(self, cfg: Seq2SeqConfig, d_input: int, bidirectional: bool = False):
        super().__init__()
        self.embed = nn.Embedding(cfg.d_vocab, cfg.d_embed)
        self.rnn = FUSED[cfg.cell](d_input, cfg.d_hidden, num_layers=cfg.n_layers, batch_first=True,
                                   dropout=cfg.dropout if cfg.n_layers > 1 else 0.0, bidirectional=bidirectional)
        self.hook_embed = HookPoint()

        def hooks() -> nn.ModuleList:
            return nn.ModuleList(nn.ModuleDict({f"hook_{g}": HookPoint() for g in GATE_NAMES[cfg.cell]})
                                 for _ in range(cfg.n_layers))

        self.gate_hooks = hooks()
        if bidirectional:
            self.reverse_gate_hooks = hooks()

    def record(self, layer: int, states: dict[str, torch.Tensor], backward: bool = False) -> dict[str, torch.Tensor]:
        """Pass one layer's stacked gates [batch, pos, d_hidden] through their hook points."""
        hooks = self.reverse_gate_hooks if backward else self.gate_hooks
        return {g: hooks[layer][f"hook_{g}"](v) for g, v in states.items()}


class AdditiveAttention(nn.Module):
    """Bahdanau's score e_tj = vᵀ tanh(W s + U hⱼ): W [d_attention, d_hidden], U [d_attention, d_annotation],
    v [d_attention]. With ``location`` (Chorowski et al. 2015) also + V f_tj, f = F ∗ α_{t−1}: F [filters, 1, width]
    (a 1-D convolution over source positions), V [d_attention, filters]."""

    def __init__(self, d_hidden: int, d_annotation: int, d_attention: int, location: bool = False):
        super().__init__()
        self.W = nn.Linear(d_hidden, d_attention, bias=False)
        self.U = nn.Linear(d_annotation, d_attention, bias=False)
        self.v = nn.Parameter(torch.randn(d_attention) / d_attention ** 0.5)
        self.location = location
        if location:
            self.F = nn.Conv1d(1, LOCATION_FILTERS, LOCATION_WIDTH, padding=LOCATION_WIDTH // 2, bias=False)
            self.V = nn.Linear(LOCATION_FILTERS, d_attention, bias=False)
        self.hook_scores, self.hook_pattern = HookPoint(), HookPoint()

    def scores(self, query: torch.Tensor, keys: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        """query s [batch, d_hidden], keys U·h [batch, src, d_attention], the previous step's weights α_{t−1}
        [batch, src] (location-aware only) -> e [batch, src]."""
        inside = self.W(query)[:, None, :] + keys  # [batch, src, d_attention]
        if self.location:
            features = self.F(previous[:, None, :]).transpose(1, 2)  # [batch, 1, src] -> [batch, src, filters]
            inside = inside + self.V(features)
        return torch.tanh(inside) @ self.v


class DotAttention(nn.Module):
    """Luong's dot score e_tj = sₜ·hⱼ (no weights)."""

    def __init__(self):
        super().__init__()
        self.hook_scores, self.hook_pattern = HookPoint(), HookPoint()


def _masked(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Scores with −inf where the source is padding; ``mask`` [batch, src] True for real tokens."""
    if mask is None:
        return scores
    return scores.masked_fill(~(mask[:, None, :] if scores.dim() == 3 else mask), float("-inf"))


class RecurrentSeq2Seq(HookedModel):
    """The model a :class:`Seq2SeqConfig` describes; ``forward(source, decoder_inputs)`` -> logits."""

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = cfg = config
        feed = cfg.d_annotation if cfg.feeds_context else 0
        self.encoder = RecurrentStack(cfg, cfg.d_embed, cfg.bidirectional)
        self.decoder = RecurrentStack(cfg, cfg.d_embed + feed)
        if cfg.bidirectional:  # W_init: both directions' final states -> the decoder's start state, per layer
            self.bridge = nn.ModuleList(nn.Linear(2 * cfg.d_hidden, cfg.d_hidden) for _ in range(cfg.n_layers))
        if cfg.feeds_context:
            self.decoder.attn = AdditiveAttention(cfg.d_hidden, cfg.d_annotation, cfg.attention_width,
                                                  location=cfg.attention == "location")
        elif cfg.attention == "dot":
            self.decoder.attn = DotAttention()
        self.decoder.hook_context = HookPoint()
        if cfg.attention != "none":
            self.combine = nn.Linear(cfg.d_hidden + cfg.d_annotation, cfg.d_hidden)  # W_c [sₜ; cₜ]
        self.unembed = nn.Linear(cfg.d_hidden, cfg.d_vocab)

    # ----------------------------------------------------------------- names and weights
    @property
    def W_E(self) -> torch.Tensor:
        """The encoder's token embeddings ``[d_vocab, d_embed]``."""
        return self.encoder.embed.weight

    @property
    def W_U(self) -> torch.Tensor:
        """Unembedding ``[d_hidden, d_vocab]``."""
        return self.unembed.weight.T

    def hook_points(self) -> dict[str, HookPoint]:
        points = {}
        for name, module in self.named_modules():
            if isinstance(module, HookPoint):
                points[name.replace(".reverse_gate_hooks.", ".rnn_reverse.", 1)
                       .replace(".gate_hooks.", ".rnn.", 1)] = module
        return points

    def pad_mask(self, tokens: torch.Tensor) -> torch.Tensor | None:
        """``[batch, src]`` True for real source tokens; None without a pad id."""
        return None if self.config.pad_id is None else tokens != self.config.pad_id

    # ----------------------------------------------------------------- encoder
    def encode(self, tokens: torch.Tensor, explicit: bool = False) -> tuple[torch.Tensor, State]:
        """tokens [batch, src] -> encoder states [batch, src, d_annotation] and the decoder's start state per
        layer (the encoder's final state, or its bridge from both directions)."""
        mask = self.pad_mask(tokens)
        lengths = (mask.long().sum(dim=1).clamp(min=1) if mask is not None
                   else torch.full((tokens.shape[0],), tokens.shape[1], device=tokens.device))  # [batch]
        x = self.encoder.hook_embed(self.encoder.embed(tokens))  # [batch, src, d_embed]
        if explicit:
            x, final = self._replay_encoder(x, mask, lengths)
        elif mask is None:
            x, last_state = self.encoder.rnn(x)
            final = self._final_states(last_state)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, last_state = self.encoder.rnn(packed)
            x, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])  # [batch, src, d]
            final = self._final_states(last_state)
        return x, self._start_state(final)

    def _final_states(self, last_state) -> State:
        """torch's h_n (and c_n) [layers × directions, batch, d_hidden] as lists, forward direction first."""
        h_n, c_n = last_state if self.config.cell == "lstm" else (last_state, None)
        return {"h": list(h_n.unbind(0)), "c": list(c_n.unbind(0)) if c_n is not None else []}

    def _replay_encoder(self, x: torch.Tensor, mask: torch.Tensor | None,
                        lengths: torch.Tensor) -> tuple[torch.Tensor, State]:
        """The encoder through the explicit cells; the final states in torch's h_n order."""
        cfg = self.config
        last = torch.arange(x.shape[0], device=x.device), lengths - 1
        final: State = {"h": [], "c": []}
        for layer in range(cfg.n_layers):
            states = self.encoder.record(layer, replay_layer(cfg.cell, self.encoder.rnn, layer, x))
            directions = [states]
            if cfg.bidirectional:
                read = replay_layer(cfg.cell, self.encoder.rnn, layer, reverse_real_steps(x, mask), suffix="_reverse")
                back = {g: reverse_real_steps(v, mask) for g, v in read.items()}  # back in source order
                directions.append(read)
                states = {**states, "h": torch.cat([states["h"], self.encoder.record(layer, back, True)["h"]], -1)}
            for direction in directions:  # the last real step of each direction's own reading
                final["h"].append(direction["h"][last])
                if cfg.cell == "lstm":
                    final["c"].append(direction["c"][last])
            x = states["h"]  # [batch, src, d_annotation]
        return x, final

    def _start_state(self, final: State) -> State:
        """The decoder's start state from the encoder's final states (bridged when bidirectional)."""
        if not self.config.bidirectional:
            return final
        h = [torch.tanh(bridge(torch.cat(final["h"][2 * layer:2 * layer + 2], dim=-1)))
             for layer, bridge in enumerate(self.bridge)]
        return {"h": h, "c": [torch.zeros_like(v) for v in h] if self.config.cell == "lstm" else []}

    # ----------------------------------------------------------------- decoder
    def forward(self, tokens: torch.Tensor, decoder_tokens: torch.Tensor, explicit: bool = False) -> torch.Tensor:
        """Teacher-forced logits: source [batch, src], decoder inputs ``<bos> y₁ … y_{T−1}`` [batch, dec] ->
        [batch, dec, d_vocab] (position t predicts yₜ)."""
        encoded, final = self.encode(tokens, explicit)
        mask = self.pad_mask(tokens)
        y = self.decoder.hook_embed(self.decoder.embed(decoder_tokens))  # [batch, dec, d_embed]
        if self.config.feeds_context:
            s, context = self._additive_decoder(y, encoded, final, mask)
        else:
            s = self._fused_decoder(y, final, explicit)  # [batch, dec, d_hidden]
            context = self._dot_context(s, encoded, mask) if self.config.attention == "dot" else \
                final["h"][-1][:, None, :].expand_as(s)  # the one context vector, the same at every step
        context = self.decoder.hook_context(context)
        if self.config.attention == "none":
            return self.unembed(s)
        return self.unembed(torch.tanh(self.combine(torch.cat([s, context], dim=-1))))  # [batch, dec, d_vocab]

    def _fused_decoder(self, y: torch.Tensor, final: State, explicit: bool) -> torch.Tensor:
        cfg = self.config
        if explicit:
            x = y
            for layer in range(cfg.n_layers):
                start = {"h": final["h"][layer], **({"c": final["c"][layer]} if cfg.cell == "lstm" else {})}
                states = self.decoder.record(layer, replay_layer(cfg.cell, self.decoder.rnn, layer, x,
                                                                 initial=start))
                x = states["h"]
            return x
        h0 = torch.stack(final["h"])  # [layers, batch, d_hidden]
        out, _ = self.decoder.rnn(y, (h0, torch.stack(final["c"])) if cfg.cell == "lstm" else h0)
        return out

    def _dot_context(self, s: torch.Tensor, encoded: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Luong's dot attention for all steps at once: s [batch, dec, d], encoded [batch, src, d]."""
        attn = self.decoder.attn
        scores = attn.hook_scores(_masked(s @ encoded.transpose(1, 2), mask))  # [batch, dec, src]
        pattern = attn.hook_pattern(torch.softmax(scores, dim=-1))
        return pattern @ encoded  # [batch, dec, d_hidden]

    def _additive_decoder(self, y: torch.Tensor, encoded: torch.Tensor, final: State,
                          mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Bahdanau's decoder, one step at a time (location-aware: each score also reads α_{t−1}): returns the top
        states sₜ and contexts cₜ [batch, dec, d]."""
        cfg, attn = self.config, self.decoder.attn
        keys = attn.U(encoded)  # [batch, src, d_attention], computed once
        h, c = list(final["h"]), list(final["c"]) if cfg.cell == "lstm" else [None] * cfg.n_layers
        weights = [layer_weights(self.decoder.rnn, layer) for layer in range(cfg.n_layers)]
        steps: list[list[dict[str, torch.Tensor]]] = [[] for _ in range(cfg.n_layers)]
        scores, contexts = [], []
        alpha = encoded.new_zeros(encoded.shape[:2])  # α_{−1} = 0 [batch, src]: no step has looked anywhere yet
        for t in range(y.shape[1]):
            e = _masked(attn.scores(h[-1], keys, alpha), mask)  # [batch, src], from s_{t-1} (and α_{t−1})
            alpha = torch.softmax(e, dim=-1)
            context = (alpha[:, :, None] * encoded).sum(dim=1)  # [batch, d_hidden]
            x = torch.cat([y[:, t], context], dim=-1)  # [batch, d_embed + d_hidden]
            for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
                if layer:
                    x = functional.dropout(x, cfg.dropout, self.training)  # as the fused module between layers
                state = cell_step(cfg.cell, x @ w_ih.T + b_ih, h[layer], c[layer], w_hh, b_hh)
                h[layer], c[layer] = state["h"], state.get("c")
                steps[layer].append(state)
                x = state["h"]
            scores.append(e)
            contexts.append(context)
        for layer in range(cfg.n_layers):
            top = self.decoder.record(layer, {g: torch.stack([s[g] for s in steps[layer]], dim=1)
                                              for g in GATE_NAMES[cfg.cell]})
        attn.hook_pattern(torch.softmax(attn.hook_scores(torch.stack(scores, dim=1)), dim=-1))  # [batch, dec, src]
        return top["h"], torch.stack(contexts, dim=1)

    def _cached_forward(self, tokens: torch.Tensor, decoder_tokens: torch.Tensor) -> torch.Tensor:
        return self.forward(tokens, decoder_tokens, explicit=True)
