"""‖∂L/∂hₜ‖ equals autograd on an independent unrolled model, and behaves as the theory says; W_hh spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional

from explorer.analysis.gradients import (
    gradients_over_training,
    hidden_gradient_norms,
    radius_history,
    spectra,
)
from explorer.models import RecurrentConfig, build_model

V, E, H, T = 11, 5, 6, 9
CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}


def _independent_norms(model, ids: list[int], target: int, tapped_layer: int) -> np.ndarray:
    """∂L/∂hₜ by adding a zero tensor δₜ to hₜ of one layer in torch's own cells, and differentiating by δₜ."""
    cfg = model.config
    cells = []
    for layer in range(cfg.n_layers):
        d_in = cfg.d_embed if layer == 0 else cfg.d_hidden
        cell = CELLS[cfg.cell](d_in, cfg.d_hidden)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).data.copy_(getattr(model.rnn, f"{name}_l{layer}").data)
        cells.append(cell)
    deltas = [torch.zeros(1, cfg.d_hidden, requires_grad=True) for _ in ids]
    x = model.embed(torch.tensor([ids]))[0]  # [pos, d_embed]
    for layer, cell in enumerate(cells):
        h = torch.zeros(1, cfg.d_hidden)
        c = torch.zeros(1, cfg.d_hidden)
        outputs = []
        for t in range(len(ids)):
            if cfg.cell == "lstm":
                h, c = cell(x[t:t + 1], (h, c))
            else:
                h = cell(x[t:t + 1], h)
            if layer == tapped_layer:
                h = h + deltas[t]
            outputs.append(h)
        x = torch.cat(outputs)  # [pos, d_hidden]
    if cfg.head == "lm":
        final = model.unembed(x[-1])
    else:
        pooled = x.mean(0) if cfg.pooling == "mean" else x[-1]
        final = model.classifier(pooled)
    loss = functional.cross_entropy(final[None], torch.tensor([target]))
    grads = torch.autograd.grad(loss, deltas)
    return np.array([float(g.norm()) for g in grads])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize(("n_layers", "head", "pooling"), [(1, "lm", "last"), (2, "classifier", "mean"),
                                                             (2, "classifier", "last")])
def test_gradient_norms_equal_autograd_on_an_unrolled_model(cell, n_layers, head, pooling) -> None:
    cfg = RecurrentConfig(cell=cell, d_vocab=V, d_embed=E, d_hidden=H, n_layers=n_layers, head=head, n_classes=3,
                          pooling=pooling)
    model = build_model(cfg, seed=1).eval()
    ids = [4, 7, 1, 9, 10, 5, 5, 8, 6]
    for layer in range(n_layers):
        curve = hidden_gradient_norms(model, ids, target=2, layer=layer)
        expected = _independent_norms(model, ids, target=2, tapped_layer=layer)
        np.testing.assert_allclose(curve.norms, expected, rtol=1e-4, atol=1e-9)
        assert curve.target == 2 and curve.target_from == "label"


def test_default_target_is_the_models_prediction() -> None:
    model = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H)).eval()
    ids = [4, 5, 6]
    curve = hidden_gradient_norms(model, ids)
    with torch.no_grad():
        predicted = int(model(torch.tensor([ids]))[0, -1].argmax())
    assert curve.target == predicted and curve.target_from == "prediction"


def _elman_with_radius(radius: float, seed: int = 0, orthogonal: bool = True):
    """An Elman LM whose W_hh has spectral radius ``radius`` (an orthogonal matrix scaled, or a random one)."""
    model = build_model(RecurrentConfig(cell="rnn", d_vocab=V, d_embed=E, d_hidden=16), seed=seed).eval()
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(16, 16, generator=generator)
    if orthogonal:
        w, _ = torch.linalg.qr(w)  # every |λ| = 1
    w = w / torch.linalg.eigvals(w).abs().max()
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(radius * w)
    return model


def test_contracting_elman_gradients_shrink_geometrically_back_in_time() -> None:
    ids = [int(i) for i in torch.randint(4, V, (30,), generator=torch.Generator().manual_seed(0))]
    norms = hidden_gradient_norms(_elman_with_radius(0.5), ids, target=4).norms
    ratios = norms[:-1] / norms[1:]  # one step further back each
    assert (ratios <= 0.5 + 1e-6).all()  # |tanh'| ≤ 1 and ‖W‖ = 0.5: at least halved per step
    generic = hidden_gradient_norms(_elman_with_radius(0.5, orthogonal=False), ids, target=4).norms
    assert generic[0] / generic[-1] < 1e-5  # 29 steps back: vanished


def test_expanding_linear_elman_gradients_grow_geometrically_back_in_time() -> None:
    ids = [int(i) for i in torch.randint(4, V, (30,), generator=torch.Generator().manual_seed(1))]
    norms = hidden_gradient_norms(_elman_with_radius(1.5), ids, target=4, activation="linear").norms
    np.testing.assert_allclose(norms[:-1] / norms[1:], 1.5, rtol=1e-4)  # exactly ×1.5 per step back
    generic = hidden_gradient_norms(_elman_with_radius(1.5, orthogonal=False), ids, target=4,
                                    activation="linear").norms
    assert generic[0] / generic[-1] > 1.5 ** 15  # 29 steps back: exploded


def test_tanh_override_reproduces_the_model_and_linear_is_for_elman_only() -> None:
    model = build_model(RecurrentConfig(cell="rnn", d_vocab=V, d_embed=E, d_hidden=H, n_layers=2)).eval()
    ids = [4, 5, 6, 7, 8]
    for layer in (0, 1):
        np.testing.assert_allclose(hidden_gradient_norms(model, ids, 3, layer, activation="tanh").norms,
                                   hidden_gradient_norms(model, ids, 3, layer).norms, rtol=1e-6)
    lstm = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H)).eval()
    with pytest.raises(ValueError):
        hidden_gradient_norms(lstm, ids, activation="linear")


def test_spectra_are_the_eigenvalues_of_each_gate_block() -> None:
    model = build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H)).eval()
    found = spectra(model.W_hh(0), "lstm")
    assert [s.block for s in found] == ["i", "f", "g", "o"]
    forget = model.rnn.weight_hh_l0.detach().double()[H:2 * H]  # torch's rows i, f, g, o
    expected = np.linalg.eigvals(forget.numpy())
    np.testing.assert_allclose(np.sort_complex(found[1].eigenvalues), np.sort_complex(expected), atol=1e-10)
    assert found[1].radius == pytest.approx(np.abs(np.linalg.eigvals(forget.numpy())).max())
    elman = _elman_with_radius(0.5)
    (only,) = spectra(elman.W_hh(0), "rnn")
    assert only.radius == pytest.approx(0.5, rel=1e-5)


def test_history_over_snapshots() -> None:
    model = _elman_with_radius(0.5)
    first = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(2.0)
    second = {k: v.clone() for k, v in model.state_dict().items()}
    snapshots = {0: first, 50: second}
    frame = radius_history(snapshots, "rnn")
    assert frame["step"].tolist() == [0, 50]
    np.testing.assert_allclose(frame["radius"], [0.5, 1.0], rtol=1e-5)
    ids = [4, 5, 6, 7]
    over = gradients_over_training(model.config, snapshots, ids, target=4)
    assert over.shape == (2, 4)
    np.testing.assert_allclose(over.loc[50].to_numpy(), hidden_gradient_norms(model, ids, target=4).norms, rtol=1e-6)


@pytest.mark.parametrize("activation", [None, "linear"])
def test_a_backwards_reader_has_the_gradients_of_a_forward_reader_of_the_reversed_text(activation) -> None:
    common = dict(cell="rnn", d_vocab=12, d_embed=4, d_hidden=6, head="classifier", n_classes=2, pad_id=0)
    backwards = build_model(RecurrentConfig(**common, go_backwards=True), seed=2)
    forwards = build_model(RecurrentConfig(**common), seed=2)
    ids = [3, 4, 5, 6, 7, 8, 9]
    read_back = hidden_gradient_norms(backwards, ids, target=1, activation=activation)
    read_reversed = hidden_gradient_norms(forwards, ids[::-1], target=1, activation=activation)
    np.testing.assert_allclose(read_back.norms, read_reversed.norms, rtol=1e-5)
