"""Fine-tuning a pretrained encoder: LoRA through peft equals peft on Hugging Face's model, merged weights keep the
adapter's hook names, BitFit touches biases only, the shared base never changes, checkpoints hold the trained
parameters only and refuse another base, a diverging run keeps its last good weights, the memory guard refuses
before copying anything."""

from __future__ import annotations

import copy

import pytest
import torch
from finetune_helpers import tiny_bert, toy_sentiment
from peft import LoraConfig, inject_adapter_in_model

from explorer.data.text_tasks import lm_task_from_text
from explorer.models.finetune import FinetuneConfig, build_classifier, lora_deltas, merged_encoder, trainable_fraction
from explorer.models.finetune.classifier import is_bias, parameter_counts
from explorer.models.pretrained.config import PretrainedConfig
from explorer.training.checkpoints import CheckpointError
from explorer.training.finetune_budget import check_finetune_budget, trained_parameter_estimate
from explorer.training.finetune_checkpoints import finetune_from_bytes, finetune_to_bytes
from explorer.training.finetune_run import default_train_config, finetune_run_from_checkpoint, new_finetune_run
from explorer.training.finetune_trainer import encode_texts
from explorer.training.snapshots import model_at

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = ["the film was great", "it was a dull and clumsy story", "brilliant"]


def _randomize_lora(model: torch.nn.Module, seed: int = 1) -> None:
    """peft starts B at zero (ΔW = 0); give every adapter random values so that they matter."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)


def _base_state(base) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in base.state_dict().items()}


def test_lora_through_peft_on_our_encoder_equals_peft_on_hugging_face() -> None:
    hf, base = tiny_bert()
    config = FinetuneConfig(base="tiny-bert", method="lora", lora_r=4, lora_alpha=8, lora_targets=["q", "v", "fc_in"],
                            pooling="mean")
    ours = build_classifier(base, config).eval()
    _randomize_lora(ours)
    theirs = inject_adapter_in_model(
        LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value", "intermediate.dense"], lora_dropout=0.0),
        copy.deepcopy(hf)).eval()
    names = {"attn.q": "attention.self.query", "attn.v": "attention.self.value", "mlp.fc_in": "intermediate.dense"}
    their_params = dict(theirs.named_parameters())
    with torch.no_grad():
        for name, param in ours.named_parameters():
            if "lora_" not in name:
                continue
            layer, module, rest = name.split(".")[2], ".".join(name.split(".")[3:5]), ".".join(name.split(".")[5:])
            their_params[f"encoder.layer.{layer}.{names[module]}.{rest}"].copy_(param)
    tokens = encode_texts(base, TEXTS, 32)  # [3, width], padded on the right
    mask = tokens != base.config.pad_id
    with torch.no_grad():
        hidden = theirs(input_ids=tokens, attention_mask=mask.long()).last_hidden_state  # [3, width, d]
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        expected = ours.head(pooled)
        got = ours(tokens)
    assert got.shape == (3, 2)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert not torch.allclose(got, build_classifier(base, config).eval()(tokens), atol=1e-3)  # the adapters matter


def test_merged_lora_keeps_the_hook_names_and_patterns_and_leaves_the_base_alone() -> None:
    _, base = tiny_bert()
    before = _base_state(base)
    model = build_classifier(base, FinetuneConfig(base="tiny-bert", method="lora", lora_targets=["q", "k", "v", "o"]))
    _randomize_lora(model)
    merged = merged_encoder(model)
    tokens = base.to_tokens("the film was a brilliant story")
    _, base_cache = base.run_with_cache(tokens)
    _, live_cache = model.encoder.run_with_cache(tokens)  # the adapters' forward, unmerged
    _, merged_cache = merged.run_with_cache(tokens)
    assert set(merged_cache) == set(base_cache)
    assert type(merged.blocks[0].attn.q) is torch.nn.Linear  # no adapter module left
    for layer in range(base.config.n_layers):
        name = f"blocks.{layer}.attn.hook_pattern"
        torch.testing.assert_close(merged_cache[name], live_cache[name], atol=1e-5, rtol=0)
        assert not torch.allclose(merged_cache[name], base_cache[name], atol=1e-4)
    deltas = lora_deltas(model)
    assert set(deltas) == {f"blocks.{layer}.attn.{m}" for layer in range(2) for m in "qkvo"}
    assert all(int(torch.linalg.matrix_rank(d)) <= 8 for d in deltas.values())  # rank r = 8
    for name, value in base.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert merged.blocks[0].mlp.in_weight.data_ptr() == base.blocks[0].mlp.in_weight.data_ptr()  # shared, not copied


def test_bitfit_trains_biases_only_and_every_other_weight_stays_bit_identical() -> None:
    _, base = tiny_bert()
    before = _base_state(base)
    run = new_finetune_run("bitfit", toy_sentiment(), base, FinetuneConfig(base="tiny-bert", method="bitfit"),
                           default_train_config("bitfit", 6, lr=1e-2))
    run.trainer.step(n_steps=6)
    changed = 0
    for name, value in run.model.encoder.state_dict().items():
        if is_bias(name):
            changed += not torch.equal(value, before[name])
        else:
            assert torch.equal(value, before[name]), name
    assert changed > 10  # the biases trained
    for name, value in base.state_dict().items():
        assert torch.equal(value, before[name]), name  # and the shared base did not


def test_trained_parameter_counts_and_minilm_fractions() -> None:
    _, base = tiny_bert()
    for method in ("probe", "head", "bitfit", "lora"):
        model = build_classifier(base, FinetuneConfig(base="tiny-bert", method=method, lora_targets=["q", "v", "o"]))
        assert parameter_counts(model)[0] == trained_parameter_estimate(base.config, model.config), method
    full = build_classifier(base, FinetuneConfig(base="tiny-bert", method="full"))
    assert trainable_fraction(full) == 1.0
    minilm = PretrainedConfig(name="all-MiniLM-L6-v2", architecture="bert", n_layers=6, n_heads=12, d_model=384,
                              d_head=32, d_mlp=1536, d_vocab=30522, n_ctx=512, causal=False, positional="learned")
    total = 22_713_216 + 2 * 384 + 2  # MiniLM's parameters and a two-class head
    bitfit = trained_parameter_estimate(minilm, FinetuneConfig(base="m", method="bitfit"))
    lora = trained_parameter_estimate(minilm, FinetuneConfig(base="m", method="lora", lora_r=8))
    assert bitfit / total < 0.002 and lora / (total + lora) < 0.01


def test_snapshots_hold_the_trained_parameters_only_and_rebuild_the_model() -> None:
    _, base = tiny_bert()
    run = new_finetune_run("lora", toy_sentiment(), base, FinetuneConfig(base="tiny-bert", method="lora"),
                           default_train_config("lora", 20, snapshot_every=5))
    trainer = run.trainer
    trainer.start()
    trainer.step(n_steps=5)
    trainer.pause()
    assert trainer.status == "paused" and trainer.step_count == 5
    trainer.start()
    trainer.step(n_steps=5)
    assert sorted(trainer.snapshots) == [0, 5, 10]
    assert set(trainer.snapshots[10]) == set(run.model.trainable)
    assert all("lora_" in n or n.startswith("head.") for n in trainer.snapshots[10])
    tokens = encode_texts(base, TEXTS, 32)
    with torch.no_grad():
        torch.testing.assert_close(model_at(run, 10)(tokens), run.model.eval()(tokens))
        assert not torch.allclose(model_at(run, 0)(tokens), model_at(run, 10)(tokens))
    trainer.reset()
    assert trainer.step_count == 0 and not trainer.history
    with torch.no_grad():
        torch.testing.assert_close(run.model.eval()(tokens), model_at(run, 0)(tokens))


def test_a_lora_checkpoint_round_trips_and_refuses_another_base() -> None:
    _, base = tiny_bert()
    data = toy_sentiment()
    run = new_finetune_run("lora", data, base, FinetuneConfig(base="tiny-bert", method="lora"),
                           default_train_config("lora", 30))
    run.trainer.step(n_steps=4)
    blob = finetune_to_bytes(run.trainer, "my lora")
    full_size = sum(p.numel() * 4 for p in base.parameters())
    assert len(blob) < full_size / 4  # adapters and head only
    ckpt = finetune_from_bytes(blob)
    assert ckpt.config == run.model.config and ckpt.step == 4 and len(ckpt.history) == 4
    reopened = finetune_run_from_checkpoint(ckpt, base, data)
    tokens = encode_texts(base, TEXTS, 32)
    with torch.no_grad():
        torch.testing.assert_close(reopened.model.eval()(tokens), run.model.eval()(tokens))
    assert reopened.trainer is not None and reopened.step == 4
    assert reopened.trainer.step(n_steps=2).steps == 2  # and it trains on
    _, other = tiny_bert(name="other-bert", seed=3)
    with pytest.raises(CheckpointError, match="adapts tiny-bert; it cannot be applied to other-bert"):
        finetune_run_from_checkpoint(ckpt, other, data)
    _, same_name = tiny_bert(name="tiny-bert", seed=5)
    with pytest.raises(CheckpointError, match="other weights"):
        finetune_run_from_checkpoint(ckpt, same_name, data)
    with pytest.raises(CheckpointError, match="not a checkpoint saved by this app"):
        finetune_from_bytes(blob.replace(b"sequence-model-explorer/finetune/1", b"sequence-model-explorer/elsewhere1"))


def test_a_diverging_finetune_run_stops_and_keeps_its_last_good_weights() -> None:
    _, base = tiny_bert()
    run = new_finetune_run("full", toy_sentiment(), base, FinetuneConfig(base="tiny-bert", method="full"),
                           default_train_config("full", 200, lr=1e-3))
    trainer = run.trainer
    trainer.step(n_steps=10)  # a good copy is kept every 10 steps
    good = run.model.trainable_state()
    with torch.no_grad():
        run.model.head[1].weight.fill_(float("nan"))
    trainer.step(n_steps=5)
    assert trainer.status == "diverged" and "restored" in trainer.message and trainer.step_count == 10
    for name, value in run.model.trainable_state().items():
        assert torch.equal(value, good[name]), name
    trainer.clear_divergence()
    assert trainer.step(n_steps=2).steps == 2


def test_the_memory_guard_refuses_before_copying_anything(monkeypatch) -> None:
    _, base = tiny_bert()
    data = toy_sentiment(40)
    monkeypatch.setattr("explorer.training.finetune_run.build_classifier",
                        lambda *a, **k: pytest.fail("built before the guard"))
    monkeypatch.setattr("explorer.training.finetune_budget.MAX_STEP_BYTES", 10_000)  # as if the model were huge
    with pytest.raises(ValueError, match="GB for a batch of 32"):
        new_finetune_run("big", data, base, FinetuneConfig(base="tiny-bert", method="full"))
    with pytest.raises(ValueError, match="classification"):
        new_finetune_run("lm", lm_task_from_text("t", "the film was great " * 50), base,
                         FinetuneConfig(base="tiny-bert"))


def test_full_fine_tuning_of_a_large_encoder_is_refused_with_what_to_choose() -> None:
    bert_base = PretrainedConfig(name="bert-base-uncased", architecture="bert", n_layers=12, n_heads=12, d_model=768,
                                 d_head=64, d_mlp=3072, d_vocab=30522, n_ctx=512, causal=False, positional="learned")
    with pytest.raises(ValueError, match="Choose LoRA or BitFit"):
        check_finetune_budget(bert_base, FinetuneConfig(base="bert-base-uncased", method="full"),
                              default_train_config("full"), 64)
    check_finetune_budget(bert_base, FinetuneConfig(base="bert-base-uncased", method="lora"),
                          default_train_config("lora"), 64)  # fits


def test_what_fine_tuning_changed_nothing_at_step_zero_and_only_the_adapted_matrices_after() -> None:
    from explorer.analysis.finetune_diff import circuit_change, pattern_change, sentence_tokens, weight_change

    _, base = tiny_bert()
    run = new_finetune_run("lora", toy_sentiment(), base, FinetuneConfig(base="tiny-bert", method="lora"),
                           default_train_config("lora", 20, lr=1e-2, snapshot_every=5))
    run.trainer.step(n_steps=5)
    tokens, mask = sentence_tokens(base, TEXTS)
    at_start, after = merged_encoder(model_at(run, 0)), merged_encoder(model_at(run, 5))
    assert float(pattern_change(base, at_start, tokens, mask).max()) < 1e-6  # B = 0: the pretrained model exactly
    moved = pattern_change(base, after, tokens, mask)
    assert moved.shape == (2, 4) and float(moved.min()) > 0 and float(moved.max()) <= 1
    frame = weight_change(base, after).set_index(["layer", "matrix"])["relative change"]
    changed = set(frame[frame > 0].index.get_level_values("matrix"))
    assert changed == {"W_Q", "W_V"}  # LoRA on q and v: nothing else moved
    qk, ov = circuit_change(base, after)
    assert float(qk.min()) > 0 and float(ov.min()) > 0
    manual = (after.blocks[0].attn.W_Q[1] @ after.blocks[0].attn.W_K[1].T
              - base.blocks[0].attn.W_Q[1] @ base.blocks[0].attn.W_K[1].T).norm() / \
        (base.blocks[0].attn.W_Q[1] @ base.blocks[0].attn.W_K[1].T).norm()
    assert float(qk[0, 1]) == pytest.approx(float(manual), rel=1e-4)  # the factored norm equals the full one
