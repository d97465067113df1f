"""What fine-tuning changed, drawn for any page that shows a fine-tuning run (the Fine-tuning page, the Attention and
Circuits pages' sections): which heads moved and one head before and after, the weights, LoRA's spectra, the
sentence embeddings. Results are memoised per session by (run, step, inputs)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.analysis.finetune_diff import (
    attention_patterns,
    class_separation,
    lora_spectra,
    pattern_change,
    sentence_embeddings,
    sentence_tokens,
    weight_change,
)
from explorer.analysis.projection import ProjectionError, ProjectionParams, project
from explorer.data.text_tasks import split_texts
from explorer.figures.finetune import (
    embedding_pair,
    head_change_grid,
    lora_spectra_figure,
    pattern_pair,
    weight_change_heatmap,
)
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.run import Run
from explorer.training.snapshots import nearest_snapshot
from explorer.ui.figure import show_figure
from explorer.ui.finetuned import base_of, merged_model
from explorer.ui.state import get_state

EXAMPLES = ["The film was a delight from start to finish.", "A dull, clumsy and overlong story.",
            "The actors do what they can with a thin script.", "One of the most moving films of the year."]
MAX_SENTENCES = 64


def held_out_texts(run: Run, n: int) -> list[str]:
    """The first ``n`` validation texts of the run's data (never trained on), or a few examples without data."""
    if run.data is None:
        return EXAMPLES[:n]
    return split_texts(run.data.val, run.data.tokenizer)[:n] or EXAMPLES[:n]


def models(run: Run, step: int | None = None) -> tuple[PretrainedModel, PretrainedModel] | None:
    """(before: the shared base, after: the merged fine-tuned encoder at ``step`` — a kept snapshot — or now), or
    None with the error shown."""
    base, error = base_of(run)
    if base is None:
        st.error(error)
        return None
    return base, merged_model(run, step)


def _step(run: Run, step: int | None) -> int:
    return run.analysis_step if step is None or run.trainer is None else nearest_snapshot(run, step)


def _selected(prefix: str, change: torch.Tensor) -> tuple[int, int]:
    chosen = st.session_state.get(f"{prefix}.head")
    n_layers, n_heads = change.shape
    if not (isinstance(chosen, tuple) and chosen[0] < n_layers and chosen[1] < n_heads):
        flat = int(change.argmax())
        chosen = (flat // n_heads, flat % n_heads)
    return chosen


def _clicked(prefix: str) -> None:
    event = st.session_state.get(f"fig.{prefix}.grid") or {}
    for point in event.get("selection", {}).get("points", []):
        custom = point.get("customdata")
        if isinstance(custom, dict):
            custom = [custom.get(k, custom.get(str(k))) for k in range(2)]
        try:
            st.session_state[f"{prefix}.head"] = (int(custom[0]), int(custom[1]))
            return
        except (TypeError, ValueError, IndexError, KeyError):
            continue


def render_head_changes(run: Run, texts: list[str], prefix: str, what: str, step: int | None = None) -> None:
    """Layer × head grid of how far each head's attention moved on ``texts``; the clicked head before and after on
    one of them. ``what`` says which texts these are, for the caption."""
    pair = models(run, step)
    if pair is None:
        return
    before, after = pair
    state = get_state()
    step = _step(run, step)
    key = (run.id, step, "head change", tuple(texts))
    tokens, mask = sentence_tokens(before, texts, run.config.max_len)
    change = state.remember(key, lambda: pattern_change(before, after, tokens, mask))
    layer, head = _selected(prefix, change)
    show_figure(head_change_grid(change, f"How far each head's attention moved (mean over {what})", (layer, head)),
                f"{prefix}.grid", f"{run.name}_head_change", on_select=lambda: _clicked(prefix))
    strongest = torch.topk(change.flatten(), min(3, change.numel()))
    names = ", ".join(f"L{int(i) // change.shape[1]}H{int(i) % change.shape[1]} ({float(v):.2f})"
                      for v, i in zip(strongest.values, strongest.indices))
    st.caption(f"Each cell: half the sum of |A_after − A_before| over a query's row, averaged over the real tokens "
               f"of {what} — 0 means the head attends exactly as before, 1 that it now attends elsewhere "
               f"entirely. Moved most: {names}. Click a head to see it before and after.")
    index = st.selectbox("Sentence", range(len(texts)), format_func=lambda i: texts[i][:100], key=f"{prefix}.text")
    sentence = slice(index, index + 1)
    patterns = state.remember((*key, "pair", index), lambda: (attention_patterns(before, tokens[sentence],
                                                                                 mask[sentence]),
                                                              attention_patterns(after, tokens[sentence],
                                                                                 mask[sentence])))
    n = int(mask[index].sum())
    a, b = patterns[0][layer, 0, head, :n, :n], patterns[1][layer, 0, head, :n, :n]
    moved = float((0.5 * (b - a).abs().sum(-1)).mean())
    words = before.to_str_tokens(tokens[index, :n])
    show_figure(pattern_pair(a, b, words, layer, head, moved), f"{prefix}.pair", f"{run.name}_L{layer}H{head}")


def render_weight_changes(run: Run, prefix: str, step: int | None = None) -> None:
    pair = models(run, step)
    if pair is None:
        return
    frame = get_state().remember((run.id, _step(run, step), "weight change"), lambda: weight_change(*pair))
    show_figure(weight_change_heatmap(frame), f"{prefix}.weights", f"{run.name}_weight_change")
    method = run.config.method
    note = {"lora": "LoRA changes only the adapted projections (W + ΔW); everything else stays exactly as it was.",
            "bitfit": "BitFit changes the biases (b_… and the LayerNorms' β) and nothing else: every weight matrix "
                      "is bit-identical to the pretrained one.",
            "full": "Full fine-tuning moves every weight, each by a small fraction of its size.",
            "probe": "A linear probe leaves the encoder exactly as it was: only its head learns.",
            "head": "Head-only training leaves the encoder exactly as it was: only its head learns."}[method]
    st.caption(f"‖W_after − W_before‖ / ‖W_before‖ (Frobenius norms) for every matrix and bias of every layer. {note}")


def render_lora_spectra(run: Run, prefix: str, step: int | None = None) -> None:
    if run.config.method != "lora":
        st.info("This run is not LoRA: its updates are not constrained to a low rank (see the weight changes).")
        return
    if run.trainer is None:
        model = run.model
    else:
        model = run.model.copy_with(None if step is None else run.trainer.load_snapshot(nearest_snapshot(run, step)))
    frame = get_state().remember((run.id, _step(run, step), "lora spectra"), lambda: lora_spectra(model))
    if frame.empty:
        st.info("No adapter found in this run.")
        return
    r = run.config.lora_r
    show_figure(lora_spectra_figure(frame, r), f"{prefix}.spectra", f"{run.name}_lora_spectra")
    ranks = frame.groupby("matrix")["rank"].first()
    st.caption(f"ΔW = (α/r)·B·A with B [d_out × {r}] and A [{r} × d_in] has rank at most r = {r}: past index {r} its "
               f"singular values are zero (rounding error only). Numerical ranks here: {int(ranks.min())} to "
               f"{int(ranks.max())}. At step 0, B = 0 and so ΔW = 0: the run starts exactly at the pretrained model.")


def render_embeddings(run: Run, prefix: str, n: int, method: str = "pca", step: int | None = None) -> None:
    pair = models(run, step)
    if pair is None:
        return
    before, after = pair
    if run.data is None:
        st.info("This run's data is not available here: there are no labelled sentences to map.")
        return
    texts = held_out_texts(run, n)
    labels = np.array(list(run.data.val.labels or [])[:len(texts)])

    def compute():
        tokens, mask = sentence_tokens(before, texts, run.config.max_len)
        vectors = [sentence_embeddings(m, tokens, mask, run.config.pooling) for m in (before, after)]
        maps = [project(v, ProjectionParams(method)) for v in vectors]
        return maps, [class_separation(v, labels) for v in vectors]

    try:
        maps, scores = get_state().remember((run.id, _step(run, step), "embeddings", n, method), compute)
    except ProjectionError as err:
        st.warning(str(err))
        return
    names = run.data.class_names or [str(k) for k in range(run.config.n_classes)]
    fig = embedding_pair(maps[0].coords, maps[1].coords, labels, names,
                         (maps[0].axis_titles, maps[1].axis_titles), (scores[0], scores[1]), texts)
    show_figure(fig, f"{prefix}.embeddings", f"{run.name}_sentence_embeddings")
    st.caption(f"{len(texts)} held-out sentences, pooled as the classifier reads them ({run.config.pooling}), each "
               f"map a {method.upper()} of its own vectors. Separation: the distance between the two classes' mean "
               "vectors over the spread of the vectors around their own class mean (higher: the classes lie further "
               "apart; measured on the vectors, not on the map). "
               + ("The encoder is frozen in this run, so both maps are the same." if run.config.frozen_encoder
                  else ""))
