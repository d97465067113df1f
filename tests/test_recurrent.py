"""The explicit-cell replay must reproduce torch's fused RNN/GRU/LSTM, and record every gate."""

from __future__ import annotations

import pytest
import torch

from explorer.models import RecurrentConfig, build_model
from explorer.models.recurrent_cells import GATE_NAMES

V, E, H = 23, 8, 16


def _tokens(pad_tail: bool = True) -> torch.Tensor:
    tokens = torch.randint(1, V, (4, 13))
    if pad_tail:
        tokens[1, 9:] = 0  # a shorter sequence, right-padded
    return tokens


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_replay_equals_fused_lm(cell: str, n_layers: int) -> None:
    model = build_model(RecurrentConfig(cell=cell, d_vocab=V, d_embed=E, d_hidden=H, n_layers=n_layers)).eval()
    tokens = _tokens()
    fused_hidden, _ = model.rnn(model.embed(tokens))  # [batch, pos, d_hidden], last layer
    logits, cache = model.run_with_cache(tokens)
    torch.testing.assert_close(cache[f"rnn.{n_layers - 1}.hook_h"], fused_hidden, atol=1e-5, rtol=0)
    torch.testing.assert_close(logits, model(tokens), atol=1e-5, rtol=0)
    for layer in range(n_layers):
        for gate in GATE_NAMES[cell]:
            assert cache[f"rnn.{layer}.hook_{gate}"].shape == (4, 13, H)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_replay_equals_fused_classifier_with_padding(cell: str, pooling: str) -> None:
    cfg = RecurrentConfig(cell=cell, d_vocab=V, d_embed=E, d_hidden=H, n_layers=2, head="classifier",
                          n_classes=3, pooling=pooling, pad_id=0)
    model = build_model(cfg).eval()
    tokens = _tokens()
    logits, cache = model.run_with_cache(tokens)
    torch.testing.assert_close(logits, model(tokens), atol=1e-5, rtol=0)
    assert logits.shape == (4, 3)
    hidden = cache["rnn.1.hook_h"]
    expected = hidden[1, :9].mean(0) if pooling == "mean" else hidden[1, 8]  # padding ignored
    torch.testing.assert_close(cache["hook_pooled"][1], expected, atol=1e-6, rtol=0)


def test_lstm_cache_satisfies_the_gate_equations() -> None:
    """C_t = f_t * C_{t-1} + i_t * C̃_t and h_t = o_t * tanh(C_t), from the recorded gates."""
    model = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H)).eval()
    _, cache = model.run_with_cache(_tokens(pad_tail=False))
    i, f, g, o, c, h = (cache[f"rnn.0.hook_{k}"] for k in "ifgoch")
    c_prev = torch.cat([torch.zeros_like(c[:, :1]), c[:, :-1]], dim=1)
    torch.testing.assert_close(c, f * c_prev + i * g)
    torch.testing.assert_close(h, o * torch.tanh(c))
    for gate in (i, f, o):
        assert gate.min() >= 0 and gate.max() <= 1


def test_gru_cache_satisfies_torch_update() -> None:
    model = build_model(RecurrentConfig(cell="gru", d_vocab=V, d_embed=E, d_hidden=H)).eval()
    _, cache = model.run_with_cache(_tokens(pad_tail=False))
    z, n, h = cache["rnn.0.hook_z"], cache["rnn.0.hook_n"], cache["rnn.0.hook_h"]
    h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
    torch.testing.assert_close(h, (1 - z) * n + z * h_prev)


def test_lecture_lab_preset_matches_the_keras_model() -> None:
    """embedding(4) -> LSTM(4, go_backwards) -> global average pooling -> dense(4, relu) -> dense(1, sigmoid)."""
    model = build_model(RecurrentConfig.lecture_lab(d_vocab=100, pad_id=0))
    assert model.embed.weight.shape == (100, 4)
    assert isinstance(model.rnn, torch.nn.LSTM) and model.rnn.hidden_size == 4 and model.rnn.batch_first
    assert model.config.go_backwards and model.config.forget_bias == 1.0
    dense, relu, out = model.classifier
    assert dense.out_features == 4 and isinstance(relu, torch.nn.ReLU) and out.out_features == 1
    assert model.config.pooling == "mean"
    logits = model(torch.randint(1, 100, (2, 7)))
    probs = logits.softmax(-1)[:, 1]
    # Two logits [0, z] give softmax = sigmoid(z): the single Keras sigmoid unit.
    z = logits[:, 1]
    torch.testing.assert_close(probs, torch.sigmoid(z))
    assert torch.all(logits[:, 0] == 0)


def test_fused_module_is_what_training_updates() -> None:
    model = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H))
    before = model.rnn.weight_hh_l0.detach().clone()
    loss = model(torch.randint(0, V, (2, 5))).sum()
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert not torch.equal(before, model.rnn.weight_hh_l0)
    # ... and the replay reads the updated weights.
    tokens = torch.randint(0, V, (2, 5))
    torch.testing.assert_close(model.run_with_cache(tokens)[0], model(tokens), atol=1e-5, rtol=0)


def test_forget_bias_opens_the_forget_gate_at_the_start() -> None:
    plain = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H), seed=3)
    opened = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H, forget_bias=1.0), seed=3)
    delta = opened.rnn.bias_ih_l0 - plain.rnn.bias_ih_l0  # rows i, f, g, o
    assert torch.allclose(delta[H:2 * H], torch.ones(H))
    assert delta[:H].abs().max() == 0 and delta[2 * H:].abs().max() == 0
    tokens = torch.randint(0, V, (2, 6))
    f_plain = plain.run_with_cache(tokens)[1]["rnn.0.hook_f"].mean()
    f_open = opened.run_with_cache(tokens)[1]["rnn.0.hook_f"].mean()
    assert f_open > f_plain + 0.1


def test_reverse_real_tokens_keeps_padding_on_the_right() -> None:
    from explorer.models.recurrent import reverse_real_tokens

    tokens = torch.tensor([[5, 6, 7, 0, 0], [1, 2, 3, 4, 5]])
    reversed_ = reverse_real_tokens(tokens, tokens != 0)
    assert reversed_.tolist() == [[7, 6, 5, 0, 0], [5, 4, 3, 2, 1]]
    assert torch.equal(reverse_real_tokens(reversed_, reversed_ != 0), tokens)
    assert reverse_real_tokens(tokens, None).tolist() == [[0, 0, 7, 6, 5], [5, 4, 3, 2, 1]]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_a_backwards_reader_is_a_forward_reader_of_the_reversed_input(cell: str, pooling: str) -> None:
    """Keras' go_backwards: the layer reads from the last real token to the first; the cache follows that order."""
    common = dict(cell=cell, d_vocab=V, d_embed=E, d_hidden=H, n_layers=2, head="classifier", n_classes=3,
                  pooling=pooling, pad_id=0)
    backwards = build_model(RecurrentConfig(**common, go_backwards=True), seed=5).eval()
    forwards = build_model(RecurrentConfig(**common), seed=5).eval()
    tokens = _tokens()
    flipped = tokens.clone()
    flipped[0] = tokens[0].flip(0)
    flipped[1, :9] = tokens[1, :9].flip(0)  # row 1 is right-padded after 9 tokens
    flipped[2:] = tokens[2:].flip(1)
    torch.testing.assert_close(backwards(tokens), forwards(flipped), atol=1e-6, rtol=0)
    logits, cache = backwards.run_with_cache(tokens)
    _, forward_cache = forwards.run_with_cache(flipped)
    torch.testing.assert_close(logits, backwards(tokens), atol=1e-5, rtol=0)
    torch.testing.assert_close(cache["rnn.1.hook_h"], forward_cache["rnn.1.hook_h"], atol=1e-6, rtol=0)
    assert not torch.allclose(backwards(tokens), forwards(tokens), atol=1e-4)


def test_only_classifiers_read_backwards() -> None:
    with pytest.raises(ValueError, match="classifiers only"):
        RecurrentConfig(head="lm", go_backwards=True)
