"""Choosing the next token: temperature, top-k and top-p reshape the distribution as defined; greedy, seeded
sampling and beam search agree where they must (beam 1 = greedy, T → 0 = greedy, a wide beam = exhaustive search)."""

from __future__ import annotations

import itertools

import pytest
import torch

from explorer.analysis.decoding import (
    beam_search,
    continuation_logprob,
    greedy,
    next_token_fn,
    reshape,
    sample,
    top_k_mask,
    top_p_mask,
)
from explorer.analysis.predictions import lm_next_token, sample_tokens
from explorer.data.tokenizers import PAD
from explorer.models import RecurrentConfig, TransformerConfig, build_model

V = 13


@pytest.fixture(scope="module")
def gpt():
    model = build_model(TransformerConfig(d_vocab=V, n_ctx=32, d_model=32, n_heads=4, n_layers=2, d_mlp=48), seed=3)
    with torch.no_grad():
        model.W_U.mul_(4)  # peaked next-token distributions, so ties are impossible and choices differ
    return model.eval()


def markov(n_vocab: int = 4, seed: int = 0):
    """A toy language model whose next-token logits depend on the last token only: exhaustive search is cheap."""
    table = torch.randn(n_vocab, n_vocab, generator=torch.Generator().manual_seed(seed)) * 2

    def fn(ids: torch.Tensor) -> torch.Tensor:
        return table[ids[:, -1]]

    return fn, table


def test_top_p_keeps_the_smallest_set_reaching_p() -> None:
    probs = torch.tensor([0.05, 0.4, 0.1, 0.25, 0.2])
    for p, expected in ((0.4, {1}), (0.41, {1, 3}), (0.65, {1, 3}), (0.66, {1, 3, 4}), (0.9, {1, 3, 4, 2}),
                        (1.0, {0, 1, 2, 3, 4})):
        kept = set(torch.nonzero(top_p_mask(probs, p)).flatten().tolist())
        assert kept == expected, (p, kept)
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        probs = torch.softmax(torch.randn(40, generator=generator) * 3, 0)
        p = float(torch.rand(1, generator=generator)) * 0.98 + 0.01
        mask = top_p_mask(probs, p)
        assert probs[mask].sum() >= p - 1e-6
        smallest = probs[mask].min()
        assert probs[mask].sum() - smallest < p, "dropping any kept token falls short of p"
        assert (~mask).sum() == 0 or probs[~mask].max() <= smallest, "only the most likely tokens are kept"


def test_top_k_and_temperature() -> None:
    logits = torch.tensor([2.0, 1.0, 0.5, -1.0, 3.0])
    assert set(torch.nonzero(top_k_mask(logits.softmax(0), 2)).flatten().tolist()) == {0, 4}
    cold, hot = reshape(logits, 0.3), reshape(logits, 3.0)
    torch.testing.assert_close(reshape(logits, 1.0).reshaped, logits.softmax(0))
    assert cold.reshaped.max() > logits.softmax(0).max() > hot.reshaped.max(), "low T sharpens, high T flattens"
    greedy_dist = reshape(logits, 0.0)
    assert greedy_dist.reshaped.tolist() == [0, 0, 0, 0, 1] and int(greedy_dist.kept.sum()) == 1
    both = reshape(logits, 1.0, top_k=3, top_p=0.5)
    assert both.kept.tolist() == [False, False, False, False, True]
    torch.testing.assert_close(both.reshaped.sum(), torch.tensor(1.0))
    for bad in ({"temperature": -1}, {"top_k": -2}, {"top_p": 0.0}, {"top_p": 1.5}):
        with pytest.raises(ValueError):
            reshape(logits, **{"temperature": 1.0, **bad})


def test_beam_width_one_is_greedy(gpt) -> None:
    fn = next_token_fn(gpt)
    for prompt in ([1, 2, 3], [5], [7, 7, 2, 9, 4]):
        expected = greedy(fn, prompt, 12)
        assert beam_search(fn, prompt, 12, beam_width=1)[0].ids == expected
        stop = expected[3]  # a token greedy emits: both stop right after it
        cut = greedy(fn, prompt, 12, stop_ids=[stop])
        assert cut[-1] == stop and len(cut) <= 4
        best = beam_search(fn, prompt, 12, beam_width=1, stop_ids=[stop])[0]
        assert best.ids == cut and best.finished


def test_sampling_at_temperature_near_zero_is_greedy_and_seeds_repeat(gpt) -> None:
    fn = next_token_fn(gpt)
    prompt = [3, 1, 4]
    assert sample(fn, prompt, 15, temperature=1e-4, seed=0) == greedy(fn, prompt, 15)
    assert sample(fn, prompt, 15, temperature=0.0, seed=5) == greedy(fn, prompt, 15)
    first = sample(fn, prompt, 20, temperature=1.5, seed=7)
    assert sample(fn, prompt, 20, temperature=1.5, seed=7) == first, "the same seed gives the same text"
    assert any(sample(fn, prompt, 20, temperature=1.5, seed=s) != first for s in range(8, 12))
    assert set(sample(fn, prompt, 30, temperature=2.0, top_k=1, seed=1)) <= set(range(V))
    assert sample(fn, prompt, 10, temperature=2.0, top_k=1, seed=1) == greedy(fn, prompt, 10)


def test_a_wide_beam_finds_the_most_likely_sequence() -> None:
    fn, table = markov()
    logp = torch.log_softmax(table, -1)
    prompt, n_new = [0], 3
    scores = {seq: sum(float(logp[a, b]) for a, b in itertools.pairwise((*prompt, *seq)))
              for seq in itertools.product(range(4), repeat=n_new)}
    ranked = sorted(scores, key=scores.get, reverse=True)
    beams = beam_search(fn, prompt, n_new, beam_width=16, n_best=5)
    assert [tuple(b.ids) for b in beams] == ranked[:5]
    assert [round(b.score, 5) for b in beams] == [round(scores[s], 5) for s in ranked[:5]]
    narrow = beam_search(fn, prompt, n_new, beam_width=2)
    assert narrow[0].score <= beams[0].score + 1e-9 and len(narrow) == 2
    assert continuation_logprob(fn, prompt, list(ranked[0])) == pytest.approx(scores[ranked[0]], abs=1e-5)


def test_beam_search_sets_aside_hypotheses_at_the_stop_token() -> None:
    fn, _ = markov(seed=2)
    beams = beam_search(fn, [1], 6, beam_width=3, stop_ids=[2])
    assert beams == sorted(beams, key=lambda b: b.score, reverse=True)
    for beam in beams:
        assert (beam.ids[-1] == 2) == beam.finished and 2 not in beam.ids[:-1]
    with pytest.raises(ValueError, match="beam width"):
        beam_search(fn, [1], 3, beam_width=0)


def test_recurrent_language_models_decode_and_never_emit_padding() -> None:
    model = build_model(RecurrentConfig(cell="gru", d_vocab=V, d_embed=8, d_hidden=16), seed=1).eval()
    with torch.no_grad():
        model.unembed.bias[PAD] = 50.0  # padding would win every time if it were allowed
    fn = lm_next_token(model)
    out = greedy(fn, [4, 5], 10)
    assert len(out) == 10 and PAD not in out
    assert beam_search(fn, [4, 5], 10, beam_width=1)[0].ids == out
    assert sample_tokens(model, [4, 5], 10, temperature=0.0) == out
    assert PAD not in sample_tokens(model, [4, 5], 30, temperature=1.0, seed=2)
