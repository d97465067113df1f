"""Fine-tuning a pretrained encoder (MiniLM, BERT, RoBERTa, DistilBERT) for classification.

    from explorer.models.finetune import FinetuneConfig, build_classifier
    model = build_classifier(minilm, FinetuneConfig(base="all-MiniLM-L6-v2", method="lora", n_classes=2))
    logits = model(tokens)                       # [batch, n_classes]; padding (the encoder's pad id) is masked
    merged = merged_encoder(model)               # a plain PretrainedModel: W + ΔW, same hook names as the base

Methods: linear probe and head only (the encoder frozen), BitFit (biases), LoRA (peft's adapters on the chosen
projections) and full fine-tuning. The shared pretrained copy never trains: the classifier's encoder shares its
frozen tensors and owns copies of the ones it trains.
"""

from explorer.models.finetune.classifier import EncoderClassifier, build_classifier, trainable_fraction
from explorer.models.finetune.config import LORA_TARGETS, METHOD_TITLES, METHODS, FinetuneConfig
from explorer.models.finetune.merge import lora_deltas, merged_encoder

__all__ = [
    "LORA_TARGETS", "METHODS", "METHOD_TITLES", "EncoderClassifier", "FinetuneConfig", "build_classifier",
    "lora_deltas", "merged_encoder", "trainable_fraction",
]
