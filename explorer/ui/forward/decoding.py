"""Forward pass page, section "Decoding": continue the input greedily, by seeded sampling, or with beam search."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.analysis.decoding import beam_search, greedy, sample
from explorer.data.tokenizers import SPECIALS
from explorer.figures.forward.next_token import beams_figure
from explorer.figures.text import generated_html
from explorer.ui.figure import show_figure
from explorer.ui.forward.next_token import is_decoder, logits_fn, not_a_decoder, sampling_settings
from explorer.ui.forward.subject import Walk
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

METHOD = "forward.decode.method"
N_NEW = "forward.decode.n_new"
SEED = "forward.decode.seed"
BEAM = "forward.decode.beam"
STOP = "forward.decode.stop"
DECODE = "forward.decode.go"
GREEDY, SAMPLING, BEAM_SEARCH = "Greedy", "Sampling (seeded)", "Beam search"
MAX_NEW = {"run": 200, "pretrained": 60}  # a pretrained model reruns the whole prefix for each new token


def stop_options(walk: Walk) -> dict[str, int | None]:
    """Tokens that may end a continuation: the model's end-of-text token(s), or a few natural ones of a run."""
    options: dict[str, int | None] = {"(none: stop at the length)": None}
    if walk.run is not None:
        tokens = walk.run.tokenizer.tokens
        for token in (SPECIALS[3], "\n", ".", "?", "!"):
            if token in tokens:
                options[repr(token)] = tokens.index(token)
        return options
    tokenizer, cfg = walk.model.tokenizer, walk.model.config
    for token_id in (cfg.eos_id, tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in
                     tokenizer.get_vocab() else None):
        if token_id is not None:
            options[f"{tokenizer.convert_ids_to_tokens(token_id)!r} (end of text)"] = token_id
    newline = tokenizer.encode("\n", add_special_tokens=False)
    if len(newline) == 1:
        options["'\\n' (end of line)"] = newline[0]
    return options


def render_decoding(walk: Walk) -> None:
    if not is_decoder(walk):
        not_a_decoder(walk)
        return
    c1, c2, c3, c4 = st.columns(4)
    methods = [GREEDY, SAMPLING, BEAM_SEARCH]
    seed_choice(METHOD, methods, BEAM_SEARCH)
    method = c1.radio("Decoding", methods, key=METHOD)
    limit = MAX_NEW["run" if walk.run is not None else "pretrained"]
    seed(N_NEW, min(20, limit), valid=lambda v: isinstance(v, int) and 1 <= v <= limit)
    n_new = int(c2.number_input("New tokens", 1, limit, key=N_NEW))
    stops = stop_options(walk)
    labels = list(stops)
    seed_choice(STOP, labels, labels[1] if walk.run is None and len(labels) > 1 else labels[0])
    stop_label = c3.selectbox("Stop at", labels, key=STOP)
    stop_ids = [] if stops[stop_label] is None else [stops[stop_label]]
    width, seed_value, settings = 1, 0, (1.0, 0, 1.0)
    if method == BEAM_SEARCH:
        seed(BEAM, 4)
        width = int(c4.slider("Beam width n (keep the n best)", 1, 8, key=BEAM))
    elif method == SAMPLING:
        seed(SEED, 0)
        seed_value = int(c4.number_input("Seed", 0, 10**6, key=SEED,
                                         help="The same seed gives the same text: a whole class sees the same"))
        settings = sampling_settings()
    key = (*walk.key, "forward", "decode", method, n_new, tuple(stop_ids), width, seed_value, settings)
    state = get_state()
    clicked = st.button("🧭 Decode", key=DECODE, type="primary")
    if not clicked and key not in state.memo:
        st.caption("Greedy takes the most likely token each time; sampling draws from the distribution (temperature, "
                   "top-k, top-p as set); beam search keeps the n best partial continuations by their summed "
                   "log-probability and stops a hypothesis at the stop token.")
        return
    fn = logits_fn(walk)
    prompt = walk.tokens[0].tolist()

    def compute():
        if method == GREEDY:
            return [greedy(fn, prompt, n_new, stop_ids)], None
        if method == SAMPLING:
            return [sample(fn, prompt, n_new, *settings, seed=seed_value, stop_ids=stop_ids)], None
        beams = beam_search(fn, prompt, n_new, beam_width=width, stop_ids=stop_ids)
        return [b.ids for b in beams], beams

    with st.spinner(f"Decoding {n_new} tokens…"):
        outputs, beams = state.remember(key, compute)
    prompt_text = walk.decode(prompt)[-300:]
    spaced = walk.run is not None and walk.run.tokenizer.mode != "char"
    st.html(generated_html(prompt_text, walk.decode(outputs[0]), spaced))
    if beams is not None:
        texts = [walk.decode(b.ids) for b in beams]
        fig = beams_figure(texts, [b.score for b in beams], [b.finished for b in beams],
                           f"Beam search, width {width}: the {len(beams)} best — {walk.name}")
        show_figure(fig, "forward.beams", f"{walk.name}_beam_search")
        st.dataframe(pd.DataFrame({"continuation": texts, "tokens": [len(b.ids) for b in beams],
                                   "log p (sum)": [b.score for b in beams],
                                   "ended at the stop token": [b.finished for b in beams]}),
                     hide_index=True, width="stretch")
        st.caption("Scores are Σ log p over the new tokens (closer to 0 is more likely); the first line is shown "
                   "above. Width 1 is greedy decoding.")
