"""A classifier on a pretrained encoder: pool its last residual stream, map it to classes.

    h = encoder(tokens)                    [batch, pos, d_model]   (padding masked out of every attention)
    v = h[:, 0]  or  mean over real tokens [batch, d_model]        ([CLS] pooling: Devlin et al. 2019)
    logits = head(dropout(v))              [batch, n_classes]

The encoder is a copy of the shared pretrained model that shares every tensor it does not train and owns copies
of the ones it does (BitFit: the biases; full: everything; LoRA: peft's adapters on top of shared weights), so
training never touches the copy other sessions read.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext

import torch
from peft import LoraConfig, inject_adapter_in_model
from torch import nn

from explorer.models.finetune.config import FinetuneConfig
from explorer.models.pretrained.model import PretrainedModel

NOT_ON_THE_PATH = ("head_transform", "unembed")  # the language-model head: a classifier never reads it


def on_classification_path(name: str) -> bool:
    """False for the encoder's language-model head (present in masked-LM checkpoints, unused here)."""
    return not name.startswith(NOT_ON_THE_PATH)


def is_bias(name: str) -> bool:
    """Bias terms: of every linear map (``….bias``) and of every LayerNorm (β, ``….b``), as in BitFit."""
    return name.rsplit(".", 1)[-1] in ("bias", "b")


def trained_encoder_parameters(base: PretrainedModel, method: str) -> list[str]:
    """Names of the base's own parameters a method trains (LoRA adds new ones instead)."""
    names = [n for n, _ in base.named_parameters() if on_classification_path(n)]
    if method == "full":
        return names
    if method == "bitfit":
        return [n for n in names if is_bias(n)]
    return []


def _shared_copy(module: nn.Module, keep: set[str]) -> nn.Module:
    """A deep copy of ``module`` that shares every parameter not named in ``keep`` (and the tokenizer) with it."""
    memo = {id(p): p for n, p in module.named_parameters() if n not in keep}
    tokenizer = getattr(module, "tokenizer", None)
    if tokenizer is not None:
        memo[id(tokenizer)] = tokenizer
    for sub in module.modules():  # the encoder inside a classifier carries the tokenizer too
        if isinstance(sub, PretrainedModel) and sub.tokenizer is not None:
            memo[id(sub.tokenizer)] = sub.tokenizer
    return copy.deepcopy(module, memo)


def trainable_copy(base: PretrainedModel, config: FinetuneConfig) -> tuple[PretrainedModel, list[str]]:
    """(the run's own encoder, names of its trainable parameters). LoRA adapters are injected by peft."""
    trained = trained_encoder_parameters(base, config.method)
    encoder = _shared_copy(base, set(trained))
    for name, param in encoder.named_parameters():
        param.requires_grad_(name in trained)
    if config.method == "lora":
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=list(config.lora_targets),
                          lora_dropout=0.0, bias="none")
        encoder = inject_adapter_in_model(lora, encoder)
        trained = [n for n, p in encoder.named_parameters() if p.requires_grad]
    return encoder, trained


def _head(config: FinetuneConfig, d_model: int) -> nn.Sequential:
    if config.method == "head":  # BERT's pooler (dense + tanh) before the output layer
        return nn.Sequential(nn.Dropout(config.dropout), nn.Linear(d_model, d_model), nn.Tanh(),
                             nn.Dropout(config.dropout), nn.Linear(d_model, config.n_classes))
    return nn.Sequential(nn.Dropout(config.dropout), nn.Linear(d_model, config.n_classes))


class EncoderClassifier(nn.Module):
    """``forward(tokens [batch, pos]) -> logits [batch, n_classes]``; ``tokens`` padded on the right with the
    encoder's pad id. ``trainable`` names the parameters the method trains (the head's always among them)."""

    def __init__(self, encoder: PretrainedModel, config: FinetuneConfig, trainable_encoder: list[str]):
        super().__init__()
        if encoder.config.causal:
            raise ValueError(f"{encoder.config.name} is a decoder: fine-tuning here is for encoders (BERT, MiniLM, "
                             "RoBERTa, DistilBERT), whose tokens see both sides.")
        if encoder.config.pad_id is None:
            raise ValueError(f"{encoder.config.name} has no padding token, so batches cannot be padded.")
        self.encoder, self.config = encoder, config
        self.head = _head(config, encoder.config.d_model)
        self.trainable = tuple(f"encoder.{n}" for n in trainable_encoder) + tuple(
            f"head.{n}" for n, _ in self.head.named_parameters())

    @property
    def pad_id(self) -> int:
        return int(self.encoder.config.pad_id)

    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """The pooled sentence vector [batch, d_model] the head reads."""
        mask = tokens != self.pad_id  # [batch, pos]
        width = max(1, int(mask.sum(dim=1).max()))
        tokens, mask = tokens[:, :width], mask[:, :width]  # right padding: drop the columns no row uses
        frozen = self.config.frozen_encoder or not torch.is_grad_enabled()
        with torch.no_grad() if frozen else nullcontext():
            hidden = self.encoder.final_hidden(tokens, mask)  # [batch, pos, d_model]
        if self.config.pooling == "cls":
            return hidden[:, 0]
        weights = mask.to(hidden.dtype).unsqueeze(-1)  # [batch, pos, 1]
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(tokens))  # [batch, n_classes]

    # ----------------------------------------------------------------- trainable parameters
    def trainable_parameters(self) -> list[nn.Parameter]:
        named = dict(self.named_parameters())
        return [named[n] for n in self.trainable]

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the trained parameters only (a LoRA run's: a few hundred KB)."""
        named = dict(self.named_parameters())
        return {n: named[n].detach().to("cpu", copy=True) for n in self.trainable}

    def load_trainable(self, state: dict[str, torch.Tensor]) -> None:
        """Load trained parameters (names and shapes must match exactly)."""
        if set(state) != set(self.trainable):
            odd = sorted(set(state) ^ set(self.trainable))
            raise ValueError(f"These weights do not fit this run: {', '.join(odd[:5])}.")
        named = dict(self.named_parameters())
        with torch.no_grad():
            for name, value in state.items():
                if named[name].shape != value.shape:
                    raise ValueError(f"{name} has shape {tuple(value.shape)}; this run needs "
                                     f"{tuple(named[name].shape)}.")
                named[name].copy_(value)

    def copy_with(self, state: dict[str, torch.Tensor] | None = None) -> EncoderClassifier:
        """A separate eval-mode CPU copy (frozen tensors shared, trained ones copied), with ``state`` loaded if given:
        what analyses read while the live model may go on training. A model on a GPU is copied whole, then moved
        (moving shared tensors would move the training model's own)."""
        if any(p.device.type != "cpu" for p in self.parameters()):
            clone = _shared_copy(self, {n for n, _ in self.named_parameters()}).to("cpu")
        else:
            clone = _shared_copy(self, set(self.trainable))
        clone.requires_grad_(False)
        if state is not None:
            clone.load_trainable(state)
        return clone.eval()


def build_classifier(base: PretrainedModel, config: FinetuneConfig, seed: int = 0) -> EncoderClassifier:
    """The classifier a config describes, on its own copy of ``base`` (seeded head and adapters)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder, trained = trainable_copy(base, config)
        return EncoderClassifier(encoder, config, trained)


def parameter_counts(model: EncoderClassifier) -> tuple[int, int]:
    """(trainable, total) parameters on the classification path (the unused language-model head excluded)."""
    trainable = set(model.trainable)
    total = trained = 0
    for name, param in model.named_parameters():
        if not on_classification_path(name.removeprefix("encoder.")):
            continue
        total += param.numel()
        trained += param.numel() if name in trainable else 0
    return trained, total


def trainable_fraction(model: EncoderClassifier) -> float:
    trained, total = parameter_counts(model)
    return trained / max(total, 1)
