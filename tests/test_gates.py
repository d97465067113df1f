"""Gate recording and slicing for the recurrent-cell page: what is shown equals the recorded cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from explorer.analysis.gates import (
    MAX_TOKENS,
    QUANTITIES,
    prepare_ids,
    prepare_text,
    record_batch,
    record_gates,
    saturation,
    step_table,
)
from explorer.data.tokenizers import UNK, Tokenizer
from explorer.figures.gates import mark_step, sequence_heatmaps, show_step, step_figure
from explorer.figures.tokens import token_grid, token_strip_html
from explorer.models import RecurrentConfig, build_model

V, E, H = 17, 6, 5


def _model(cell: str, n_layers: int = 2, **extra):
    return build_model(RecurrentConfig(cell=cell, d_vocab=V, d_embed=E, d_hidden=H, n_layers=n_layers, **extra)).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_step_table_and_step_figure_show_the_cache(cell: str) -> None:
    model = _model(cell)
    ids = [4, 9, 1, 12, 7, 7, 3]
    record = record_gates(model, ids)
    _, cache = model.run_with_cache(torch.tensor([ids]))
    for layer in range(2):
        fig = step_figure(record, layer)
        for t in (0, 3, len(ids) - 1):
            table = step_table(record, layer, t)
            show_step(fig, record, layer, t, "x")
            for k, q in enumerate(QUANTITIES[cell]):
                source = "z" if q.key == "update" else q.key
                expected = cache[f"rnn.{layer}.hook_{source}"][0].numpy()  # [pos, d_hidden]
                if q.key == "update":
                    expected = 1.0 - expected  # the lecture's z_t is 1 - torch's z
                np.testing.assert_array_equal(table[f"{q.symbol} (t)"].to_numpy(), expected[t])
                np.testing.assert_array_equal(np.asarray(fig.data[2 * k].y), expected[t])
                previous = table[f"{q.symbol} (t−1)"].to_numpy()
                if t > 0:
                    np.testing.assert_array_equal(previous, expected[t - 1])
                elif q.key in ("c", "h"):
                    np.testing.assert_array_equal(previous, np.zeros(H))  # the initial state
                else:
                    assert np.isnan(previous).all()  # a gate has no value before the first step


def test_one_step_figure_serves_every_record_of_its_shape() -> None:
    """A page keeps one step figure while the run trains: a step of new weights brings its own values and axes."""
    ids = [4, 9, 1, 12, 7, 7, 3]
    first, second = (record_gates(build_model(RecurrentConfig(cell="lstm", d_vocab=V, d_embed=E, d_hidden=H),
                                                seed=seed).eval(), ids) for seed in (0, 1))
    fig = step_figure(first, 0)
    show_step(fig, first, 0, 2, "x")
    show_step(fig, second, 0, 5, "y")
    for k, q in enumerate(QUANTITIES["lstm"]):
        np.testing.assert_array_equal(np.asarray(fig.data[2 * k].y), second.at(0, q.key, 5))
        low, high = fig.layout[fig.data[2 * k].yaxis.replace("y", "yaxis")].range
        if q.kind == "gate":
            assert (low, high) == pytest.approx((-0.05, 1.05))
        elif q.kind == "state":  # Cₜ: the new record's largest |value| over the whole input, with 5 % room
            top = float(np.abs(second.series(0, q.key)).max())
            assert (low, high) == pytest.approx((-1.1 * top, 1.1 * top))
            assert top != pytest.approx(float(np.abs(first.series(0, q.key)).max()))


def test_lstm_record_obeys_the_lecture_equations() -> None:
    record = record_gates(_model("lstm", 1), [5, 6, 7, 8, 9, 10])
    f, i, g, c, o, h = (record.series(0, k) for k in "figcoh")
    c_prev = np.vstack([np.zeros((1, H)), c[:-1]])
    np.testing.assert_allclose(c, f * c_prev + i * g, atol=1e-6)
    np.testing.assert_allclose(h, o * np.tanh(c), atol=1e-6)


def test_gru_update_gate_follows_the_lecture_convention() -> None:
    record = record_gates(_model("gru", 1), [5, 6, 7, 8])
    z_lecture, n, h = (record.series(0, k) for k in ("update", "n", "h"))
    h_prev = np.vstack([np.zeros((1, H)), h[:-1]])
    np.testing.assert_allclose(h, (1 - z_lecture) * h_prev + z_lecture * n, atol=1e-6)


def test_prepare_text_cuts_long_input_and_marks_unknown_tokens() -> None:
    tok = Tokenizer.from_symbols(["(", ")"])
    long = prepare_text(tok, "()" * 400)
    assert len(long) == MAX_TOKENS and long.truncated and long.n_original == 800
    marked = prepare_text(tok, "(x)")
    assert marked.ids == (tok.id_of("("), UNK, tok.id_of(")")) and marked.unknown == (False, True, False)
    assert marked.pieces == ("(", "x", ")")
    assert len(prepare_text(tok, "")) == 0
    from_ids = prepare_ids(tok, [4, 5, 1])
    assert from_ids.pieces == ("(", ")", "<unk>") and from_ids.unknown == (False, False, True)


def test_record_batch_matches_one_by_one_recording() -> None:
    model = _model("lstm")
    sequences = [[4, 5, 6], [7, 8, 9, 10, 11, 12], [13]]
    batch = record_batch(model, sequences, layer=1, key="c")
    for seq, values in zip(sequences, batch):
        np.testing.assert_allclose(values, record_gates(model, seq).series(1, "c"), atol=1e-6)
    gru = _model("gru", 1)
    expected = record_gates(gru, [4, 5]).series(0, "update")
    np.testing.assert_allclose(record_batch(gru, [[4, 5]], 0, "update")[0], expected, atol=1e-6)


def test_saturation_counts_values_near_zero_and_one() -> None:
    record = record_gates(_model("lstm", 1), [4, 5])
    record.layers[0]["f"] = np.array([[0.01, 0.5, 0.99, 0.95, 0.2], [0.05, 0.06, 0.5, 0.5, 0.5]], dtype=np.float32)
    table = saturation(record, 0).set_index("key")
    assert table.loc["f", "near 0"] == pytest.approx(3 / 10)
    assert table.loc["f", "near 1"] == pytest.approx(2 / 10)
    assert set(table.index) == {"f", "i", "o"}  # only the sigmoid gates


def test_whole_sequence_figure_has_one_heatmap_per_quantity_and_marks_the_step() -> None:
    record = record_gates(_model("lstm", 1), [4, 5, 6, 7])
    fig = sequence_heatmaps(record, 0, ["a", "b", "c", "d"])
    assert len(fig.data) == 6
    np.testing.assert_array_equal(np.asarray(fig.data[3].z), record.series(0, "c").T)  # units × time
    mark_step(fig, 2)
    assert fig.layout.shapes[0].x0 == 1.5 and fig.layout.shapes[0].x1 == 2.5


def test_text_figures_escape_and_mark_tokens() -> None:
    html = token_strip_html(["<b>", "x", " "], [True, False, False], 1)
    assert "&lt;b&gt;" in html and "<b>" not in html  # a token is text, never markup
    assert "read as &lt;unk&gt;" in html
    fig = token_grid(["a", "b", "c"], np.array([0.1, -0.5, 0.3]), "t", unknown=[False, True, False], per_row=2)
    assert np.asarray(fig.data[0].z).shape == (2, 2)
    assert list(np.asarray(fig.data[0].text).ravel()[:3]) == ["a", "b*", "c"]


def test_a_backwards_reader_records_its_steps_in_reading_order() -> None:
    cfg = RecurrentConfig(cell="lstm", d_vocab=12, d_embed=4, d_hidden=4, head="classifier", pooling="mean",
                          pad_id=0, go_backwards=True)
    model = build_model(cfg).eval()
    ids = [3, 4, 5, 6]
    record = record_gates(model, ids)
    assert record.ids == (6, 5, 4, 3)
    forwards = build_model(dataclasses.replace(cfg, go_backwards=False)).eval()
    reversed_record = record_gates(forwards, ids[::-1])
    np.testing.assert_allclose(record.series(0, "c"), reversed_record.series(0, "c"), atol=1e-6)
    batch = record_batch(model, [ids, ids[:2]], layer=0, key="c")
    np.testing.assert_allclose(batch[0], record.series(0, "c"), atol=1e-6)
    np.testing.assert_allclose(batch[1], record_gates(model, ids[:2]).series(0, "c"), atol=1e-6)


def test_record_batch_keeps_one_array_per_input_even_when_empty() -> None:
    model = build_model(RecurrentConfig(cell="gru", d_vocab=12, d_embed=4, d_hidden=5, pad_id=0)).eval()
    out = record_batch(model, [[3, 4], [], [5]], layer=0, key="h", batch_size=2)
    assert [a.shape for a in out] == [(2, 5), (0, 5), (1, 5)]
    assert [a.shape for a in record_batch(model, [[], []], layer=0, key="h")] == [(0, 5), (0, 5)]
