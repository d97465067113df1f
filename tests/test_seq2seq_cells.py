"""Inside the RNN on a recurrent encoder–decoder: the encoder's and the decoder's gates step by step."""

from __future__ import annotations

import numpy as np
import torch
from apptest_helpers import open_page, state

from explorer.analysis.seq2seq_gates import record_seq2seq
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import BOS, PAD
from explorer.models import Seq2SeqConfig
from explorer.training.config import TrainConfig
from explorer.training.run import new_run


def _run(cell: str = "lstm"):
    data = make_task(TaskSpec(name="reverse", seq_len=6, min_len=3, n_train=200, n_val=20))
    cfg = Seq2SeqConfig(cell=cell, attention="additive", d_vocab=data.tokenizer.vocab_size, d_embed=8, d_hidden=8,
                        n_layers=2, bidirectional=True, pad_id=PAD)
    return new_run("rnn seq2seq", data, cfg, TrainConfig(max_steps=10))


def test_records_are_the_cache_and_the_decoder_starts_from_the_encoder() -> None:
    run = _run()
    model = run.model.eval()
    source, target = list(run.data.val.sources[0]), list(run.data.val.targets[0])
    _, cache = model.run_with_cache(torch.tensor([source]), torch.tensor([[BOS, *target[:-1]]]))
    decoder, written = record_seq2seq(model, source, target, "decoder")
    assert written == target and decoder.ids == (BOS, *target[:-1])
    np.testing.assert_array_equal(decoder.series(1, "f"), cache["decoder.rnn.1.hook_f"][0].numpy())
    _, start = model.encode(torch.tensor([source]), explicit=True)
    np.testing.assert_allclose(decoder.previous(0, "h", 0), start["h"][0][0].detach().numpy(), rtol=1e-6)
    assert decoder.logits.shape == (len(target), model.config.d_vocab)
    backward, _ = record_seq2seq(model, source, target, "encoder backward")
    assert backward.ids == tuple(source[::-1])
    np.testing.assert_array_equal(backward.series(0, "h")[0], cache["encoder.rnn_reverse.0.hook_h"][0, -1].numpy())
    greedy, own = record_seq2seq(model, source, None, "decoder", len(target))
    assert greedy.ids == (BOS, *own[:-1]) and len(own) == len(target)


def test_the_page_steps_through_encoder_and_decoder() -> None:
    at = open_page("lstm")
    run = _run("gru")
    state(at).add_run(run)
    at.run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="lstm.s2s.side").value == "decoder"
    assert any("encoder's final state" in str(c.value) for c in at.caption)
    at.slider(key="lstm.step").set_value(1).run()
    assert not at.exception, at.exception
    assert any("predicts" in str(c.value) for c in at.caption)  # the decoder's next-token reading
    at.radio(key="lstm.s2s.feed").set_value("its own outputs (greedy decoding)").run()
    assert not at.exception, at.exception
    for side in ("encoder", "encoder backward"):
        at.segmented_control(key="lstm.s2s.side").set_value(side).run()
        assert not at.exception, (side, at.exception)
    at.segmented_control(key="lstm.s2s.view").set_value("🗺️ Whole sequence").run()
    assert not at.exception, at.exception
    at.selectbox(key="lstm.s2s.layer").set_value(0).run()
    assert not at.exception, at.exception
