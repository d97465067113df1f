"""The lecture's comparison: an LSTM, a small transformer classifier and a pretrained encoder on movie-review sentiment.

The lecture's table (IMDb test accuracy, Gallego & Ríos Insua 2022): LSTM 81.99 %, simple transformer
87.49 %, RoBERTa 94.67 %. Here the first two train from scratch on the same data with the same batch size and
number of steps; each has the optimizer settings that suit it (the LSTM Adam at 3e-3, the transformer AdamW at
1e-3 with weight decay 0.01 and dropout 0.1, as transformers are usually trained). The third row's model is MiniLM
(offline, 22 M parameters; RoBERTa-base has 125 M and no offline package) fine-tuned with LoRA on the same data,
batch size and step target. The absolute numbers depend on the data (IMDb's 25,000 long reviews online, or Pang &
Lee's 4,000 sentences offline) and on how long they train.
Measured here on Pang & Lee's sentences (benchmarks/finetune.py, best held-out accuracy): LSTM ≈ 70 % and small
transformer ≈ 64 % after 600 steps; MiniLM with LoRA ≈ 85 % (80 % after about 75 steps of 32 sentences, a minute
of one CPU core). With a few thousand examples and no pretraining the transformer does not yet beat the LSTM; the
pretrained model beats both, as RoBERTa does in the lecture. The lecture's LSTM < transformer comes with IMDb's
25,000 reviews.
"""

from __future__ import annotations

from explorer.data.dataset import TaskData
from explorer.data.tokenizers import PAD
from explorer.models import ModelConfig, RecurrentConfig, TransformerConfig
from explorer.models.finetune import FinetuneConfig
from explorer.models.pretrained import MINILM
from explorer.training.config import TrainConfig
from explorer.training.finetune_run import default_train_config

LECTURE_IMDB_ACCURACY = {"LSTM": 0.8199, "Simple transformer": 0.8749, "RoBERTa": 0.9467}
PRETRAINED_PRESET = "MiniLM fine-tuned (LoRA)"  # the pretrained row here: RoBERTa does not fit a CPU in class
LECTURE_MODELS = ("LSTM", "Simple transformer", PRETRAINED_PRESET)  # the runs "Train" creates, named by preset
LECTURE_PRESETS = {"LSTM": "LSTM", "Simple transformer": "Simple transformer", "RoBERTa": PRETRAINED_PRESET}
STEPS = 600  # about 10 epochs of the 3,600 training sentences; longer only overfits
VOCAB = 3000  # words kept; rarer ones become <unk> (a 10,000-word vocabulary overfits 3,600 sentences)


def comparison_configs(data: TaskData) -> dict[str, tuple[ModelConfig, TrainConfig]]:
    """The two models of the comparison, sized alike, for a classification task."""
    if data.kind != "classification":
        raise ValueError("The comparison needs a sentiment (classification) dataset.")
    vocab, k = data.tokenizer.vocab_size, data.n_classes
    n_ctx = max(16, data.max_length() + 1)
    lstm = RecurrentConfig(cell="lstm", d_vocab=vocab, d_embed=64, d_hidden=64, head="classifier", n_classes=k,
                           pooling="mean", forget_bias=1.0, pad_id=PAD)
    transformer = TransformerConfig(d_vocab=vocab, n_ctx=n_ctx, d_model=64, n_heads=4, n_layers=2, d_mlp=128,
                                    positional="learned", causal=False, head="classifier", n_classes=k,
                                    pooling="mean", pad_id=PAD, dropout=0.1)
    return {
        "LSTM": (lstm, TrainConfig(lr=3e-3, max_steps=STEPS, batch_size=64, eval_every=50)),
        "Simple transformer": (transformer, TrainConfig(lr=1e-3, max_steps=STEPS, batch_size=64, eval_every=50,
                                                        optimizer="adamw", weight_decay=0.01)),
    }


def pretrained_comparison_config(data: TaskData) -> tuple[FinetuneConfig, TrainConfig]:
    """The third model: MiniLM with LoRA (r = 8, α = 16 on W_Q and W_V) and a classifier head, on the same data, with
    the same batch size and step target as the other two (it needs far fewer steps: it starts from pre-training)."""
    if data.kind != "classification":
        raise ValueError("The comparison needs a sentiment (classification) dataset.")
    return (FinetuneConfig(base=MINILM, method="lora", n_classes=data.n_classes),
            default_train_config("lora", STEPS, batch_size=64, eval_every=25))
