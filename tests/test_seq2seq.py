"""The recurrent encoder–decoder: replay equals the fused modules, additive attention is Bahdanau's score and
location-aware attention Chorowski et al.'s, teacher forcing and greedy decoding differ as they should, and it
learns, saves and decodes variable lengths."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from explorer.analysis.predictions import greedy_targets, validation_examples
from explorer.data.batches import format_split
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import BOS, PAD
from explorer.models import Seq2SeqConfig, build_model
from explorer.models.recurrent_cells import GATE_NAMES
from explorer.training.checkpoints import checkpoint_from_trainer, from_bytes, to_bytes
from explorer.training.config import TrainConfig
from explorer.training.run import describe_model
from explorer.training.trainer import Trainer

V, E, H = 14, 6, 9


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    source = torch.tensor([[4, 5, 6, 7, 8, 0, 0], [9, 10, 11, 12, 13, 4, 5], [6, 6, 0, 0, 0, 0, 0]])
    decoder = torch.tensor([[BOS, 8, 7, 6, 5], [BOS, 5, 4, 13, 12], [BOS, 6, 0, 0, 0]])
    return source, decoder


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("attention", ["none", "additive", "location", "dot"])
@pytest.mark.parametrize(("n_layers", "bidirectional"), [(1, False), (2, False), (2, True)])
def test_replay_equals_the_fused_model_and_records_every_hook(cell, attention, n_layers, bidirectional) -> None:
    if bidirectional and attention == "dot":
        pytest.skip("dot attention needs equal sizes (refused by the config)")
    cfg = Seq2SeqConfig(cell=cell, attention=attention, d_vocab=V, d_embed=E, d_hidden=H, n_layers=n_layers,
                        bidirectional=bidirectional, pad_id=PAD)
    model = build_model(cfg).eval()
    source, decoder = _batch()
    logits, cache = model.run_with_cache(source, decoder)
    torch.testing.assert_close(logits, model(source, decoder), atol=1e-5, rtol=0)
    for side, n_pos in (("encoder", 7), ("decoder", 5)):
        for layer in range(n_layers):
            for gate in GATE_NAMES[cell]:
                assert cache[f"{side}.rnn.{layer}.hook_{gate}"].shape == (3, n_pos, H)
    width = cfg.d_hidden if attention == "none" else cfg.d_annotation  # none: the decoder's start state
    assert cache["decoder.hook_context"].shape == (3, 5, width)
    if attention != "none":
        pattern = cache["decoder.attn.hook_pattern"]  # [batch, dec_pos, enc_pos]
        assert pattern.shape == (3, 5, 7)
        torch.testing.assert_close(pattern.sum(-1), torch.ones(3, 5))
        assert float(pattern[0, :, 5:].abs().max()) == 0.0 and float(pattern[2, :, 2:].abs().max()) == 0.0  # padding
    else:
        assert "decoder.attn.hook_pattern" not in cache


def test_a_padded_source_gives_what_the_unpadded_one_gives() -> None:
    model = build_model(Seq2SeqConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H, bidirectional=True,
                                      pad_id=PAD)).eval()
    decoder = torch.tensor([[BOS, 7, 6]])
    short = model(torch.tensor([[4, 5, 6, 7]]), decoder)
    padded = model(torch.tensor([[4, 5, 6, 7, 0, 0, 0]]), decoder)
    torch.testing.assert_close(short, padded, atol=1e-5, rtol=0)


def test_additive_attention_is_bahdanaus_score_on_fixed_weights() -> None:
    """e_tj = vᵀ tanh(W s_{t−1} + U hⱼ) with s_{−1} the encoder's last state; the context cₜ = Σ αₜⱼ hⱼ enters the
    GRU cell beside the token; the output is W_out tanh(W_c [sₜ; cₜ]) — written out by hand with torch's GRUCell."""
    cfg = Seq2SeqConfig(cell="gru", attention="additive", d_vocab=V, d_embed=E, d_hidden=H, d_attention=5)
    model = build_model(cfg, seed=3).eval()
    source = torch.tensor([[4, 9, 7, 11, 5, 6]])
    decoder = torch.tensor([[BOS, 6, 5, 11]])
    logits, cache = model.run_with_cache(source, decoder)

    encoder_cell = nn.GRUCell(E, H)
    decoder_cell = nn.GRUCell(E + H, H)
    for cell, rnn in ((encoder_cell, model.encoder.rnn), (decoder_cell, model.decoder.rnn)):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).data.copy_(getattr(rnn, f"{name}_l0").data)
    W, U, v = model.decoder.attn.W.weight, model.decoder.attn.U.weight, model.decoder.attn.v  # [5, H], [5, H], [5]
    with torch.no_grad():
        h = torch.zeros(1, H)
        annotations = []
        for x in model.encoder.embed(source)[0]:
            h = encoder_cell(x[None], h)
            annotations.append(h[0])
        hs = torch.stack(annotations)  # [src, H]
        s = h[0]  # the decoder starts from the encoder's last state
        scores, outputs = [], []
        for y in model.decoder.embed(decoder)[0]:
            e = torch.stack([v @ torch.tanh(W @ s + U @ hj) for hj in hs])  # [src], Bahdanau's e_tj
            alpha = torch.softmax(e, dim=0)
            context = alpha @ hs
            s = decoder_cell(torch.cat([y, context])[None], s[None])[0]
            attentional = torch.tanh(model.combine.weight @ torch.cat([s, context]) + model.combine.bias)
            outputs.append(model.unembed.weight @ attentional + model.unembed.bias)
            scores.append(e)
    torch.testing.assert_close(cache["decoder.attn.hook_scores"][0], torch.stack(scores), atol=1e-5, rtol=0)
    torch.testing.assert_close(cache["encoder.rnn.0.hook_h"][0], hs, atol=1e-5, rtol=0)
    torch.testing.assert_close(logits[0], torch.stack(outputs), atol=1e-5, rtol=0)


def test_location_aware_attention_adds_where_the_previous_step_looked() -> None:
    """e_tj = vᵀ tanh(W s_{t−1} + U hⱼ + V f_tj), f_t = F ∗ α_{t−1} (α_{−1} = 0), written out by hand: the
    convolution as a sum over the filter's taps, positions outside the source counted as 0."""
    from explorer.models.config import LOCATION_FILTERS, LOCATION_WIDTH

    cfg = Seq2SeqConfig(cell="gru", attention="location", d_vocab=V, d_embed=E, d_hidden=H, d_attention=5)
    model = build_model(cfg, seed=4).eval()
    source = torch.tensor([[4, 9, 7, 11, 5, 6]])
    decoder = torch.tensor([[BOS, 6, 5, 11, 7]])
    _, cache = model.run_with_cache(source, decoder)
    attn = model.decoder.attn
    W, U, v, V_loc = attn.W.weight, attn.U.weight, attn.v, attn.V.weight  # [5, H], [5, H], [5], [5, filters]
    taps = attn.F.weight[:, 0]  # [filters, width]
    assert taps.shape == (LOCATION_FILTERS, LOCATION_WIDTH)
    hs = cache["encoder.rnn.0.hook_h"][0]  # [src, H]
    states = cache["decoder.rnn.0.hook_h"][0]  # [dec, H]: sₜ
    half, n_src = LOCATION_WIDTH // 2, hs.shape[0]
    with torch.no_grad():
        s, alpha, scores = hs[-1], torch.zeros(n_src), []
        for t in range(decoder.shape[1]):
            e = []
            for j in range(n_src):
                f = torch.stack([sum(taps[k, r] * alpha[j + r - half] for r in range(LOCATION_WIDTH)
                                     if 0 <= j + r - half < n_src) for k in range(LOCATION_FILTERS)])
                e.append(v @ torch.tanh(W @ s + U @ hs[j] + V_loc @ f))
            e = torch.stack(e)
            scores.append(e)
            alpha = torch.softmax(e, dim=0)
            s = states[t]
    torch.testing.assert_close(cache["decoder.attn.hook_scores"][0], torch.stack(scores), atol=1e-5, rtol=0)
    with torch.no_grad():  # without its location term it is Bahdanau's score again
        attn.V.weight.zero_()
        additive = build_model(dataclasses.replace(cfg, attention="additive"), seed=4).eval()
        additive.load_state_dict({k: v for k, v in model.state_dict().items() if ".F." not in k and ".V." not in k})
        torch.testing.assert_close(model(source, decoder), additive(source, decoder), atol=1e-6, rtol=0)


def test_teacher_forcing_reads_the_truth_and_greedy_decoding_its_own_guesses() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=6, n_symbols=8, n_train=500, n_val=64))
    cfg = Seq2SeqConfig(cell="gru", attention="none", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=16,
                        pad_id=PAD)
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=1e-2, max_steps=60))
    trainer.step(n_steps=60)  # half-trained: often right, often wrong
    model = trainer.model.eval()
    batch = format_split(data.val, data, cfg)
    sources = [list(s) for s in data.val.sources]
    greedy = torch.tensor(greedy_targets(model, sources, 6))  # [n, 6]
    with torch.no_grad():
        forced = model(batch.inputs, batch.decoder_inputs).argmax(-1)  # reads the true y_{t-1}
        own = torch.cat([torch.full((len(sources), 1), BOS), greedy[:, :-1]], dim=1)
        replayed = model(batch.inputs, own).argmax(-1)  # reads its own previous outputs
    assert torch.equal(replayed, greedy)  # greedy decoding = teacher forcing on its own outputs
    assert torch.equal(forced[:, 0], greedy[:, 0])  # both start from <bos>
    first_wrong = greedy[:, 0] != batch.labels[:, 0]
    assert first_wrong.any() and (forced != greedy)[first_wrong].any()  # after a wrong guess they part ways
    right_everywhere = (forced == batch.labels).all(dim=1)
    assert torch.equal(right_everywhere, (greedy == batch.labels).all(dim=1))  # whole-sequence accuracy agrees


def test_it_learns_reverse_of_mixed_lengths_and_decodes_each_to_its_length() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=7, min_len=3, n_symbols=8, n_train=3000, n_val=100))
    cfg = Seq2SeqConfig(cell="gru", attention="additive", d_vocab=data.tokenizer.vocab_size, d_embed=16,
                        d_hidden=48, pad_id=PAD)
    trainer = Trainer(build_model(cfg), data, TrainConfig(lr=1e-2, max_steps=300, eval_every=300))
    trainer.step(n_steps=300)
    assert trainer.val_history[-1]["val_sequence_accuracy"] > 0.8, trainer.val_history[-1]
    table = validation_examples(trainer.model.eval(), data)
    assert len(table) == 12 and table["correct"].mean() > 0.7
    assert all(len(p) == len(t) for p, t in zip(table["predicted"], table["target"]))
    ckpt = from_bytes(to_bytes(checkpoint_from_trainer(trainer, "rev")))
    assert ckpt.model_config == cfg
    batch = format_split(data.val, data, cfg)
    with torch.no_grad():
        torch.testing.assert_close(ckpt.build()(batch.inputs, batch.decoder_inputs),
                                   trainer.model.eval()(batch.inputs, batch.decoder_inputs))
    assert "additive attention" in describe_model(cfg)


def test_bad_settings_say_what_to_change() -> None:
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2SeqConfig(attention="multiplicative")
    with pytest.raises(ValueError, match="bidirectional"):
        Seq2SeqConfig(attention="dot", bidirectional=True)
    with pytest.raises(ValueError, match="n_layers"):
        Seq2SeqConfig(n_layers=3)


def test_length_measures_and_mirror_shares_are_what_they_say() -> None:
    import numpy as np

    from explorer.analysis.alignment import decoder_alignment, mirror_share
    from explorer.training.bottleneck import SPEC, accuracy_by_length, mirror_mass

    assert mirror_share(np.eye(4)[::-1]) == 1.0 and mirror_share(np.eye(4)) == 0.0
    data = make_task(SPEC)
    model = build_model(Seq2SeqConfig(cell="gru", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=16,
                                      bidirectional=True, pad_id=PAD)).eval()
    frame = accuracy_by_length(model, lengths=(4, 12, 16), n_examples=16)
    assert list(frame["length"]) == [4, 12, 16] and list(frame["trained"]) == [True, True, False]
    assert (frame["exact match"] <= frame["token accuracy"]).all()
    found = mirror_mass(model, lengths=(4, 6), n_examples=8)
    assert 0 <= found["mass"] <= 1 and 0 <= found["argmax"] <= 1
    source = list(data.val.sources[0])
    aligned = decoder_alignment(model, source, len(source))
    assert aligned.weights.shape == (len(source), len(source)) and len(aligned.output) == len(source)
    np.testing.assert_allclose(aligned.weights.sum(1), 1.0, rtol=1e-5)
