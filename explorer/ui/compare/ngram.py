"""Counting before learning, on the Compare page: an add-k n-gram model (n = 1–5) of a language-modelling text,
its perplexity on the same validation tokens as the session's RNNs and transformers, and samples from each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.ngram_compare import comparison_table, fit, has_text, of_order
from explorer.analysis.predictions import sample_text
from explorer.data.examples import prompt_text
from explorer.data.tokenizers import SPECIALS
from explorer.figures.ngram import perplexity_figure
from explorer.training.run import Run
from explorer.training.run_selection import same_task
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

DATA = "compare.ngram.data"
N = "compare.ngram.n"
K = "compare.ngram.k"
SAMPLE = "compare.ngram.sample"
SAMPLE_TOKENS = 200


def _groups() -> dict[str, list[Run]]:
    """Language-model runs by the text they learn from (the first run of each group names it)."""
    groups: dict[str, list[Run]] = {}
    for run in get_state().runs.values():
        if run.trainer is None or not has_text(run.data):
            continue
        lead = next((runs[0] for runs in groups.values() if same_task(runs[0], run)), None)
        groups.setdefault(lead.id if lead else run.id, []).append(run)
    return groups


def render_ngram() -> None:
    st.subheader("🔢 Counting before learning: an n-gram model beside the neural ones")
    groups = _groups()
    if not groups:
        st.info("Train a language model first (an RNN or a tiny GPT on Shakespeare, your .txt or a generated "
                "language task): the n-gram model counts the same training text and is scored on the same "
                "validation tokens.")
        return
    runs_by_lead = {lead: runs for lead, runs in groups.items()}
    state = get_state()
    seed_choice(DATA, list(runs_by_lead), list(runs_by_lead)[-1])
    c1, c2, c3 = st.columns([2, 1, 1])
    lead = c1.selectbox("Text", list(runs_by_lead), key=DATA,
                        format_func=lambda i: f"{state.runs[i].data_name} ({len(runs_by_lead[i])} run(s))")
    seed(N, 3, valid=lambda v: v in range(1, 6))
    n = int(c2.select_slider("n", list(range(1, 6)), key=N, help="P(w | the n − 1 tokens before w)"))
    seed(K, 1.0, valid=lambda v: isinstance(v, float) and 0 < v <= 100)
    k = float(c3.number_input("k (add-k smoothing)", 0.001, 100.0, step=0.1, format="%.3f", key=K,
                              help="P = (count(c, w) + k) / (count(c) + k·V); k = 1 is Laplace's rule"))
    runs = runs_by_lead[lead]
    data = runs[0].data
    try:
        model = state.remember((lead, "ngram counts", data.name, str(data.params), k), lambda: fit(data, k))
    except ValueError as err:
        st.error(str(err))
        return
    table = state.remember((tuple((r.id, r.step) for r in runs), "ngram table", k),
                           lambda: comparison_table(model, runs))
    first = table[(table["kind"] == "n-gram") & (table["on the tokens of"] == runs[0].name)]
    neural = {r["model"]: r["perplexity"] for _, r in table[table["kind"] == "neural"].iterrows()
              if np.isfinite(r["perplexity"])}
    show_figure(perplexity_figure(first, neural, data.tokenizer.vocab_size,
                                  f"Perplexity on {runs[0].name}'s validation tokens · {data.name}"),
                "compare.ngram.perplexity", "ngram_perplexity")
    chosen = first[first["n"] == n]["perplexity"]
    st.caption(f"Counted on the {model.n_train_tokens:,} training tokens; every model is scored on the same "
               f"{int(first['tokens'].iloc[0]):,} validation tokens (the ones {runs[0].name}'s validation loss "
               f"averages over). The {n}-gram model has perplexity {float(chosen.iloc[0]):.2f}; a neural model's "
               "is exp(its validation loss) at its last evaluation. The n-gram model's context may reach into the "
               "previous window, a neural model's starts again at each window. Higher n sees more context but "
               "most long contexts were never counted, and add-k then falls back to the uniform 1/V.")
    st.dataframe(_shown(table), hide_index=True, width="stretch",
                 column_config={"perplexity": st.column_config.NumberColumn(format="%.2f")})
    _samples(runs, of_order(model, n))


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in ("model", "kind", "n", "on the tokens of", "step", "tokens", "perplexity") if c in table]
    return table[cols]


def _samples(runs: list[Run], model) -> None:
    data = runs[0].data
    tok = data.tokenizer
    prompt = prompt_text(data)
    key = ("ngram samples", tuple((r.id, r.step) for r in runs), model.n, model.k, prompt)
    state = get_state()
    if key not in state.memo and not st.button(f"✍️ Sample {SAMPLE_TOKENS} tokens from each (temperature 1)",
                                               key=SAMPLE):
        return

    def draw() -> dict[str, str]:
        ids = tok.encode(prompt)
        forbidden = tuple(tok.id_of(s) for s in SPECIALS)
        out = {f"{model.n}-gram": tok.decode(model.sample(ids, SAMPLE_TOKENS, seed=0, forbidden=forbidden))}
        for run in runs:
            out[run.name] = sample_text(frozen_model(run), tok, prompt, SAMPLE_TOKENS, temperature=1.0, seed=0)
        return out

    samples = state.remember(key, draw)
    joiner = "" if tok.mode == "char" else " "
    columns = st.columns(min(3, len(samples)))
    for i, (name, text) in enumerate(samples.items()):
        with columns[i % len(columns)]:
            st.text(name)
            st.code(prompt + joiner + text, language=None, wrap_lines=True)
    st.caption("Each continues the same prompt (the start of the validation text), drawn from its own "
               "probabilities; shown as plain text.")
