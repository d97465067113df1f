"""What a fine-tuning run adapts and how: the method, the pooling, LoRA's rank, scale and projections."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

METHODS = ("probe", "head", "bitfit", "lora", "full")
METHOD_TITLES = {
    "probe": "Linear probe (encoder frozen, one linear layer)",
    "head": "Head only (encoder frozen, a two-layer head)",
    "bitfit": "BitFit (every bias, and the head)",
    "lora": "LoRA (low-rank adapters, and the head)",
    "full": "Full fine-tuning (every weight)",
}
FROZEN_ENCODER = ("probe", "head")  # methods that never backpropagate into the encoder
# peft target names: our adapter's nn.Linear modules (explorer/models/pretrained/components.py)
LORA_TARGETS = {"q": "W_Q", "k": "W_K", "v": "W_V", "o": "W_O", "fc_in": "MLP in", "fc_out": "MLP out"}
POOLINGS = {"mean": "mean of the tokens", "cls": "the first token ([CLS], BERT's recipe)"}
MAX_RANK = 256
MAX_LEN = 512


@dataclass
class FinetuneConfig:
    """A classifier on a pretrained encoder ``base`` (registry name or hub id).

    ``lora_r``, ``lora_alpha``: LoRA's ΔW = (α/r)·B·A with A [r, d_in], B [d_out, r] (Hu et al. 2021), on the
    projections ``lora_targets`` of every layer. ``dropout`` applies to the pooled vector during training.
    ``max_len``: texts are cut to this many of the base's tokens (special tokens included).
    """

    base: str
    method: str = "lora"
    n_classes: int = 2
    pooling: str = "mean"
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_targets: list[str] = field(default_factory=lambda: ["q", "v"])
    dropout: float = 0.1
    max_len: int = 64

    kind = "finetune"

    def __post_init__(self) -> None:
        if not isinstance(self.base, str) or not self.base.strip():
            raise ValueError("A fine-tuning run needs the name of its pretrained base model.")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}.")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}; got {self.pooling!r}.")
        for name, value, low, high in (("n_classes", self.n_classes, 2, 10_000), ("lora_r", self.lora_r, 1, MAX_RANK),
                                       ("max_len", self.max_len, 4, MAX_LEN)):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}.")
        if isinstance(self.lora_alpha, bool) or not isinstance(self.lora_alpha, int | float) \
                or not 0 < self.lora_alpha <= 4096:
            raise ValueError(f"lora_alpha must be a number above 0 and at most 4096; got {self.lora_alpha!r}.")
        self.lora_alpha = float(self.lora_alpha)
        targets = list(self.lora_targets) if isinstance(self.lora_targets, list | tuple) else None
        if not targets or any(t not in LORA_TARGETS for t in targets) or len(set(targets)) != len(targets):
            raise ValueError(f"lora_targets must be some of {', '.join(LORA_TARGETS)} (each once); "
                             f"got {self.lora_targets!r}.")
        self.lora_targets = [t for t in LORA_TARGETS if t in targets]  # a canonical order
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}.")

    @property
    def frozen_encoder(self) -> bool:
        return self.method in FROZEN_ENCODER

    @property
    def scale(self) -> float:
        """LoRA's α / r."""
        return self.lora_alpha / self.lora_r

    def describe(self) -> str:
        """"all-MiniLM-L6-v2 · LoRA r=8 α=16 on W_Q, W_V · mean pooling"."""
        if self.method == "lora":
            where = ", ".join(LORA_TARGETS[t] for t in self.lora_targets)
            how = f"LoRA r={self.lora_r} α={self.lora_alpha:g} on {where}"
        else:
            how = METHOD_TITLES[self.method].split(" (")[0]
        return f"{self.base} · {how} · {self.pooling} pooling"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinetuneConfig:
        data = {k: v for k, v in data.items() if k != "kind"}
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"Unknown fine-tuning fields: {', '.join(sorted(unknown))}.")
        return cls(**data)
