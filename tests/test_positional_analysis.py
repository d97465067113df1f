"""The positions page's numbers against their references: the angle-sum identities, norms, RoFormer's
offset-only scores, a hand-built previous-token head, and the experiment's claim (no positions cannot reverse)."""

from __future__ import annotations

import math
import struct

import pytest
import torch

from explorer.analysis.positions.gguf import read_metadata
from explorer.analysis.positions.inputs import run_inputs
from explorer.analysis.positions.offsets import (
    attention_by_offset,
    offset_profiles,
    positional_heads,
    self_attention_patterns,
)
from explorer.analysis.positions.rotary import (
    RotaryInfoUnavailable,
    diagonal_spread,
    pair_score,
    rotary_scores,
    scores_by_offset,
    scores_with_and_without,
    smollm2_rotary,
)
from explorer.analysis.positions.sinusoidal import (
    SinusoidSettings,
    check_sinusoid_settings,
    closest_pair,
    cosine_similarity,
    nearest_distances,
    offset_spread,
    pca,
    position_norms,
    shift_check,
    shift_matrix,
    similarity_by_offset,
    wavelengths,
)
from explorer.analysis.positions.tables import embedding_sizes, learned_formation, position_table, token_at_positions
from explorer.data.tasks import TaskSpec, make_task
from explorer.models import TransformerConfig, build_model
from explorer.models.positional import sinusoidal_table
from explorer.training.config import TrainConfig
from explorer.training.position_experiment import (
    ExperimentSpec,
    evaluate_length,
    experiment_task,
    group_runs,
    make_runs,
    positions_needed,
    results,
    spec_of,
)
from explorer.training.run import new_run


# ----------------------------------------------------------------- sinusoids
@pytest.mark.parametrize(("d_model", "base", "k"), [(64, 10000.0, 1), (64, 10000.0, 7), (128, 10000.0, 33),
                                                    (16, 100.0, 5), (512, 10000.0, 250)])
def test_shift_rotation_reproduces_the_shifted_encoding(d_model: int, base: float, k: int) -> None:
    check = shift_check(SinusoidSettings(n_pos=300, d_model=d_model, base=base), k)
    assert check.max_residual < 1e-5
    assert check.residual.shape == (300,)
    assert check.power_residual < 1e-9  # M(k) = M(1)^k
    assert check.orthogonality < 1e-12  # M(k) preserves norms


def test_shift_matrix_is_block_diagonal_rotations() -> None:
    m = shift_matrix(3, 8)
    for i in range(4):
        w = 10000 ** (-2 * i / 8)
        block = m[2 * i: 2 * i + 2, 2 * i: 2 * i + 2]
        expected = torch.tensor([[math.cos(3 * w), math.sin(3 * w)], [-math.sin(3 * w), math.cos(3 * w)]],
                                dtype=torch.float64)
        torch.testing.assert_close(block, expected)
    off_diagonal = m.clone()
    for i in range(4):
        off_diagonal[2 * i: 2 * i + 2, 2 * i: 2 * i + 2] = 0
    assert off_diagonal.abs().max() == 0


def test_norms_are_constant_and_positions_distinct() -> None:
    table = sinusoidal_table(200, 64)
    norms = position_norms(table)
    torch.testing.assert_close(norms, torch.full_like(norms, math.sqrt(32)), atol=1e-5, rtol=0)
    pair = closest_pair(table)
    brute = min(float((table[i].double() - table[j].double()).norm()) for i in range(200) for j in range(i + 1, 200))
    assert pair.distance == pytest.approx(brute, rel=1e-9) and pair.distance > 0.1
    assert float(nearest_distances(table).min()) == pytest.approx(pair.distance)


def test_similarity_depends_on_the_offset_only_and_falls_with_distance() -> None:
    sim = cosine_similarity(sinusoidal_table(120, 64))
    assert offset_spread(sim) < 1e-5
    by_offset = similarity_by_offset(sim)
    assert by_offset.loc[0, "mean"] == pytest.approx(1.0)
    assert by_offset.loc[1, "mean"] > by_offset.loc[10, "mean"] > by_offset.loc[60, "mean"]


def test_wavelengths_go_from_two_pi_towards_base_two_pi() -> None:
    waves = wavelengths(64, 10000.0)
    assert waves[0] == pytest.approx(2 * math.pi)
    assert waves[-1] == pytest.approx(2 * math.pi * 10000 ** (62 / 64))
    assert bool((waves[1:] > waves[:-1]).all())


def test_bad_settings_are_clamped_with_a_notice_or_refused() -> None:
    settings, notices = check_sinusoid_settings(50, 63, 10000.0)
    assert settings.d_model == 62 and "odd" in notices[0]
    settings, notices = check_sinusoid_settings(50, 10**6, 10000.0)
    assert settings.d_model == 2048 and notices
    settings, notices = check_sinusoid_settings(10**6, 64, 10000.0)
    assert settings.n_pos == 1024 and notices
    for d_model, base in ((0, 10000.0), (-4, 10000.0), (64, 1.0), (64, 0.5), (64, float("nan"))):
        with pytest.raises(ValueError):
            check_sinusoid_settings(50, d_model, base)


def test_pca_matches_the_covariance_eigenvectors() -> None:
    x = torch.randn(200, 5) * torch.tensor([5.0, 3.0, 1.0, 0.5, 0.1])
    proj = pca(x, 2)
    cov = torch.cov(x.double().T)
    values, vectors = torch.linalg.eigh(cov)
    top = vectors[:, -1]
    assert abs(float(proj.components[0] @ top)) == pytest.approx(1.0, abs=1e-6)
    assert float(proj.explained[0]) == pytest.approx(float(values[-1] / values.sum()), rel=1e-6)


# ----------------------------------------------------------------- tokens and tables in models
def _model(positional: str, **kw):
    cfg = TransformerConfig(d_vocab=14, n_ctx=24, d_model=32, n_heads=4, n_layers=1, d_mlp=64,
                            positional=positional, **kw)
    return build_model(cfg).eval()


def test_a_sinusoidal_model_moves_every_token_by_the_same_distance() -> None:
    model = _model("sinusoidal")
    sizes = embedding_sizes(model, n_used=24)
    assert sizes.loc[1, "mean norm"] == pytest.approx(4.0, rel=1e-5)  # √(32/2)
    points, _ = token_at_positions(model.W_E[[4, 5]], position_table(model), ["a", "b"])
    placed = points[points["position"] >= 0]
    assert placed["distance"].max() - placed["distance"].min() < 1e-5
    # E(token) + P(pos) projected: the token alone sits where the projection of E(token) lands
    assert len(points) == 2 * 25


def test_rotary_and_no_position_models_have_no_table() -> None:
    assert position_table(_model("rotary")) is None and position_table(_model("none")) is None
    assert len(embedding_sizes(_model("rotary"))) == 1


def test_learned_table_formation_reads_every_snapshot() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=5, n_train=200, n_val=20))
    cfg = TransformerConfig(d_vocab=data.tokenizer.vocab_size, n_ctx=16, d_model=16, n_heads=2, n_layers=1,
                            d_mlp=32, positional="learned", pad_id=0)
    run = new_run("t", data, cfg, TrainConfig(max_steps=20, snapshot_every=5, eval_every=10))
    run.trainer.start()
    run.trainer.step(n_steps=20)
    formation = learned_formation(run, n_used=10, far=4)
    assert formation["step"].tolist() == [0, 5, 10, 15, 20]
    assert formation.iloc[:, 1].between(-1, 1).all()


# ----------------------------------------------------------------- rotary
def test_rotary_scores_depend_only_on_the_offset() -> None:
    q, k = torch.randn(16), torch.randn(16)
    scores = rotary_scores(q, k, 40, 10000.0)
    assert diagonal_spread(scores) < 1e-4
    by_offset = scores_by_offset(scores)
    assert by_offset["spread"].max() < 1e-4
    # against RoFormer's form: q_m · k_n = qᵀ R(n - m) k, computed pair by pair
    m, n = 3, 11
    theta = 10000.0 ** (-torch.arange(0, 16, 2, dtype=torch.float64) / 16)
    expected = 0.0
    for i in range(8):
        a = (n - m) * float(theta[i])
        q1, q2, k1, k2 = float(q[2 * i]), float(q[2 * i + 1]), float(k[2 * i]), float(k[2 * i + 1])
        expected += q1 * (k1 * math.cos(a) - k2 * math.sin(a)) + q2 * (k1 * math.sin(a) + k2 * math.cos(a))
    assert float(scores[m, n]) == pytest.approx(expected, abs=1e-4)


def test_one_pair_score_is_a_cosine_of_the_offset() -> None:
    q, k, theta = (1.0, 0.5), (-0.3, 2.0), 0.4
    phase = math.atan2(q[1], q[0]) - math.atan2(k[1], k[0])
    for m, n in ((0, 0), (5, 2), (2, 9)):
        expected = math.hypot(*q) * math.hypot(*k) * math.cos(phase + (m - n) * theta)
        assert pair_score(q, k, m, n, theta) == pytest.approx(expected, abs=1e-9)


def test_scores_with_and_without_rotary_inside_a_model() -> None:
    model = _model("rotary", layer_norm=False)
    tokens = torch.randint(4, 14, (2, 10))
    out = scores_with_and_without(model, "blocks.0", tokens)
    finite = torch.isfinite(out["scores_with"])
    torch.testing.assert_close(out["recomputed"][finite], out["scores_with"][finite], atol=1e-5, rtol=1e-5)
    _, cache = model.run_with_cache(tokens)
    q, k = cache["blocks.0.attn.hook_q"], cache["blocks.0.attn.hook_k"]
    plain = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(8)
    torch.testing.assert_close(out["scores_without"][finite], plain[finite], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(out["scores_without"][finite], out["scores_with"][finite])
    torch.testing.assert_close(out["pattern_without"].sum(-1), torch.ones(2, 4, 10))


def test_smollm2_frequencies_come_from_its_file_or_say_how_to_install() -> None:
    try:
        d_rot, theta = smollm2_rotary()
    except RotaryInfoUnavailable as err:
        assert "pip install" in str(err)
    else:  # SmolLM2-135M's config: head_dim 576 / 9 = 64, rope_theta 100000
        assert (d_rot, theta) == (64, 100000.0)


def _gguf_bytes(pairs: list[tuple[str, int, bytes]]) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs))
    for key, kind, payload in pairs:
        out += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", kind) + payload
    return out


def test_gguf_metadata_reader_skips_arrays_and_stops_early(tmp_path) -> None:
    words = b"".join(struct.pack("<Q", len(w)) + w for w in (b"a", b"bc", b"def"))
    blob = _gguf_bytes([
        ("general.name", 8, struct.pack("<Q", 3) + b"toy"),
        ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 3) + words),
        ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0.1, 0.2, 0.3)),
        ("llama.rope.freq_base", 6, struct.pack("<f", 500000.0)),
        ("llama.attention.head_count", 4, struct.pack("<I", 9)),
    ]) + b"\x00" * 3  # a truncated pair after the wanted keys is never read
    path = tmp_path / "toy.gguf"
    path.write_bytes(blob)
    meta = read_metadata(path, {"llama.rope.freq_base", "llama.attention.head_count", "general.name"})
    assert meta == {"llama.rope.freq_base": 500000.0, "llama.attention.head_count": 9, "general.name": "toy"}
    (tmp_path / "bad.gguf").write_bytes(b"NOPE")
    with pytest.raises(ValueError):
        read_metadata(tmp_path / "bad.gguf", {"x"})


# ----------------------------------------------------------------- offsets
def _previous_token_model(n_ctx: int = 12):
    """One head, positions one-hot (W_pos = I, W_E = 0): q_t = 100·e_t, k_s = e_(s+1), so q_t·k_s is large
    exactly when s = t - 1."""
    cfg = TransformerConfig(d_vocab=6, n_ctx=n_ctx, d_model=n_ctx + 1, n_heads=1, d_head=n_ctx + 1, n_layers=1,
                            attn_only=True, layer_norm=False, positional="learned")
    model = build_model(cfg).eval()
    d = n_ctx + 1
    shift = torch.zeros(d, d)
    for s in range(d - 1):
        shift[s, s + 1] = 1.0
    with torch.no_grad():
        model.embed.weight.zero_()
        model.pos_embed.copy_(torch.eye(n_ctx, d))
        model.blocks[0].attn.W_Q.copy_(100 * torch.eye(d)[None])
        model.blocks[0].attn.W_K.copy_(shift[None])
    return model


def test_a_previous_token_head_peaks_at_offset_minus_one() -> None:
    model = _previous_token_model()
    tokens = torch.randint(0, 6, (3, 12))
    patterns = self_attention_patterns(model, tokens)
    assert list(patterns) == ["blocks.0"]
    profiles = offset_profiles(patterns, {"blocks": None})
    heads = positional_heads(profiles)
    assert int(heads.loc[0, "peak offset"]) == -1  # key = query - 1
    assert heads.loc[0, "looks at"] == "previous token" and bool(heads.loc[0, "positional"])
    assert float(heads.loc[0, "attention at peak"]) > 0.99
    assert profiles["offset"].max() == 0  # causal: no key after the query


def test_offset_profile_counts_only_real_tokens() -> None:
    pattern = torch.zeros(1, 1, 4, 4)
    for q in range(4):
        pattern[0, 0, q, max(q - 1, 0)] = 1.0
    offsets, profile, pairs = attention_by_offset(pattern, torch.tensor([[True, True, True, False]]),
                                                  torch.tensor([[True, True, True, False]]))
    at = {int(o): (float(p), int(c)) for o, p, c in zip(offsets, profile[0], pairs)}
    assert at[-1] == (1.0, 2)  # queries 1 and 2 (query 3 is padding)
    assert at[0][0] == pytest.approx(1 / 3) and at[0][1] == 3  # only query 0 attends to itself


# ----------------------------------------------------------------- the experiment
def test_experiment_spec_and_variants() -> None:
    with pytest.raises(ValueError):
        ExperimentSpec(task="induction")
    with pytest.raises(ValueError):
        ExperimentSpec(seq_len=1)
    spec = ExperimentSpec(seq_len=5, steps=10, max_offset=2)
    data = experiment_task(spec, n_train=50, n_val=10)
    assert data.tokenizer.tokens[-1] == "." and all(5 <= len(s) <= 7 for s in data.train.sources)
    runs = make_runs(spec, data=data)
    configs = [r.config.to_dict() for r in runs]
    assert [c.pop("positional") for c in configs] == ["none", "sinusoidal", "learned", "rotary"]
    assert all(c == configs[0] for c in configs)
    group = group_runs(runs)
    assert list(group) == [spec] and spec_of(runs[0]) == spec
    assert results(group[spec])["positions"].tolist() == ["none", "sinusoidal", "learned", "rotary"]


def test_length_generalisation_says_when_a_learned_table_is_too_short() -> None:
    spec = ExperimentSpec(seq_len=4, steps=5)
    learned, rotary = make_runs(spec, ("learned", "rotary"), data=experiment_task(spec, n_train=50, n_val=10))
    n_ctx = learned.config.n_ctx
    too_long = n_ctx + 1
    assert positions_needed(spec, too_long) > n_ctx
    row = evaluate_length(learned, spec, too_long, n_examples=8)
    assert row["token accuracy"] is None and "learned table" in row["note"]
    row = evaluate_length(rotary, spec, too_long, n_examples=8)
    assert 0 <= row["token accuracy"] <= 1 and row["note"] == ""


def test_run_inputs_for_an_encoder_decoder() -> None:
    spec = ExperimentSpec(seq_len=4, steps=5)
    (run,) = make_runs(spec, ("rotary",), data=experiment_task(spec, n_train=50, n_val=10))
    inputs = run_inputs(run, n_examples=6)
    assert len(inputs.args) == 2 and inputs.n_examples == 6 and set(inputs.masks) == {"encoder", "blocks"}
    patterns = self_attention_patterns(run.model, *inputs.args)
    assert set(patterns) == {"encoder.0", "blocks.0"}


def test_without_positions_reverse_fails_and_with_rotary_it_is_learned() -> None:
    """The page's experiment, small: an encoder-decoder without positions sees a bag of tokens."""
    torch.set_num_threads(1)
    spec = ExperimentSpec(task="reverse", seq_len=6, steps=300, d_model=32, n_layers=1)
    none, rotary = make_runs(spec, ("none", "rotary"))
    for run in (none, rotary):
        run.trainer.start()
        run.trainer.step(n_steps=spec.steps)
    final = {r.config.positional: r.trainer.val_history[-1] for r in (none, rotary)}
    assert final["none"]["val_sequence_accuracy"] < 0.1 and final["none"]["val_accuracy"] < 0.65
    assert final["rotary"]["val_accuracy"] > 0.85
