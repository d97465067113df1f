"""Circuits page, section "One head": its QK and OV circuits, spectra, full token circuits and positional QK."""

from __future__ import annotations

import streamlit as st

from explorer.figures.circuits import circuit_heatmap, eigenvalue_figure, singular_values_figure
from explorer.ui.circuits.subject import CircuitModel, gqa_note
from explorer.ui.figure import show_figure
from explorer.ui.widget_state import seed, seed_choice

LAYER = "circuits.head.layer"
HEAD = "circuits.head.head"
SUBSET = "circuits.head.subset"
SUBSET_TEXT = "circuits.head.subset_text"
SUBSET_LIST = "circuits.head.subset_list"
TOP_K = "circuits.head.top_k"
N_POS = "circuits.head.n_pos"

TOP, FROM_TEXT, TYPED = "Tokens it copies most", "Tokens of a text", "Tokens I type"
MAX_SUBSET = 60


def pick_head(subject: CircuitModel) -> tuple[int, int]:
    """Layer and head selectors (kept in range when the model changes)."""
    cfg = subject.config
    seed_choice(LAYER, list(range(cfg.n_layers)), 0)
    seed_choice(HEAD, list(range(cfg.n_heads)), 0)
    c1, c2 = st.columns(2)
    layer = c1.selectbox("Layer", range(cfg.n_layers), key=LAYER)
    head = c2.selectbox("Head", range(cfg.n_heads), key=HEAD)
    return int(layer), int(head)


def render_head(subject: CircuitModel) -> None:
    layer, head = pick_head(subject)
    cfg = subject.config
    if note := gqa_note(subject, head):
        st.info(note)
    if cfg.positional == "rotary":
        st.caption("Rotary positions: queries and keys are rotated by their positions before the dot product, so "
                   "W_QK below is the circuit between a query and a key at the same position (no rotation).")
    spectra = subject.result("spectra", layer, head)
    name = f"L{layer}H{head}"
    left, right = st.columns(2)
    with left:
        show_figure(singular_values_figure(spectra["qk_s"], spectra["ov_s"], f"{name}: singular values"),
                    "circuits.head.svd", f"{subject.name}_{name}_singular_values")
        st.caption(f"Each circuit is a {cfg.d_model} × {cfg.d_model} matrix of rank at most d_head = {cfg.d_head}: "
                   "a few large singular values mean the head reads (QK) or moves (OV) only a few directions.")
    with right:
        if "full_ov_eig" in spectra:
            eig, what = spectra["full_ov_eig"], "W_E W_OV W_U"
        else:
            eig, what = spectra["ov_eig"], "W_OV"
        total = eig.abs().sum()
        copying = float(eig.sum().real / total) if total > 0 else 0.0
        show_figure(eigenvalue_figure(eig, f"{name}: eigenvalues of {what} · copying score {copying:+.2f}"),
                    "circuits.head.eig", f"{subject.name}_{name}_eigenvalues")
        if "full_ov_eig" in spectra:
            st.caption(f"Eigenvalues of the full OV circuit {what} (from its small d_head × d_head form). Mostly "
                       "positive real parts: attending to a token raises that same token's logit — the head copies. "
                       "Copying score = Σλ / Σ|λ|, from −1 to +1.")
        else:
            st.caption("This model has no unembedding (it classifies), so there is no full OV circuit from tokens to "
                       "logits: these are the eigenvalues of W_OV alone. Mostly positive real parts: the head writes "
                       "into the residual stream roughly what it read. Score = Σλ / Σ|λ|, from −1 to +1.")
        if subject.run is None and not getattr(cfg, "has_lm_head", True):
            st.caption(f"{subject.name} has no language-model head: W_U is the tied W_Eᵀ, so 'logit' here means "
                       "similarity to a token's embedding.")
    _token_circuits(subject, layer, head)
    _positional(subject, layer, head)


def _subset(subject: CircuitModel, layer: int, head: int) -> list[int] | None:
    """The token ids the full circuits are shown for (None after a message when there are none)."""
    has_unembed = getattr(subject.model, "W_U", None) is not None
    modes = [TOP, FROM_TEXT, TYPED] if has_unembed else [FROM_TEXT, TYPED]
    seed_choice(SUBSET, modes)
    mode = st.radio("Tokens", modes, key=SUBSET, horizontal=True)
    if mode == TOP:
        seed(TOP_K, 16)
        k = st.slider("How many tokens", 5, 40, key=TOP_K)
        return subject.result("top_tokens", layer, head, k, subject.special_ids)  # strongest copying first
    if mode == FROM_TEXT:
        seed(f"{SUBSET_TEXT}.{subject.key}", subject.example_text())
        text = st.text_input("Text", key=f"{SUBSET_TEXT}.{subject.key}")
        ids, notes = subject.encode(text)
    else:
        seed(f"{SUBSET_LIST}.{subject.key}", _default_list(subject))
        typed = st.text_input("Tokens, separated by spaces", key=f"{SUBSET_LIST}.{subject.key}",
                              help="Each item is looked up as one token of the model's vocabulary.")
        ids, notes = _typed_tokens(subject, typed)
    for note in notes:
        st.caption(f"⚠️ {note}")
    unique = list(dict.fromkeys(ids))[:MAX_SUBSET]  # keep order, drop repeats
    if not unique:
        st.warning("No tokens to show: type some text.")
        return None
    return unique


def _typed_tokens(subject: CircuitModel, typed: str) -> tuple[list[int], list[str]]:
    ids, missing = [], []
    for item in typed.split():
        if subject.run:
            token_id = subject.run.tokenizer.id_of(item)
            found = token_id != 1 or item == "<unk>"
        else:
            tokenizer = subject.model.tokenizer
            token_id = tokenizer.convert_tokens_to_ids(item)
            if token_id is None or token_id == tokenizer.unk_token_id:
                token_id = tokenizer.convert_tokens_to_ids("Ġ" + item)  # byte-level BPE: a word after a space
            found = token_id is not None and token_id != tokenizer.unk_token_id
        if found:
            ids.append(int(token_id))
        else:
            missing.append(item)
    notes = [f"Not single tokens of this vocabulary: {', '.join(missing[:10])}"] if missing else []
    return ids, notes


def _default_list(subject: CircuitModel) -> str:
    if subject.run is None:
        return "cat dog the mat king queen paris france"
    return " ".join(subject.run.tokenizer.tokens[4:16])


def _token_circuits(subject: CircuitModel, layer: int, head: int) -> None:
    st.subheader("Full circuits on a few tokens")
    st.caption("The full QK circuit W_E W_QK W_Eᵀ scores how much a query token attends to a key token from their "
               "embeddings alone (before ÷√d_head, without positions); the full OV circuit W_E W_OV W_U says how "
               "attending to a token changes each output token's logit. Neither is ever built for the whole "
               "vocabulary: only these rows and columns are computed.")
    ids = _subset(subject, layer, head)
    if ids is None:
        return
    names = subject.token_names(ids)
    name = f"L{layer}H{head}"
    left, right = st.columns(2)
    with left:
        show_figure(circuit_heatmap(subject.result("full_qk", layer, head, tuple(ids)), names, names,
                                    f"{name}: full QK circuit W_E W_QK W_Eᵀ", "key token", "query token", "score"),
                    "circuits.head.full_qk", f"{subject.name}_{name}_full_QK")
    with right:
        if getattr(subject.model, "W_U", None) is None:
            st.info("This model is a classifier: it has no unembedding W_U, so the OV circuit cannot be read in "
                    "token logits.")
        else:
            show_figure(circuit_heatmap(subject.result("full_ov", layer, head, tuple(ids)), names, names,
                                        f"{name}: full OV circuit W_E W_OV W_U", "output token (logit)",
                                        "attended token", "logit change"),
                        "circuits.head.full_ov", f"{subject.name}_{name}_full_OV")
            st.caption("A red diagonal: attending to a token promotes that same token (copying).")


def _positional(subject: CircuitModel, layer: int, head: int) -> None:
    st.subheader("Positional QK pattern")
    w_pos = getattr(subject.model, "W_pos", None)
    if w_pos is None:
        st.info("This model has no position table (rotary or no positional encoding): positions act on queries and "
                "keys by rotation, so there is no W_pos W_QK W_posᵀ. The Positions page shows rotary attention by "
                "offset.")
        return
    n_max = int(w_pos.shape[0])
    if n_max > 4:
        seed(N_POS, min(n_max, 32), valid=lambda v: 4 <= v <= min(n_max, 128))
        n_pos = st.slider("Positions shown", 4, min(n_max, 128), key=N_POS)
    else:
        n_pos = n_max
    name = f"L{layer}H{head}"
    labels = [str(i) for i in range(n_pos)]
    show_figure(circuit_heatmap(subject.result("pos_qk", layer, head, n_pos), labels, labels,
                                f"{name}: positional QK circuit W_pos W_QK W_posᵀ", "key position", "query position",
                                "score"),
                "circuits.head.pos_qk", f"{subject.name}_{name}_positional_QK")
    causal = " (in a causal model keys after the query are masked anyway)" if subject.config.causal else ""
    st.caption("How much a query at one position attends to a key at another from position embeddings alone. "
               "A bright line just below the diagonal is a previous-token head" + causal + ".")
