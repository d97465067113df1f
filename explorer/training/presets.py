"""Named model presets, each adapted to the data it is asked to train on.

A preset turns a :class:`TaskData` into a model config and a training config: vocabulary size, head
(language model or classifier), number of classes and context length come from the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.data.dataset import TaskData
from explorer.data.tokenizers import PAD
from explorer.models import ModelConfig, RecurrentConfig, Seq2SeqConfig, TransformerConfig
from explorer.training.config import TrainConfig

STREAM_SEQ_LEN = 64  # training window for continuous text
MLM_PRESET = "Masked-LM encoder (pre-train, BERT-style)"
NEXT_TOKEN_PRESET = "Next-token model, encoder-sized (pre-train, GPT-style)"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    build: Callable[[TaskData], tuple[ModelConfig, TrainConfig]]


def _head(data: TaskData) -> dict:
    if data.kind == "classification":
        return {"head": "classifier", "n_classes": data.n_classes}
    return {"head": "lm"}


def _context(data: TaskData) -> int:
    """Positions a transformer must cover: the longest example, or the text window (+ a margin of 25%)."""
    needed = STREAM_SEQ_LEN if data.is_stream else data.max_length()
    return max(16, int(needed * 1.25) + 1)


def _train(data: TaskData, lr: float, steps: int = 2000) -> TrainConfig:
    return TrainConfig(lr=lr, max_steps=steps, seq_len=STREAM_SEQ_LEN, batch_size=64)


def _lecture_lab(data: TaskData):
    if data.kind != "classification" or data.n_classes != 2:
        raise ValueError("The lecture's lab LSTM is a binary classifier (one sigmoid unit): pick a two-class task "
                         "such as balanced brackets or movie-review sentiment.")
    return RecurrentConfig.lecture_lab(d_vocab=data.tokenizer.vocab_size, pad_id=PAD), _train(data, 1e-2, 1500)


def _recurrent(cell: str):
    def build(data: TaskData):
        cfg = RecurrentConfig(cell=cell, d_vocab=data.tokenizer.vocab_size, d_embed=32, d_hidden=64, n_layers=1,
                              pooling="last", forget_bias=1.0 if cell == "lstm" else 0.0, pad_id=PAD, **_head(data))
        return cfg, _train(data, 1e-2 if cell != "rnn" else 3e-3)
    return build


def _gpt(attn_only: bool):
    def build(data: TaskData):
        if data.kind == "classification":
            raise ValueError("A decoder-only GPT predicts tokens; for a classification task use the encoder "
                             "classifier.")
        cfg = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=_context(data), d_model=64, n_heads=4,
                                n_layers=2, d_mlp=256, attn_only=attn_only, positional="learned", causal=True,
                                head="lm", pad_id=PAD)
        return cfg, _train(data, 3e-3 if not attn_only else 1e-3)
    return build


def _encoder(data: TaskData):
    if data.kind != "classification":
        raise ValueError("The encoder classifier needs a classification task (brackets, sentiment, a labelled CSV).")
    cfg = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=_context(data), d_model=64, n_heads=4,
                            n_layers=2, d_mlp=256, positional="learned", causal=False, pooling="mean", pad_id=PAD,
                            **_head(data))
    return cfg, _train(data, 1e-3)


def _pretraining(objective: str):
    """The encoder classifier's size, pre-trained on text: masked LM (BERT) or next token (GPT), on equal footing."""
    def build(data: TaskData):
        if data.kind != "lm":
            raise ValueError("Pre-training reads raw text: pick a corpus (Shakespeare, the movie reviews as text), "
                             "an uploaded .txt or a generated sequence task.")
        vocab = data.tokenizer.vocab_size
        common = dict(n_ctx=_context(data), d_model=64, n_heads=4, n_layers=2, d_mlp=256, positional="learned",
                      pad_id=PAD)
        if objective == "mlm":  # [MASK] is the id after the tokenizer's vocabulary
            cfg = TransformerConfig(d_vocab=vocab + 1, causal=False, head="mlm", mask_id=vocab, **common)
        else:
            cfg = TransformerConfig(d_vocab=vocab, causal=True, head="lm", **common)
        return cfg, _train(data, 1e-3, 3000)
    return build


def _seq2seq(data: TaskData):
    if data.kind != "seq2seq":
        raise ValueError("The encoder-decoder needs a source → target task: copy, reverse, sort or modular addition.")
    cfg = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=_context(data), d_model=64, n_heads=4,
                            n_layers=2, d_mlp=256, positional="sinusoidal", encoder_decoder=True, pad_id=PAD)
    return cfg, _train(data, 1e-3)


def _recurrent_seq2seq(data: TaskData):
    if data.kind != "seq2seq":
        raise ValueError("The recurrent encoder–decoder needs a source → target task: copy, reverse, sort, dates or "
                         "modular addition.")
    cfg = Seq2SeqConfig(cell="gru", attention="additive", d_vocab=data.tokenizer.vocab_size, d_embed=32,
                        d_hidden=64, bidirectional=True, pad_id=PAD)
    return cfg, _train(data, 3e-3, 1500)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("Lecture lab LSTM", "embedding(4) → LSTM(4) reading backwards → average pooling → dense(4, relu) → "
           "dense(1, sigmoid), the Keras model of the lecture's lab (go_backwards = TRUE).", _lecture_lab),
    Preset("LSTM", "Embedding 32 → LSTM 64 → output layer (forget-gate bias starts at 1, as in Keras).",
           _recurrent("lstm")),
    Preset("GRU", "Embedding 32 → GRU 64 → output layer.", _recurrent("gru")),
    Preset("Elman RNN", "Embedding 32 → tanh RNN 64 → output layer (vanishing gradients!).", _recurrent("rnn")),
    Preset("Tiny GPT 2 layers × 4 heads", "Decoder-only transformer: d_model 64, 2 layers, 4 heads, MLP 256, "
           "learned positions.", _gpt(attn_only=False)),
    Preset("Attention-only 2 layers (induction heads)", "Two layers of attention, no MLPs: the smallest model "
           "that forms induction heads (Elhage et al. 2021; Olsson et al. 2022).", _gpt(attn_only=True)),
    Preset("Encoder classifier", "Bidirectional transformer encoder (BERT-like): 2 layers, 4 heads, "
           "mean pooling → classes.", _encoder),
    Preset(MLM_PRESET, "The encoder classifier's size (2 layers, 4 heads, d_model 64), pre-trained as BERT was: "
           "15 % of the tokens are chosen and predicted from both sides (80 % shown as [MASK], 10 % as a random "
           "token, 10 % unchanged); the loss counts those positions only.", _pretraining("mlm")),
    Preset(NEXT_TOKEN_PRESET, "The same size, pre-trained as GPT was: predict every next token from the ones "
           "before it (a causal mask). Every position gives a loss: more learning signal per batch than masked LM.",
           _pretraining("next")),
    Preset("Seq2seq with cross-attention", "Encoder-decoder transformer (Vaswani et al. 2017): the decoder "
           "attends to the encoder's output.", _seq2seq),
    Preset("Recurrent encoder–decoder (GRU + attention)", "A bidirectional GRU encoder and a GRU decoder trained "
           "with teacher forcing (it reads the true previous token), with additive attention (Bahdanau et al. 2015); "
           "attention none gives the one-context-vector bottleneck, location adds where the previous step looked "
           "(Chorowski et al. 2015), dot gives Luong et al. 2015.",
           _recurrent_seq2seq),
]}


def suitable_presets(data: TaskData) -> list[str]:
    """The presets that can train on this data, in display order."""
    return [name for name in PRESETS if name not in unsuitable_presets(data)]


def unsuitable_presets(data: TaskData) -> dict[str, str]:
    """The presets that cannot train on this data, each with the reason."""
    reasons = {}
    for name, preset in PRESETS.items():
        try:
            preset.build(data)
        except ValueError as err:
            reasons[name] = str(err)
    return reasons
