"""Masked-LM pre-training: BERT's 80/10/10 corruption on a seeded batch, the loss on chosen positions only, the
preset that trains it, and the fill-in of a [MASK]."""

from __future__ import annotations

import pytest
import torch
from finetune_helpers import WORDS, tiny_bert, tiny_tokenizer
from transformers import BertConfig, BertForMaskedLM

from explorer.analysis.fill_mask import fill_mask_here, fill_mask_pretrained
from explorer.data.batches import IGNORE
from explorer.data.masking import MaskingSpec, mask_tokens
from explorer.data.text_tasks import lm_task_from_text
from explorer.models import TransformerConfig
from explorer.models.pretrained import convert
from explorer.training.presets import MLM_PRESET, NEXT_TOKEN_PRESET, PRESETS
from explorer.training.run import new_run

pytestmark = pytest.mark.usefixtures("one_thread")

SPEC = MaskingSpec(mask_id=500, first_real=4, end_real=500)


def _batch() -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    tokens = torch.randint(4, 500, (128, 512), generator=generator)
    tokens[:, :3] = torch.tensor([2, 1, 3])  # <bos>, <unk>, <sep>: never chosen
    tokens[:, -20:] = 0  # padding
    return tokens


def test_masking_follows_bert_80_10_10_on_a_seeded_batch() -> None:
    tokens = _batch()
    inputs, labels = mask_tokens(tokens, SPEC, torch.Generator().manual_seed(0))
    chosen = labels != IGNORE
    ordinary = (tokens >= 4) & (tokens < 500)
    assert not (chosen & ~ordinary).any()  # specials and padding are never chosen
    assert torch.equal(labels[chosen], tokens[chosen])  # labels: the original token, only where chosen
    assert torch.equal(inputs[~chosen], tokens[~chosen])  # everything else is left as it was
    share = chosen.sum() / ordinary.sum()
    assert share == pytest.approx(0.15, abs=0.01)
    n = int(chosen.sum())
    as_mask = (inputs[chosen] == SPEC.mask_id).sum() / n
    kept = (inputs[chosen] == tokens[chosen]).sum() / n
    as_random = 1 - as_mask - kept
    assert as_mask == pytest.approx(0.8, abs=0.02)
    assert kept == pytest.approx(0.1 + 0.1 / 496, abs=0.015)  # a random token may happen to be the same one
    assert as_random == pytest.approx(0.1, abs=0.015)
    replaced = chosen & (inputs != SPEC.mask_id) & (inputs != tokens)
    assert ((inputs[replaced] >= 4) & (inputs[replaced] < 500)).all()  # random tokens are ordinary ones
    again, labels_again = mask_tokens(tokens, SPEC, torch.Generator().manual_seed(0))
    assert torch.equal(again, inputs) and torch.equal(labels_again, labels)  # seeded: the same corruption


def test_a_tiny_batch_always_has_a_position_to_predict() -> None:
    _, labels = mask_tokens(torch.tensor([[2, 9, 3]]), SPEC, torch.Generator().manual_seed(3))
    assert (labels != IGNORE).sum() == 1 and labels[0, 1] == 9


def test_the_masked_lm_preset_learns_and_fills_in_a_mask() -> None:
    text = " ".join(["the cat sat on the mat", "the dog ran in the park"] * 300)
    data = lm_task_from_text("toy text", text, mode="word")
    model_cfg, train_cfg = PRESETS[MLM_PRESET].build(data)
    assert isinstance(model_cfg, TransformerConfig) and model_cfg.head == "mlm" and not model_cfg.causal
    assert model_cfg.mask_id == data.tokenizer.vocab_size == model_cfg.d_vocab - 1
    train_cfg.max_steps, train_cfg.batch_size, train_cfg.seq_len, train_cfg.eval_every = 120, 16, 16, 60
    run = new_run("mlm", data, model_cfg, train_cfg, preset=MLM_PRESET)
    val = run.trainer.val_set
    labelled = (val.labels != IGNORE).float().mean()
    assert labelled == pytest.approx(0.15, abs=0.05)  # validation counts the chosen positions only
    assert (val.inputs == model_cfg.mask_id).any()
    first = run.trainer.evaluate()["val_loss"]
    run.trainer.step(n_steps=120)
    assert run.trainer.val_history[-1]["val_loss"] < 0.5 * first
    table = fill_mask_here(run.model.eval(), data.tokenizer, "the cat [MASK] on the mat", k=5)  # fill it in
    assert list(table["rank"]) == [1, 2, 3, 4, 5] and (table["probability"].diff().dropna() <= 0).all()
    assert table.iloc[0]["token"] == "sat"
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        fill_mask_here(run.model, data.tokenizer, "no blank here")
    next_cfg, _ = PRESETS[NEXT_TOKEN_PRESET].build(data)
    assert next_cfg.causal and next_cfg.d_model == model_cfg.d_model and next_cfg.n_layers == model_cfg.n_layers


def test_masked_lm_needs_a_bidirectional_transformer_and_a_mask_id() -> None:
    with pytest.raises(ValueError, match="causal=False"):
        TransformerConfig(d_vocab=10, head="mlm", causal=True, mask_id=9)
    with pytest.raises(ValueError, match="mask_id"):
        TransformerConfig(d_vocab=10, head="mlm", causal=False)


def test_fill_in_with_a_hub_masked_lm_equals_its_own_logits_and_refuses_an_encoder_without_a_head() -> None:
    _, encoder = tiny_bert()
    with pytest.raises(ValueError, match="no masked-language-model head"):
        fill_mask_pretrained(encoder, "the film was [MASK]")
    torch.manual_seed(0)
    hf = BertForMaskedLM(BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                    intermediate_size=64, max_position_embeddings=64)).eval()
    model = convert(hf, "tiny-mlm", tiny_tokenizer())
    table = fill_mask_pretrained(model, "the film was [MASK]", k=3)
    ids = model.to_tokens("the film was [MASK]")
    with torch.no_grad():
        logits = hf(input_ids=ids).logits[0, -2]  # [MASK] is just before [SEP]
    banned = sorted({*model.config.special_ids, model.tokenizer.mask_token_id})
    logits[banned] = float("-inf")
    probs = torch.softmax(logits, dim=-1)
    assert table.iloc[0]["probability"] == pytest.approx(float(probs.max()), abs=1e-5)
    assert table.iloc[0]["token"] == WORDS[int(probs.argmax())]
