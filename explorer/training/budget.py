"""How much memory one training step needs, estimated before anything is allocated.

Backpropagation keeps every activation of the forward pass until the backward pass has used it, so a step's
memory grows with batch × positions × (what each layer stores per token), plus the logits. The estimate
counts the large tensors (float32) and is meant to refuse absurd settings on a shared server, not to be exact.
"""

from __future__ import annotations

from explorer.data.dataset import TaskData
from explorer.models.config import GATES, ModelConfig, RecurrentConfig, Seq2SeqConfig
from explorer.training.config import TrainConfig

MAX_STEP_BYTES = 3 * 1024**3  # one step of one run; a classroom server runs many
FLOAT_BYTES = 4


def positions_per_example(data: TaskData, train: TrainConfig) -> int:
    """Tokens in one training example: the window of a text stream, else the longest example."""
    return train.seq_len + 1 if data.is_stream else max(1, data.max_length())


def step_memory_bytes(config: ModelConfig, batch_size: int, positions: int) -> int:
    """Activations kept for backpropagation by one step on ``[batch_size, positions]`` tokens, in bytes."""
    if isinstance(config, Seq2SeqConfig):  # both stacks, plus the attention pattern of every decoder step
        per_layer = (2 * GATES[config.cell] + 4) * config.d_hidden
        per_token = 2 * (config.d_embed + config.n_layers * per_layer) + 3 * positions + 4 * config.d_hidden
        out = config.d_vocab
    elif isinstance(config, RecurrentConfig):
        per_layer = (2 * GATES[config.cell] + 4) * config.d_hidden  # gates, cell and hidden states, their grads
        per_token = config.d_embed + config.n_layers * per_layer * (2 if config.bidirectional else 1)
        out = config.d_vocab if config.head in ("lm", "mlm") else 0
    else:
        d = config.d_model
        mlp = 0 if config.attn_only else 4 * config.d_mlp
        pattern = 3 * config.n_heads * positions  # scores, pattern and its gradient, per query
        stacks = 2 if config.encoder_decoder else 1
        per_token = d + stacks * config.n_layers * (16 * d + mlp + pattern)
        out = config.d_vocab if config.head in ("lm", "mlm") else 0
    return FLOAT_BYTES * batch_size * positions * (per_token + 3 * out)  # logits, softmax and their gradient


def check_step_memory(config: ModelConfig, train: TrainConfig, data: TaskData) -> None:
    """Raise ``ValueError`` saying what to lower when one training step would need too much memory."""
    positions = positions_per_example(data, train)
    need = step_memory_bytes(config, train.batch_size, positions)
    if need > MAX_STEP_BYTES:
        raise ValueError(f"One training step would need about {need / 1024**3:,.1f} GB for a batch of "
                         f"{train.batch_size} × {positions} tokens; this app allows "
                         f"{MAX_STEP_BYTES / 1024**3:.0f} GB. Lower the batch size, the window length or the "
                         "model's width.")
