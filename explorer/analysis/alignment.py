"""What the decoder looks at while it writes: the recurrent decoder's attention over the encoder states
(``decoder.attn.hook_pattern``) and a transformer decoder's cross-attention (``blocks.{L}.cross_attn.hook_pattern``),
for the output the model itself writes by greedy decoding (the pattern it had while writing it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.analysis.predictions import greedy_targets
from explorer.data.tokenizers import BOS
from explorer.models import Model, Seq2SeqConfig, TransformerConfig
from explorer.models.config import ATTENTION_NAMES


@dataclass
class Alignment:
    """Attention weights ``[out_pos, src_pos]`` for one source, with the output written."""

    weights: np.ndarray  # [out_pos, src_pos]; each row sums to 1
    output: list[int]  # the greedy output, one token per row
    what: str  # e.g. "additive attention" or "cross-attention, layer 1, head 2"


def has_alignment(config) -> bool:
    """Models with a decoder that attends to the source."""
    return (isinstance(config, Seq2SeqConfig) and config.attention != "none") or \
        (isinstance(config, TransformerConfig) and config.encoder_decoder)


@torch.no_grad()
def decoder_alignment(model: Model, source: list[int], n_steps: int, layer: int | None = None,
                      head: int | None = None) -> Alignment:
    """Greedy-decode ``n_steps`` tokens, then read the attention each output step paid to the source.

    Recurrent seq2seq: its one attention. Transformer: the cross-attention of ``layer`` (default: the last) and
    ``head`` (None: the mean over heads, which is *not* a weight any head used; say so when showing it).
    """
    if not has_alignment(model.config):
        raise ValueError("This model has no attention over the source (a recurrent encoder–decoder without "
                         "attention passes one vector): there is no alignment to show.")
    if not source:
        raise ValueError("The source is empty.")
    output = greedy_targets(model, [list(source)], n_steps)[0]
    src = torch.tensor([list(source)], device=next(model.parameters()).device)
    dec = torch.tensor([[BOS, *output[:-1]]], device=src.device)
    if isinstance(model.config, Seq2SeqConfig):
        _, cache = model.run_with_cache(src, dec, names_filter=lambda n: n == "decoder.attn.hook_pattern")
        weights = cache["decoder.attn.hook_pattern"][0]  # [dec_pos, enc_pos]
        what = ATTENTION_NAMES[model.config.attention]
    else:
        layer = model.config.n_layers - 1 if layer is None else layer
        name = f"blocks.{layer}.cross_attn.hook_pattern"
        _, cache = model.run_with_cache(src, dec, names_filter=lambda n: n == name)
        pattern = cache[name][0]  # [head, dec_pos, enc_pos]
        weights = pattern.mean(0) if head is None else pattern[head]
        what = f"cross-attention, layer {layer}, " + ("mean of the heads" if head is None else f"head {head}")
    return Alignment(weights.float().cpu().numpy(), output, what)


def mirror_share(weights: np.ndarray) -> float:
    """Mean weight on the mirrored source position (output t ↔ source L − 1 − t), the reverse task's alignment."""
    n_out, n_src = weights.shape
    steps = [t for t in range(n_out) if 0 <= n_src - 1 - t < n_src]
    return float(np.mean([weights[t, n_src - 1 - t] for t in steps])) if steps else float("nan")
