"""The gates of a recurrent encoder–decoder, recorded as the Inside-the-RNN page records a single RNN's.

Either side can be stepped through: the encoder reading the source (``encoder.rnn.{L}``; with a bidirectional
encoder also its backward direction ``encoder.rnn_reverse.{L}``, shown in its own reading order, from the last
token), or the decoder reading ``<bos> y₁ … y_{T−1}`` — the true target under teacher forcing, or its own previous
outputs as in greedy decoding. The decoder's step t predicts yₜ; it starts from the encoder's final state.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.analysis.gates import GateRecord
from explorer.analysis.predictions import greedy_targets
from explorer.data.tokenizers import BOS
from explorer.models import RecurrentSeq2Seq

SIDES = ("encoder", "encoder backward", "decoder")


@torch.no_grad()
def record_seq2seq(model: RecurrentSeq2Seq, source: list[int], target: list[int] | None, side: str,
                   n_steps: int | None = None) -> tuple[GateRecord, list[int]]:
    """A :class:`GateRecord` of one side for one example, and the tokens that side reads (its steps, in order).

    ``target`` given: the decoder reads it (teacher forcing); None: it reads its own greedy outputs for ``n_steps``
    steps (default: the source's length)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}.")
    if side == "encoder backward" and not model.config.bidirectional:
        raise ValueError("This encoder reads one way only.")
    if not source:
        raise ValueError("Nothing to record: the source is empty.")
    cfg = model.config
    written = list(target) if target else greedy_targets(model, [list(source)], n_steps or len(source))[0]
    src = torch.tensor([list(source)])
    dec = torch.tensor([[BOS, *written[:-1]]])
    logits, cache = model.run_with_cache(src, dec)
    prefix = {"encoder": "encoder.rnn", "encoder backward": "encoder.rnn_reverse", "decoder": "decoder.rnn"}[side]
    layers = []
    for layer in range(cfg.n_layers):
        values = {name[len(f"{prefix}.{layer}.hook_"):]: tensor[0].float().numpy()  # [pos, d_hidden]
                  for name, tensor in cache.items() if name.startswith(f"{prefix}.{layer}.hook_")}
        if side == "encoder backward":
            values = {k: v[::-1].copy() for k, v in values.items()}  # in the order it reads: from the last token
        if cfg.cell == "gru":
            values["update"] = 1.0 - values["z"]
        layers.append(values)
    if side == "decoder":
        _, start = model.encode(src, explicit=True)
        initial = [{"h": start["h"][layer][0].numpy(),
                    **({"c": start["c"][layer][0].numpy()} if cfg.cell == "lstm" else {})}
                   for layer in range(cfg.n_layers)]
        ids = (BOS, *written[:-1])
        return GateRecord(cfg.cell, ids, layers, logits[0].float().numpy(), initial), written
    ids = tuple(source) if side == "encoder" else tuple(source)[::-1]
    return GateRecord(cfg.cell, ids, layers, np.zeros((len(ids), 0), dtype=np.float32)), written
