"""What a pretrained checkpoint is, in the few numbers and flags the forward pass and the pages need."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PretrainedConfig:
    """Shape and conventions of a converted checkpoint (TransformerLens's names: n_layers, d_model, d_head…).

    ``architecture``: "bert" | "roberta" | "distilbert" (encoders, post-LayerNorm), "gpt2" (decoder, pre-LayerNorm,
    learned positions) or "llama" (decoder, pre-RMSNorm, rotary positions, grouped-query attention, SwiGLU).
    ``n_kv_heads`` < ``n_heads`` means grouped-query attention: ``n_heads // n_kv_heads`` query heads share one
    key/value head. ``n_ctx`` is the longest input the model was trained on (its position table for learned
    positions). Special token ids are None when the tokenizer has no such token.
    """

    name: str
    architecture: str
    n_layers: int
    n_heads: int
    d_model: int
    d_head: int
    d_mlp: int
    d_vocab: int
    n_ctx: int
    causal: bool
    positional: str  # "learned" | "rotary"
    n_kv_heads: int | None = None  # None: as many as query heads
    norm: str = "layernorm"  # "layernorm" | "rmsnorm"
    post_ln: bool = False  # BERT: LayerNorm after each residual addition (Vaswani's original order)
    eps: float = 1e-5
    act_fn: str = "gelu"  # "gelu" (erf), "gelu_new" (tanh approximation), "relu", "silu"
    gated_mlp: bool = False  # SwiGLU: W_out (act(x W_gate) * x W_in)
    rotary_base: float | None = None
    pos_offset: int = 0  # RoBERTa numbers positions from padding_idx + 1
    token_types: bool = False  # BERT adds a token-type (segment) embedding; we use segment 0
    attn_scale_by_layer: bool = False  # GPT-2 option: scores also divided by (layer + 1)
    cls_id: int | None = None
    sep_id: int | None = None
    bos_id: int | None = None
    eos_id: int | None = None
    pad_id: int | None = None
    prepend_bos: bool = False  # GPT-2: start every input with <|endoftext|>, as TransformerLens does
    has_lm_head: bool = False  # False: logits use the tied W_Eᵀ (MiniLM ships no language-model head)
    source: str = ""  # where the weights came from, for the page

    def __post_init__(self) -> None:
        if self.n_kv_heads is None:
            object.__setattr__(self, "n_kv_heads", self.n_heads)
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"{self.n_heads} query heads cannot share {self.n_kv_heads} key/value heads evenly.")

    @property
    def kind(self) -> str:
        """"decoder" (causal) or "encoder"."""
        return "decoder" if self.causal else "encoder"

    @property
    def group_size(self) -> int:
        """Query heads per key/value head (1 without grouped-query attention)."""
        return self.n_heads // self.n_kv_heads

    @property
    def special_ids(self) -> set[int]:
        return {i for i in (self.cls_id, self.sep_id, self.bos_id, self.eos_id, self.pad_id) if i is not None}

    def describe(self) -> str:
        """One line for the page: "BERT encoder · 6 layers × 12 heads · d_model 384 · context 512"."""
        heads = f"{self.n_heads} heads" if self.n_kv_heads == self.n_heads else \
            f"{self.n_heads} query heads sharing {self.n_kv_heads} key/value heads"
        return (f"{self.architecture.upper() if len(self.architecture) < 5 else self.architecture.capitalize()} "
                f"{self.kind} · {self.n_layers} layers × {heads} · d_model {self.d_model} · d_head {self.d_head} · "
                f"{self.positional} positions · context {self.n_ctx} tokens")
