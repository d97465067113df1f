"""Model configurations: plain dataclasses that check themselves.

Every check raises ``ValueError`` with a message that says what to change, so a form in the app can
show it next to the offending field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

CELLS = ("rnn", "gru", "lstm")
HEADS = ("lm", "classifier", "mlm")  # mlm: a masked language model (transformer encoders only)
POOLINGS = ("mean", "last")
POSITIONALS = ("sinusoidal", "learned", "rotary", "none")
NORM_POSITIONS = ("pre", "post")
ACTIVATIONS = ("gelu", "relu")
ATTENTIONS = ("none", "additive", "location", "dot")  # recurrent seq2seq: none, Bahdanau et al. 2015, Chorowski et
# al. 2015 (additive plus where the previous step looked), Luong et al. 2015
ATTENTION_NAMES = {"none": "no attention (one context vector)", "additive": "additive attention (Bahdanau)",
                   "location": "location-aware attention (Chorowski)", "dot": "dot-product attention (Luong)"}
LOCATION_FILTERS, LOCATION_WIDTH = 8, 7  # location-aware attention: F, 8 filters of 7 positions over α_{t−1}
EMBEDDING_INITS = ("random", "glove")

# Limits that keep a shared classroom server alive; generous for toy models.
MAX_VOCAB = 60_000
MAX_WIDTH = 2048
MAX_LAYERS = 12
MAX_CTX = 4096
MAX_PARAMETERS = 30_000_000  # about 0.5 GB with gradients and Adam's moments: a toy model, not a pretrained one
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _positive(name: str, value: int, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}.")
    if value > maximum:
        raise ValueError(f"{name} = {value} is too large for this app; use at most {maximum}.")


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")


def _check_head(head: str, n_classes: int, pooling: str) -> None:
    _one_of("head", head, HEADS)
    _one_of("pooling", pooling, POOLINGS)
    if head == "classifier":
        _positive("n_classes", n_classes, MAX_VOCAB)
        if n_classes < 2:
            raise ValueError("A classifier needs n_classes of at least 2.")


def _check_size(config: ModelConfig) -> None:
    n = parameter_estimate(config)
    if n > MAX_PARAMETERS:
        raise ValueError(f"This model would have about {n / 1e6:,.0f} M parameters; this app trains models of up to "
                         f"{MAX_PARAMETERS / 1e6:,.0f} M. Make it narrower, shallower or use a smaller vocabulary.")


def parameter_estimate(config: ModelConfig) -> int:
    """The number of trainable parameters ``config`` builds (exact up to LayerNorm and bias terms), computed
    without building anything, so that absurd sizes are refused before memory is spent on them."""
    if isinstance(config, Seq2SeqConfig):
        g, h, e, a = GATES[config.cell], config.d_hidden, config.d_embed, config.d_annotation
        directions = 2 if config.bidirectional else 1
        extra = a if config.feeds_context else 0  # the context is part of the decoder's input
        encoder = directions * sum(g * h * (w + h + 2) for w in [e] + [a] * (config.n_layers - 1))
        decoder = sum(g * h * (w + h + 2) for w in [e + extra] + [h] * (config.n_layers - 1))
        attention = (h + a + 1) * config.attention_width if config.feeds_context else 0
        if config.attention == "location":  # F [filters, 1, width] and V [d_attention, filters]
            attention += LOCATION_FILTERS * (LOCATION_WIDTH + config.attention_width)
        combine = (h + a + 1) * h if config.attention != "none" else 0
        bridge = config.n_layers * (2 * h + 1) * h if config.bidirectional else 0
        return 2 * config.d_vocab * e + encoder + decoder + attention + combine + bridge + (h + 1) * config.d_vocab
    if isinstance(config, RecurrentConfig):
        g, h = GATES[config.cell], config.d_hidden
        directions = 2 if config.bidirectional else 1
        layers = directions * sum(g * h * (width + h + 2)
                                  for width in [config.d_embed] + [directions * h] * (config.n_layers - 1))
        if config.head == "lm":
            head = (h + 1) * config.d_vocab
        else:
            out = 1 if config.sigmoid_output else config.n_classes
            dense, h = config.d_classifier_hidden, directions * h
            head = (h + 1) * dense + (dense + 1) * out if dense else (h + 1) * out
        return config.d_vocab * config.d_embed + layers + head
    d, inner = config.d_model, config.n_heads * (config.d_head or config.d_model // config.n_heads)
    attention = 4 * d * inner + 3 * inner + d
    mlp = 0 if config.attn_only else 2 * d * config.d_mlp + config.d_mlp + d
    block = attention + mlp + 4 * d
    blocks = config.n_layers * block
    if config.encoder_decoder:
        blocks += config.n_layers * (block + attention + 2 * d)  # the decoder: cross-attention in every block
    positions = config.n_ctx * d if config.positional == "learned" else 0
    head = (d + 1) * (config.d_vocab if config.head in ("lm", "mlm") else config.n_classes)
    return config.d_vocab * d + positions + blocks + head


class _Serializable:
    """``to_dict`` / ``from_dict`` for config dataclasses (JSON-safe, unknown keys rejected)."""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        data = {k: v for k, v in data.items() if k != "kind"}
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown config fields for {cls.__name__}: {', '.join(sorted(unknown))}.")
        return cls(**data)


@dataclass
class RecurrentConfig(_Serializable):
    """An Elman RNN, GRU or LSTM with a language-model or classifier head.

    The lecture's Keras lab model is ``RecurrentConfig.lecture_lab()``: embedding(4) -> LSTM(4) reading
    backwards -> global average pooling -> dense(4, relu) -> dense(1, sigmoid).
    """

    cell: str = "lstm"
    d_vocab: int = 32
    d_embed: int = 32
    d_hidden: int = 64
    n_layers: int = 1
    head: str = "lm"
    n_classes: int = 2
    pooling: str = "last"
    d_classifier_hidden: int = 0  # 0: linear classifier; >0: dense(relu) layer before the output
    sigmoid_output: bool = False  # binary classifier with one sigmoid unit (as in Keras)
    dropout: float = 0.0
    forget_bias: float = 0.0  # LSTM only: added to the forget gate's initial bias (Keras' unit_forget_bias: 1)
    go_backwards: bool = False  # classifiers only: read each input from its last real token to its first (Keras)
    bidirectional: bool = False  # classifiers only: a second layer reads backwards; states [→hₜ; ←hₜ] (Keras'
    # bidirectional(layer_lstm(…)))
    hh_init_scale: float = 1.0  # W_hh starts as torch's initialisation times this (its spectral radius scales too)
    freeze_embedding: bool = False  # the embedding table is not trained (e.g. GloVe vectors kept as they are)
    embedding_init: str = "random"  # random | glove: where the embedding table started (set by the trainer's caller)
    pad_id: int | None = None

    kind = "recurrent"

    def __post_init__(self) -> None:
        _one_of("cell", self.cell, CELLS)
        _positive("d_vocab", self.d_vocab, MAX_VOCAB)
        _positive("d_embed", self.d_embed, MAX_WIDTH)
        _positive("d_hidden", self.d_hidden, MAX_WIDTH)
        _positive("n_layers", self.n_layers, 2)
        _check_head(self.head, self.n_classes, self.pooling)
        if self.head == "mlm":
            raise ValueError("A masked language model reads both sides of each [MASK]: use a transformer encoder.")
        if self.d_classifier_hidden < 0 or self.d_classifier_hidden > MAX_WIDTH:
            raise ValueError(f"d_classifier_hidden must be between 0 and {MAX_WIDTH}.")
        if self.sigmoid_output and (self.head != "classifier" or self.n_classes != 2):
            raise ValueError("sigmoid_output is for binary classifiers only (head='classifier', n_classes=2).")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        if not -10.0 <= self.forget_bias <= 10.0:
            raise ValueError(f"forget_bias must be between -10 and 10, got {self.forget_bias}.")
        if self.pad_id is not None and not 0 <= self.pad_id < self.d_vocab:
            raise ValueError(f"pad_id {self.pad_id} is outside the vocabulary (size {self.d_vocab}).")
        if self.go_backwards and self.head != "classifier":
            raise ValueError("go_backwards (reading each input from its end) is for classifiers only: a language "
                             "model reading backwards would be predicting the previous token.")
        if self.bidirectional and self.head != "classifier":
            raise ValueError("A bidirectional layer reads the whole input, the future included: for classifiers "
                             "only (a language model would see the token it has to predict).")
        if self.bidirectional and self.go_backwards:
            raise ValueError("A bidirectional model already reads the input both ways: switch off go_backwards.")
        if isinstance(self.hh_init_scale, bool) or not isinstance(self.hh_init_scale, int | float) \
                or not 0 < self.hh_init_scale <= 20:
            raise ValueError(f"hh_init_scale must be a number above 0 and at most 20; got {self.hh_init_scale!r}.")
        _one_of("embedding_init", self.embedding_init, EMBEDDING_INITS)
        _check_size(self)

    @classmethod
    def lecture_lab(cls, d_vocab: int, pad_id: int | None = None) -> RecurrentConfig:
        """The lecture's Keras lab: embedding(4), LSTM(4, go_backwards), mean pool, dense(4, relu), dense(1, sigmoid).

        Keras' LSTM starts its forget gate's bias at 1 (``unit_forget_bias=True``); so does this one. The lab's
        ``layer_lstm(4, return_sequences = TRUE, go_backwards = TRUE)`` reads each review from its last word.
        """
        return cls(
            cell="lstm", d_vocab=d_vocab, d_embed=4, d_hidden=4, n_layers=1, head="classifier",
            n_classes=2, pooling="mean", d_classifier_hidden=4, sigmoid_output=True, forget_bias=1.0,
            go_backwards=True, pad_id=pad_id,
        )


@dataclass
class TransformerConfig(_Serializable):
    """A small transformer (Vaswani et al. 2017).

    ``causal=True, head='lm'``: decoder-only language model (GPT). ``causal=False,
    head='classifier'``: encoder-only classifier (BERT-like). ``causal=False, head='mlm'``: an encoder
    pre-trained as a masked language model (BERT), predicting the token under each ``mask_id`` at every position.
    ``encoder_decoder=True``: an encoder stack plus a causal decoder stack whose blocks also cross-attend to the
    encoder output.
    ``norm_position``: "pre" (GPT-2: x + F(LN(x)), a final LayerNorm before the unembedding) or "post"
    (Vaswani et al. 2017 and BERT, "Add & Norm": LN(x + F(x)) after every sub-layer, no final LayerNorm).
    Checkpoints saved before the field existed load as "pre", which is what they were.
    """

    d_vocab: int = 32
    n_ctx: int = 64
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_mlp: int = 256
    d_head: int | None = None  # default d_model // n_heads
    attn_only: bool = False
    layer_norm: bool = True
    norm_position: str = "pre"  # "pre" | "post" (only matters with layer_norm)
    positional: str = "learned"
    rotary_base: float = 10000.0
    causal: bool = True
    head: str = "lm"
    n_classes: int = 2
    pooling: str = "mean"
    encoder_decoder: bool = False
    act_fn: str = "gelu"
    dropout: float = 0.0
    pad_id: int | None = None
    mask_id: int | None = None  # head='mlm': the [MASK] token (the app's tokenizers put it after their vocabulary)

    kind = "transformer"

    def __post_init__(self) -> None:
        _positive("d_vocab", self.d_vocab, MAX_VOCAB)
        _positive("n_ctx", self.n_ctx, MAX_CTX)
        _positive("d_model", self.d_model, MAX_WIDTH)
        _positive("n_heads", self.n_heads, 64)
        _positive("n_layers", self.n_layers, MAX_LAYERS)
        _one_of("positional", self.positional, POSITIONALS)
        _one_of("act_fn", self.act_fn, ACTIVATIONS)
        _one_of("norm_position", self.norm_position, NORM_POSITIONS)
        _check_head(self.head, self.n_classes, self.pooling)
        if self.d_head is None:
            if self.d_model % self.n_heads:
                raise ValueError(
                    f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads}); "
                    f"try d_model = {self.n_heads * max(1, round(self.d_model / self.n_heads))}."
                )
            self.d_head = self.d_model // self.n_heads
        _positive("d_head", self.d_head, MAX_WIDTH)
        if not self.attn_only:
            _positive("d_mlp", self.d_mlp, 4 * MAX_WIDTH)
        if self.positional == "rotary":
            if self.d_head % 2:
                raise ValueError(f"Rotary encoding rotates pairs of dimensions: d_head ({self.d_head}) must be even.")
            if self.rotary_base <= 1:
                raise ValueError(f"rotary_base must be greater than 1, got {self.rotary_base}.")
        if self.encoder_decoder and self.head != "lm":
            raise ValueError("An encoder-decoder model predicts target tokens: use head='lm'.")
        if self.encoder_decoder and not self.causal:
            raise ValueError("The decoder of an encoder-decoder model must be causal (causal=True).")
        if self.head == "lm" and not self.causal and not self.encoder_decoder:
            raise ValueError("A language model must be causal; use head='classifier' for a bidirectional encoder, "
                             "or head='mlm' for a masked language model.")
        if self.head == "mlm":
            if self.causal or self.encoder_decoder:
                raise ValueError("A masked language model reads both sides of each [MASK]: set causal=False and no "
                                 "decoder.")
            if not isinstance(self.mask_id, int) or isinstance(self.mask_id, bool) \
                    or not 0 <= self.mask_id < self.d_vocab:
                raise ValueError(f"A masked language model needs mask_id, a token id below d_vocab ({self.d_vocab}); "
                                 f"got {self.mask_id!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        if self.pad_id is not None and not 0 <= self.pad_id < self.d_vocab:
            raise ValueError(f"pad_id {self.pad_id} is outside the vocabulary (size {self.d_vocab}).")
        _check_size(self)

    @property
    def post_ln(self) -> bool:
        """True when LayerNorm follows each residual addition (as the pretrained adapter's ``post_ln``)."""
        return self.layer_norm and self.norm_position == "post"


@dataclass
class Seq2SeqConfig(_Serializable):
    """A recurrent encoder–decoder (Sutskever et al. 2014; Cho et al. 2014) for source → target tasks, with
    ``attention`` none (the decoder starts from the encoder's last state and sees nothing else: the bottleneck),
    ``additive`` (Bahdanau et al. 2015: score vᵀ tanh(W s + U h), from the decoder's previous state, the context
    fed into the decoder cell), ``location`` (Chorowski et al. 2015: the additive score plus V f, f = F ∗ α_{t−1},
    features of where the previous step looked) or ``dot`` (Luong et al. 2015: score sₜ·hⱼ from the decoder's
    current state).
    The decoder has as many layers as the encoder; layer L starts from the encoder's final state of layer L.
    """

    cell: str = "gru"
    attention: str = "additive"
    d_vocab: int = 32
    d_embed: int = 32
    d_hidden: int = 64
    n_layers: int = 1
    d_attention: int = 0  # additive and location only: width of W s + U h; 0 means d_hidden
    bidirectional: bool = False  # the encoder reads both ways: hⱼ = [→hⱼ; ←hⱼ] (as Bahdanau et al.'s)
    dropout: float = 0.0
    pad_id: int | None = None

    kind = "seq2seq"
    head = "lm"  # predicts tokens (what the token-level code of the app reads)
    go_backwards = False
    encoder_decoder = True

    def __post_init__(self) -> None:
        _one_of("cell", self.cell, CELLS)
        _one_of("attention", self.attention, ATTENTIONS)
        _positive("d_vocab", self.d_vocab, MAX_VOCAB)
        _positive("d_embed", self.d_embed, MAX_WIDTH)
        _positive("d_hidden", self.d_hidden, MAX_WIDTH)
        _positive("n_layers", self.n_layers, 2)
        if not isinstance(self.d_attention, int) or not 0 <= self.d_attention <= MAX_WIDTH:
            raise ValueError(f"d_attention must be a whole number from 0 (= d_hidden) to {MAX_WIDTH}.")
        if self.bidirectional and self.attention == "dot":
            raise ValueError("Dot-product attention compares sₜ with hⱼ, so both need d_hidden numbers; a "
                             "bidirectional encoder gives 2 × d_hidden. Use additive attention with it.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        if self.pad_id is not None and not 0 <= self.pad_id < self.d_vocab:
            raise ValueError(f"pad_id {self.pad_id} is outside the vocabulary (size {self.d_vocab}).")
        _check_size(self)

    @property
    def attention_width(self) -> int:
        return self.d_attention or self.d_hidden

    @property
    def feeds_context(self) -> bool:
        """Bahdanau's decoder (additive or location-aware): cₜ is scored from s_{t−1} and enters the cell."""
        return self.attention in ("additive", "location")

    @property
    def d_annotation(self) -> int:
        """Size of an encoder state hⱼ (both directions' when bidirectional)."""
        return 2 * self.d_hidden if self.bidirectional else self.d_hidden


ModelConfig = RecurrentConfig | TransformerConfig | Seq2SeqConfig


def config_from_dict(data: dict[str, Any]) -> ModelConfig:
    """Rebuild a config from ``to_dict`` output (used by checkpoints)."""
    kind = data.get("kind")
    if kind == "recurrent":
        return RecurrentConfig.from_dict(data)
    if kind == "transformer":
        return TransformerConfig.from_dict(data)
    if kind == "seq2seq":
        return Seq2SeqConfig.from_dict(data)
    raise ValueError(f"Unknown model kind {kind!r}; expected 'recurrent', 'transformer' or 'seq2seq'.")
