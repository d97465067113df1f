"""§ 2 of the Seq2seq page: the alignment a recurrent decoder's attention learned, one row per output step, beside a
transformer encoder–decoder's cross-attention on the same example."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.alignment import decoder_alignment, has_alignment, mirror_share
from explorer.figures.seq2seq import alignment_figure
from explorer.training.bottleneck import ADDITIVE, LOCATION, TRANSFORMER, latest_group
from explorer.training.run import Run
from explorer.training.run_selection import same_task
from explorer.ui.figure import show_figure
from explorer.ui.frozen import frozen_model
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed, seed_choice

RECURRENT = "seq2seq.align.recurrent"
TRANSFORMER_RUN = "seq2seq.align.transformer"
SOURCE = "seq2seq.align.source"
EXAMPLE = "seq2seq.align.example"
TEXT = "seq2seq.align.text"
LAYER = "seq2seq.align.layer"
HEAD = "seq2seq.align.head"
OWN, VALIDATION = "My own source", "A validation example"
MEAN = -1  # the head selector's value for the mean over heads
MAX_SOURCE = 40


def _candidates() -> tuple[list[Run], list[Run]]:
    runs = [r for r in get_state().runs.values() if r.data is not None and has_alignment(r.config)]
    return [r for r in runs if r.is_recurrent_seq2seq], [r for r in runs if r.is_transformer]


def render() -> None:
    recurrent, transformers = _candidates()
    if not recurrent:
        st.info("No recurrent encoder–decoder with attention yet: train the four models in § 1 (or choose "
                "the preset 'Recurrent encoder–decoder (GRU + attention)' on the Train page).")
        return
    group = latest_group(list(get_state().runs.values()))
    names = {r.id: r.name for r in recurrent + transformers}
    default = next((group[v].id for v in (LOCATION, ADDITIVE) if v in group), recurrent[-1].id)
    seed_choice(RECURRENT, [r.id for r in recurrent], default)
    c1, c2 = st.columns(2)
    run = get_state().runs[c1.selectbox("Recurrent model with attention", [r.id for r in recurrent],
                                        key=RECURRENT, format_func=names.get)]
    partners = [t for t in transformers if same_task(t, run)]
    other = None
    if partners:
        default_t = group[TRANSFORMER].id if TRANSFORMER in group and group[TRANSFORMER] in partners \
            else partners[-1].id
        seed_choice(TRANSFORMER_RUN, [t.id for t in partners], default_t)
        other = get_state().runs[c2.selectbox("Transformer encoder–decoder (same task)", [t.id for t in partners],
                                              key=TRANSFORMER_RUN, format_func=names.get)]
    else:
        c2.caption("No transformer encoder–decoder trained on the same task: the one of § 1 appears here.")
    source, target = _choose_source(run)
    if not source:
        st.info("The source is empty (or has no symbol the model knows): type one, or pick a validation example.")
        return
    n_steps = len(target) if target else (10 if run.data.name == "dates" else len(source))
    left, right = st.columns(2)
    with left:
        _draw(run, source, target, n_steps, None, None)
    with right:
        if other is not None:
            layer, head = _head_choice(other)
            _draw(other, source, target, n_steps, layer, head)
    st.caption("Rows: the tokens the decoder wrote by greedy decoding (its own previous outputs fed back), top to "
               "bottom; columns: the source. A row is where that step's attention went (it sums to 1). On reverse, "
               "output step t should read source position L − 1 − t: the anti-diagonal. The recurrent decoder has "
               "one attention; a transformer has one per head and layer, and the mean over heads is not a weight "
               "any head used.")


def _choose_source(run: Run) -> tuple[list[int], list[int] | None]:
    tok = run.tokenizer
    seed_choice(SOURCE, [VALIDATION, OWN], VALIDATION)
    c1, c2 = st.columns([1, 3])
    how = c1.radio("Source", [VALIDATION, OWN], key=SOURCE)
    val = run.data.val
    if how == VALIDATION:
        seed(EXAMPLE, 0, valid=lambda v: isinstance(v, int) and 0 <= v < len(val.sources))
        index = int(c2.number_input(f"Validation example (0 – {len(val.sources) - 1})", 0, len(val.sources) - 1,
                                    key=EXAMPLE))
        return list(val.sources[index]), list(val.targets[index]) if val.targets else None
    seed(TEXT, _spaced(tok, val.sources[0]))
    text = c2.text_input(f"Source (at most {MAX_SOURCE} tokens)", key=TEXT)
    ids, pieces, unknown = tok.encode_marked(text)
    if any(unknown):
        c2.caption("Not in the vocabulary, left out: " + ", ".join(sorted({repr(p) for p, u in zip(pieces, unknown)
                                                                           if u})))
    ids = [i for i, u in zip(ids, unknown) if not u][:MAX_SOURCE]
    return ids, None


def _spaced(tok, ids) -> str:
    return tok.decode(ids, skip_special=True)


def _head_choice(run: Run) -> tuple[int, int | None]:
    cfg = run.config
    c1, c2 = st.columns(2)
    seed_choice(LAYER, list(range(cfg.n_layers)), cfg.n_layers - 1)
    layer = int(c1.selectbox("Decoder layer", list(range(cfg.n_layers)), key=LAYER))
    heads = [MEAN, *range(cfg.n_heads)]
    seed_choice(HEAD, heads, MEAN)
    head = c2.selectbox("Head", heads, key=HEAD,
                        format_func=lambda h: "mean of the heads" if h == MEAN else f"head {h}")
    return layer, None if head == MEAN else int(head)


def _draw(run: Run, source: list[int], target: list[int] | None, n_steps: int, layer: int | None,
          head: int | None) -> None:
    key = (run.id, run.analysis_step, "alignment", tuple(source), n_steps, layer, head)
    found = get_state().remember(key, lambda: decoder_alignment(frozen_model(run), source, n_steps, layer, head))
    tok = run.tokenizer
    wrong = [o != t for o, t in zip(found.output, target)] if target else None
    title = f"{run.name}<br><sub>{found.what}</sub>"  # two lines: the figures sit in half-width columns
    show_figure(alignment_figure(found.weights, tok.to_str_tokens(source), tok.to_str_tokens(found.output),
                                 title, wrong), f"seq2seq.align.{'rnn' if layer is None else 'transformer'}",
                f"alignment {run.name}")
    notes = []
    if target:
        right = sum(not w for w in wrong)
        notes.append(f"{right} of {len(target)} output tokens right" + (" ✗ marks the wrong ones." if right < len(
            target) else "."))
    if run.data is not None and run.data.name == "reverse":
        notes.append(f"Mean weight on the mirrored position: {mirror_share(found.weights):.0%}.")
    st.caption(" ".join(notes))
