"""Section 4 of the Positions page: rotary position embedding (RoFormer) — rotations, scores, frequencies, models."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
import torch

from explorer.analysis.positions.rotary import (
    RotaryInfoUnavailable,
    accuracy_with_and_without,
    diagonal_spread,
    frequencies,
    pair_score,
    rotary_scores,
    rotary_stacks,
    rotate_pair,
    scores_by_offset,
    scores_with_and_without,
    smollm2_rotary,
)
from explorer.figures.positions.rotary import (
    frequencies_figure,
    rotation_figure,
    scores_heatmap,
    scores_offset_figure,
    with_without_figure,
)
from explorer.models.positional import rotary_frequencies
from explorer.training.run import Run
from explorer.ui.figure import show_figure
from explorer.ui.positions.common import SMOLLM2, choose, installed_pretrained, model_inputs, offer_gpt
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

BASE = "positions.rot.base"
D_ROT = "positions.rot.d"
PAIR = "positions.rot.pair"
Q_ANGLE, K_ANGLE = "positions.rot.q_angle", "positions.rot.k_angle"
M_POS, N_POS = "positions.rot.m", "positions.rot.n"
SEED = "positions.rot.seed"
SCORE_POS = "positions.rot.score_pos"
MODEL = "positions.rot.model"
LAYER, HEAD, EXAMPLE = "positions.rot.layer", "positions.rot.head", "positions.rot.example"
TEXT = "positions.rot.text"
TRAIN = "positions.rot.train"
PATH_LENGTH = 40
EXAMPLE_TEXT = "The cat sat on the mat because the mat was warm."


def _settings() -> tuple[float, int] | None:
    c1, c2 = st.columns(2)
    seed(BASE, 10000.0)
    base = c1.number_input("base", step=1000.0, format="%g", key=BASE,
                           help="RoFormer uses 10000; SmolLM2 (Llama) uses a larger base for longer contexts.")
    seed(D_ROT, 16)
    d = c2.number_input("d (dimensions rotated per head, even)", step=2, key=D_ROT)
    if not math.isfinite(base) or base <= 1:
        st.error(f"⚠️ The base must be greater than 1 (got {base:g}): θ_i = base^(−2i/d) would not decrease.")
        return None
    if d < 2 or d > 1024:
        st.error(f"⚠️ d must be between 2 and 1024 (got {int(d)}).")
        return None
    if d % 2:
        st.warning(f"Rotary rotates pairs of dimensions: d = {int(d)} is odd, using {int(d) - 1}.")
        d -= 1
    return float(base), int(d)


def _one_pair(base: float, d: int) -> None:
    st.markdown("**One pair of dimensions.** A query at position m is rotated by m·θ, a key at position n by n·θ. "
                "Both turn at the same speed, so the angle between them — and their dot product — depends on m − n.")
    theta_all = rotary_frequencies(d, base)
    c1, c2, c3 = st.columns(3)
    for key, default in ((f"{PAIR}.{d}", 0), (Q_ANGLE, 30), (K_ANGLE, -20), (M_POS, 3), (N_POS, 1)):
        seed(key, default)
    i = c1.slider("pair i", 0, d // 2 - 1, key=f"{PAIR}.{d}")
    q_angle = c2.slider("q's own angle (°)", -180, 180, key=Q_ANGLE)
    k_angle = c3.slider("k's own angle (°)", -180, 180, key=K_ANGLE)
    c1, c2 = st.columns(2)
    m = c1.slider("query position m", 0, PATH_LENGTH, key=M_POS)
    n = c2.slider("key position n", 0, PATH_LENGTH, key=N_POS)
    theta = float(theta_all[i])
    q = (math.cos(math.radians(q_angle)), math.sin(math.radians(q_angle)))
    k = (0.8 * math.cos(math.radians(k_angle)), 0.8 * math.sin(math.radians(k_angle)))
    positions = list(range(PATH_LENGTH + 1))
    score = pair_score(q, k, m, n, theta)
    fig = rotation_figure(rotate_pair(q, positions, theta), rotate_pair(k, positions, theta), m, n, theta, score)
    left, right = st.columns([3, 2])
    with left:
        show_figure(fig, "positions.rot.pair", "rotary_pair")
    with right:
        shifted = pair_score(q, k, m + 7, n + 7, theta)
        st.metric(f"q_{m} · k_{n}", f"{score:.4f}")
        st.metric(f"q_{m + 7} · k_{n + 7} (both moved 7 positions)", f"{shifted:.4f}",
                  delta=f"{shifted - score:.1e}", delta_color="off")
        st.caption(f"θ_{i} = {theta:.4g} rad per position: a full turn every {2 * math.pi / theta:,.1f} positions. "
                   "Moving both tokens by the same amount turns both arrows by the same angle: the score stays.")


def _whole_vectors(base: float, d: int) -> None:
    st.markdown("**Whole vectors.** Fix a content query q and key k (random), place q at every position m and k at "
                "every position n, rotate, and take every score q_m · k_n:")
    c1, c2 = st.columns(2)
    seed(SEED, 0)
    random_seed = c1.number_input("random seed for q and k", step=1, key=SEED)
    seed(SCORE_POS, 48)
    n_pos = c2.slider("positions", 8, 128, step=8, key=SCORE_POS)
    state = get_state()

    def compute():
        generator = torch.Generator().manual_seed(int(random_seed))
        q, k = torch.randn(d, generator=generator), torch.randn(d, generator=generator)
        scores = rotary_scores(q, k, n_pos, base)
        return scores, scores_by_offset(scores), diagonal_spread(scores)

    scores, by_offset, spread = state.remember(("positions.rot.scores", base, d, int(random_seed), n_pos), compute)
    left, right = st.columns(2)
    with left:
        show_figure(scores_heatmap(scores, "q_m · k_n for one content pair"), "positions.rot.scores", "rotary_scores")
    with right:
        show_figure(scores_offset_figure(by_offset), "positions.rot.offsets", "rotary_scores_by_offset")
    st.caption(f"Every diagonal (same n − m) holds one value: the largest spread along a diagonal is {spread:.1e} "
               "(float32 rounding). (R(m)q)ᵀ(R(n)k) = qᵀR(n − m)k — the absolute positions cancel.")


def _frequencies(base: float, d: int) -> None:
    st.markdown("**The frequencies.** Pair i turns by θ_i = base^(−2i/d) per position: the first pairs spin fast "
                "(fine, local position), the last ones barely move (coarse, long-range position).")
    frames = [frequencies(d, base, f"this page: d {d}, base {base:g}")]
    try:
        d_smol, base_smol = smollm2_rotary()
        frames.append(frequencies(d_smol, base_smol, f"SmolLM2-135M: d_head {d_smol}, rope theta {base_smol:g}"))
        note = (f"SmolLM2's values come from its GGUF file's metadata (rope theta {base_smol:g}). Hugging Face's "
                "Llama pairs dimension i with i + d/2 rather than neighbours; the set of frequencies is the same.")
    except RotaryInfoUnavailable as err:
        note = str(err)
    except (OSError, ValueError) as err:
        note = f"Could not read SmolLM2's settings: {err}"
    freqs = pd.concat(frames, ignore_index=True)
    show_figure(frequencies_figure(freqs), "positions.rot.freqs", "rotary_frequencies")
    st.caption(note)


def is_rotary(run: Run) -> bool:
    return run.is_transformer and run.config.positional == "rotary"


def _in_model() -> None:
    st.markdown("**Inside a model.** The same queries and keys, with the rotation and with it switched off "
                "(`hook_rot_q`/`hook_rot_k` replaced by the unrotated `hook_q`/`hook_k` in every layer).")
    chosen = choose(MODEL, is_rotary, installed_pretrained(SMOLLM2), "Model with rotary positions")
    if chosen is None:
        offer_gpt(TRAIN, "rotary", "No rotary model in this session. Train one (or run the experiment in section 5) "
                                   "to see what the rotation does inside it.")
        return
    found = model_inputs(chosen, TEXT, EXAMPLE_TEXT)
    if found is None:
        return
    inputs, input_key = found
    layers = rotary_stacks(chosen.model)
    c1, c2, c3 = st.columns(3)
    seed_choice(f"{LAYER}.{chosen.label}", layers)
    layer = c1.selectbox("Layer", layers, key=f"{LAYER}.{chosen.label}")
    heads = list(range(chosen.model.config.n_heads))
    seed_choice(f"{HEAD}.{chosen.label}", heads)
    head = c2.selectbox("Head", heads, key=f"{HEAD}.{chosen.label}")
    example = 0
    if inputs.n_examples > 1:
        seed(f"{EXAMPLE}.{chosen.label}", 0, valid=lambda v: 0 <= v < inputs.n_examples)
        example = c3.number_input("Example", 0, inputs.n_examples - 1, key=f"{EXAMPLE}.{chosen.label}")
    state = get_state()
    result = state.remember(("positions.rot.model", *input_key, layer),
                            lambda: scores_with_and_without(chosen.model, layer, *inputs.args))
    labels = inputs.labels.get(layer.split(".")[0]) or inputs.labels["blocks"]
    mask = inputs.masks.get(layer.split(".")[0])
    n = int(mask[example].sum()) if mask is not None else result["scores_with"].shape[-1]
    for what in ("scores", "pattern"):
        with_, without = (result[f"{what}_{kind}"][example, head, :n, :n] for kind in ("with", "without"))
        fig = with_without_figure(with_, without, labels[:n], what)
        show_figure(fig, f"positions.rot.model.{what}", f"rotary_{what}_with_without")
    st.caption("Ticks read position:token. Without the rotation (and with no other position signal) two equal "
               "tokens get identical rows and columns in the first layer: attention cannot tell them apart.")
    if inputs.targets is not None and chosen.run is not None:
        with_acc, without_acc = state.remember(("positions.rot.acc", *chosen.key),
                                               lambda: accuracy_with_and_without(chosen.model, inputs.args,
                                                                                 inputs.targets))
        c1, c2 = st.columns(2)
        c1.metric("Token accuracy with rotary", f"{with_acc:.1%}")
        c2.metric("…with every rotation undone", f"{without_acc:.1%}", delta=f"{without_acc - with_acc:+.1%}")
        st.caption(f"On {inputs.n_examples} validation examples of {chosen.run.data_name}. The model learned to "
                   "read positions through the rotation: take it away and what depended on order breaks.")


def render() -> None:
    st.markdown("Rotary embedding (Su et al., RoFormer) adds nothing to the tokens. It **rotates** each query and key "
                "by an angle proportional to its position, pair of dimensions by pair of dimensions — a rotation "
                "is norm-preserving, exactly the M of the course — so that q·k depends on the offset only.")
    settings = _settings()
    if settings is None:
        return
    base, d = settings
    _one_pair(base, d)
    st.divider()
    _whole_vectors(base, d)
    st.divider()
    _frequencies(base, d)
    st.divider()
    _in_model()
