"""Attention analysis: head summaries on hand-built patterns, words, windows, thumbnails, the √d_k demo,
recording from our transformers, and the figures built from them."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.analysis.attention import (
    downsample,
    group_labels,
    head_summaries,
    merge_pattern,
    record_attention,
    softmax_jacobian_norm,
    sqrt_dk_demo,
    sqrt_dk_example,
    strongest_heads,
    window,
    word_groups,
)
from explorer.figures.attention import display_tokens, head_grid, pattern_heatmap, scores_heatmap, summary_figure
from explorer.models import TransformerConfig, build_model

N = 6
CAUSAL = torch.ones(N, N, dtype=torch.bool).tril()
ALL = torch.ones(N, N, dtype=torch.bool)
TOKENS = ["[CLS]", "the", "cat", ".", "the", "[SEP]"]


def previous_token_pattern(n: int = N) -> torch.Tensor:
    p = torch.zeros(n, n)
    p[0, 0] = 1.0
    p[torch.arange(1, n), torch.arange(n - 1)] = 1.0
    return p


def test_a_pure_previous_token_head_scores_one() -> None:
    row = head_summaries(previous_token_pattern()[None], CAUSAL, TOKENS, TOKENS).iloc[0]
    assert row["previous"] == pytest.approx(1.0)
    assert row["self"] == pytest.approx(1 / N)  # only query 0, which has nowhere else to look
    assert row["distance"] == pytest.approx((N - 1) / N)
    assert row["entropy"] == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(row["next"]), "a causal pattern cannot look ahead"


def test_first_token_self_and_uniform_heads() -> None:
    first = torch.zeros(N, N)
    first[:, 0] = 1.0
    diagonal = torch.eye(N)
    uniform = CAUSAL.float() / CAUSAL.sum(-1, keepdim=True)
    frame = head_summaries(torch.stack([first, diagonal, uniform]), CAUSAL, TOKENS, TOKENS)
    assert frame.loc[0, "first"] == pytest.approx(1.0) and frame.loc[0, "entropy"] == pytest.approx(0.0, abs=1e-6)
    assert frame.loc[1, "self"] == pytest.approx(1.0) and frame.loc[1, "distance"] == pytest.approx(0.0)
    assert frame.loc[2, "entropy"] == pytest.approx(1.0), "even attention over the visible keys: normalised entropy 1"
    expected_distance = sum(sum(range(q + 1)) / (q + 1) for q in range(N)) / N
    assert frame.loc[2, "distance"] == pytest.approx(expected_distance)
    assert list(frame["head"]) == [0, 1, 2] and list(frame["layer"]) == [0, 0, 0]
    # Query 0 of a causal model can only see position 0: it is left out of the first-token score.
    assert frame.loc[1, "first"] == pytest.approx(0.0)
    assert frame.loc[2, "first"] == pytest.approx(sum(1 / (q + 1) for q in range(1, N)) / (N - 1))


def test_separators_punctuation_duplicates_and_next_token() -> None:
    to_sep = torch.zeros(N, N)
    to_sep[:, 5] = 1.0
    to_dot = torch.zeros(N, N)
    to_dot[:, 3] = 1.0
    nxt = torch.zeros(N, N)
    nxt[torch.arange(N - 1), torch.arange(1, N)] = 1.0
    nxt[N - 1, N - 1] = 1.0
    dup = torch.eye(N)
    dup[1], dup[4] = torch.eye(N)[4], torch.eye(N)[1]  # the two "the" look at each other
    frame = head_summaries(torch.stack([to_sep, to_dot, nxt, dup])[None], ALL, TOKENS, TOKENS)
    assert frame.loc[0, "separators"] == pytest.approx(1.0) and frame.loc[0, "punctuation"] == pytest.approx(0.0)
    assert frame.loc[1, "punctuation"] == pytest.approx(1.0) and frame.loc[1, "separators"] == pytest.approx(0.0)
    assert frame.loc[2, "next"] == pytest.approx(1.0) and frame.loc[2, "previous"] == pytest.approx(0.0)
    assert frame.loc[3, "duplicate"] == pytest.approx(2 / N)
    top = strongest_heads(frame, "next", n=1)
    assert (top.iloc[0]["layer"], top.iloc[0]["head"]) == (0, 2)


def test_cross_attention_has_no_positional_summaries() -> None:
    p = torch.full((3, 5), 0.2)
    row = head_summaries(p[None], torch.ones(3, 5, dtype=torch.bool), ["a", "b", "c"], ["x", "a", "y", "z", "."],
                         self_attention=False).iloc[0]
    assert math.isnan(row["previous"]) and math.isnan(row["distance"])
    assert row["duplicate"] == pytest.approx(0.2 / 3) and row["punctuation"] == pytest.approx(0.2)
    assert row["entropy"] == pytest.approx(1.0)


def test_word_groups_for_wordpiece_and_byte_level_bpe() -> None:
    wordpiece = ["[CLS]", "un", "##bel", "##ievably", ",", "it", "slept", ".", "[SEP]"]
    groups = word_groups(wordpiece)
    assert groups == [[0], [1, 2, 3], [4], [5], [6], [7], [8]]
    assert group_labels(wordpiece, groups) == ["[CLS]", "unbelievably", ",", "it", "slept", ".", "[SEP]"]
    bpe = ["<|endoftext|>", "The", " un", "believ", "ably", " tired", " cat", "."]
    groups = word_groups(bpe)
    assert group_labels(bpe, groups) == ["<|endoftext|>", "The", "unbelievably", "tired", "cat", "."]


def test_merging_sums_keys_and_averages_queries() -> None:
    p = torch.softmax(torch.randn(2, 5, 5), -1)  # [head, q, k]
    groups = [[0], [1, 2], [3, 4]]
    merged = merge_pattern(p, groups, groups)
    assert merged.shape == (2, 3, 3)
    torch.testing.assert_close(merged.sum(-1), torch.ones(2, 3))
    expected = (p[:, 1, 3] + p[:, 1, 4] + p[:, 2, 3] + p[:, 2, 4]) / 2
    torch.testing.assert_close(merged[:, 1, 2], expected)


def test_windows_and_thumbnails() -> None:
    p = torch.softmax(torch.randn(3, 4, 100, 100), -1)  # [layer, head, q, k]
    assert window(p, (10, 20), (0, 50)).shape == (3, 4, 10, 50)
    thumbs = downsample(p, 24)
    assert thumbs.shape == (3, 4, 24, 24)
    torch.testing.assert_close(thumbs.sum(-1), torch.ones(3, 4, 24))
    assert downsample(p[..., :10, :10], 24).shape == (3, 4, 10, 10)


def test_softmax_jacobian_norm_matches_autograd() -> None:
    scores = torch.randn(7, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), scores)
    assert softmax_jacobian_norm(torch.softmax(scores, -1)).item() == pytest.approx(jac.norm().item())


def test_sqrt_dk_scaling_keeps_scores_at_unit_variance() -> None:
    frame = sqrt_dk_demo(d_ks=(1, 16, 256), n_keys=8, n_samples=2000)
    scaled, raw = frame[frame["scaled"]], frame[~frame["scaled"]]
    assert scaled["score_std"].tolist() == pytest.approx([1, 1, 1], rel=0.1)
    assert raw["score_std"].tolist() == pytest.approx([1, 4, 16], rel=0.1)
    assert raw["max_weight"].is_monotonic_increasing and raw["gradient"].iloc[-1] < 0.5 * scaled["gradient"].iloc[-1]
    assert scaled["max_weight"].max() - scaled["max_weight"].min() < 0.1
    unscaled, scaled_one = sqrt_dk_example(512, n_keys=8)
    assert unscaled.max() > scaled_one.max() and unscaled.sum().item() == pytest.approx(1.0)


# ----------------------------------------------------------------------------------------------- recording
def _tiny(**kw) -> torch.nn.Module:
    cfg = TransformerConfig(d_vocab=12, n_ctx=16, d_model=16, n_heads=2, n_layers=2, d_mlp=32, **kw)
    return build_model(cfg).eval()


def test_record_decoder_patterns_equal_the_cache() -> None:
    model = _tiny(causal=True, head="lm", positional="learned")
    tokens = torch.randint(0, 12, (1, 7))
    names = [f"t{i}" for i in range(7)]
    (att,) = record_attention(model, tokens, names, causal=True)
    _, cache = model.run_with_cache(tokens)
    assert att.kind == "self" and att.causal and att.patterns.shape == (2, 2, 7, 7)
    torch.testing.assert_close(att.patterns[1].float(), cache["blocks.1.attn.hook_pattern"][0], atol=1e-3, rtol=0)
    assert torch.equal(att.allowed(), torch.ones(7, 7, dtype=torch.bool).tril())
    assert len(att.summaries) == 4


def test_record_encoder_decoder_gives_three_kinds() -> None:
    model = _tiny(encoder_decoder=True, positional="sinusoidal")
    sets = record_attention(model, torch.randint(4, 12, (1, 5)), list("abcde"), causal=False,
                            decoder_tokens=torch.randint(4, 12, (1, 4)), decoder_str=list("wxyz"))
    shapes = {s.kind: (tuple(s.patterns.shape), s.causal) for s in sets}
    assert shapes == {"encoder": ((2, 2, 5, 5), False), "decoder": ((2, 2, 4, 4), True),
                      "cross": ((2, 2, 4, 5), False)}
    cross = next(s for s in sets if s.kind == "cross")
    assert cross.q_tokens == list("wxyz") and cross.k_tokens == list("abcde")
    assert cross.summaries["previous"].isna().all()


# ----------------------------------------------------------------------------------------------- figures
def test_figures() -> None:
    assert display_tokens(["the", "cat", "the", "\n", ""]) == ["the", "cat", "the\u200b", "↵", "∅"]
    p = previous_token_pattern()
    fig = pattern_heatmap(p, TOKENS, TOKENS, CAUSAL)
    z = fig.data[0].z
    assert math.isnan(z[0][1]) and z[1][0] == 1.0, "masked cells are empty, allowed cells keep their weight"
    assert len(set(fig.data[0].x)) == N, "repeated tokens stay separate columns"
    scores = scores_heatmap(torch.where(CAUSAL, torch.randn(N, N), float("-inf")), TOKENS, TOKENS)
    assert math.isnan(scores.data[0].z[0][3]) and scores.data[0].zmid == 0
    grid = head_grid(torch.rand(2, 3, 4, 4), [0, 1], [0, 1, 2], selected=(1, 2))
    clicks = grid.data[1]
    assert [list(c) for c in clicks.customdata] == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    assert len(grid.layout.shapes) == 1
    frame = head_summaries(torch.softmax(torch.randn(2, 3, N, N), -1), ALL, TOKENS, TOKENS)
    summary = summary_figure(frame)
    heatmaps = [t for t in summary.data if t.type == "heatmap"]
    assert len(heatmaps) == 9 and heatmaps[0].z.shape == (2, 3)
