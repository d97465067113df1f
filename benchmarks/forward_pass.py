"""The Forward pass page's work, without the browser: the whole walk for MiniLM, the logit lens for SmolLM2, and a
temperature slider's redraw.

minilm_64_s / minilm_512_s: from the text to every figure of the walk's default views, serialised as Streamlit sends
them (plotly JSON): both recordings (residual streams, one layer in full), one head's arithmetic and its 15 matrices
and bars, the walk diagram, Add & Norm (one token, the axes), the feed-forward neurons, the input's WordPiece strip
and one-hot × W_E. At 512 tokens the T-row and T × T figures are windows of 48 positions plus one 64 × 64 downsampled
overview, as the page draws them. Median of REPEATS, after one warm-up.
smollm2_lens_64_s: SmolLM2 on 64 tokens, the residual streams and the logit lens of every layer at every position
(null when SmolLM2 is not installed); smollm2_lens_page_s: the page's default grid (the last 16 positions).
temperature_rerun_ms: what moving the temperature slider runs on the server (the fragment): reshape cached logits
over a 49,152-token vocabulary (SmolLM2's), build the bar figure and serialise it — p50 and p95 over 40 settings.

Last line: {"minilm_64_s": …, "minilm_512_s": …, "smollm2_lens_64_s": …, "temperature_rerun_ms": …, ...}
"""

from __future__ import annotations

import statistics
import time

import _common  # noqa: F401 (import path)
import plotly.io as pio
import torch
from _common import percentile, report

from explorer.analysis.attention import downsample
from explorer.analysis.decoding import reshape
from explorer.analysis.forward.head import head_steps
from explorer.analysis.forward.logit_lens import logit_lens
from explorer.analysis.forward.neurons import neurons, strongest_neurons, top_neurons_per_token
from explorer.analysis.forward.norm import following_norm, norm_axes, norm_steps
from explorer.analysis.forward.record import record_layer, record_residuals
from explorer.analysis.tokenization import one_hot_times_embedding, with_pretrained_tokenizer
from explorer.figures.attention import pattern_heatmap, scores_heatmap
from explorer.figures.forward.matrices import matrix_heatmap, query_row_figure
from explorer.figures.forward.neurons import neuron_heatmap, token_neurons_figure
from explorer.figures.forward.next_token import next_token_figure
from explorer.figures.forward.norm import norm_axes_figure, norm_steps_figure
from explorer.figures.forward.walk import walk_figure
from explorer.figures.tokenization import one_hot_figure, token_strip
from explorer.models.pretrained import MINILM, PRETRAINED_MODELS, SMOLLM2, load_pretrained

REPEATS = 5
WINDOW = 48  # explorer/ui/forward/controls.py
SENTENCE = "The teacher wrote the formula on the board, and the students copied it into their notebooks. "


def walk_figures(model, text: str, n_tokens: int, layer: int = 2, head: int = 3) -> list:
    """Every figure of the walk's default views for ``model`` on the first ``n_tokens`` tokens of ``text``."""
    tokens = model.to_tokens(text, max_tokens=n_tokens)
    pieces = model.to_str_tokens(tokens)
    n = tokens.shape[1]
    streams = record_residuals(model, tokens, pieces)
    record = record_layer(model, tokens, pieces, layer)
    steps = head_steps(model, record, head)
    span = (max(0, n - WINDOW), n)
    rows = slice(*span)
    shown = pieces[rows]
    query = n - 1
    figures = [walk_figure(streams.anatomy, n, layer, head, steps.kv_head, steps.scale)]
    for values in (steps.x, steps.q, steps.k, steps.v, steps.z, steps.concat, steps.attn_out, steps.resid_mid):
        figures.append(matrix_heatmap(values[rows], shown, "m", first_row=span[0]))
    figures += [scores_heatmap(steps.scores[rows, rows], shown, shown),
                scores_heatmap(steps.masked[rows, rows], shown, shown),
                pattern_heatmap(steps.pattern[rows, rows], shown, shown, steps.allowed[rows, rows]),
                query_row_figure(steps.scaled[query, rows], steps.pattern[query, rows], steps.allowed[query, rows],
                                 shown, query, pieces[query], "row")]
    if n > WINDOW:
        figures.append(pattern_heatmap(downsample(steps.pattern, 64), [str(i) for i in range(64)],
                                       [str(i) for i in range(64)]))
    params, where, recorded = following_norm(model, record)
    x = record["hook_resid_mid"]
    figures += [norm_steps_figure(norm_steps(params, x[query], where, recorded[query]), pieces[query], "norm"),
                norm_axes_figure(norm_axes(x[rows]), shown, "axes", first_row=span[0])]
    ffn = neurons(model, record)
    figures += [neuron_heatmap(ffn.post[rows], shown, strongest_neurons(ffn.post[rows], 16), "n", first_row=span[0]),
                token_neurons_figure(top_neurons_per_token(ffn.post, query), pieces[query], query, "t")]
    reading = with_pretrained_tokenizer(model.tokenizer, text, "WordPiece")
    token_id = reading.ids[1]
    one_hot = one_hot_times_embedding(model.W_E, token_id)
    ids = list(range(max(0, token_id - 6), token_id + 6))
    figures += [token_strip(reading, "strip"),
                one_hot_figure(one_hot, model.W_E[ids, :128].numpy(), ids[0], model.to_str_tokens(ids), "one-hot")]
    return figures


def payload_mb(figures: list) -> float:
    return sum(len(pio.to_json(fig, validate=False)) for fig in figures) / 1e6


def time_walk(model, text: str, n_tokens: int) -> tuple[float, float, int]:
    walk_figures(model, text, n_tokens)  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        figures = walk_figures(model, text, n_tokens)
        payload = payload_mb(figures)
        times.append(time.perf_counter() - start)
    return statistics.median(times), payload, len(figures)


def smollm2_lens() -> tuple[float | None, float | None]:
    if not PRETRAINED_MODELS[SMOLLM2].installed():
        return None, None
    model = load_pretrained(SMOLLM2)
    tokens = model.to_tokens(SENTENCE * 6)[:, :64]
    pieces = model.to_str_tokens(tokens)
    logit_lens(model, record_residuals(model, tokens, pieces))  # warm-up
    full, page = [], []
    for _ in range(3):
        start = time.perf_counter()
        logit_lens(model, record_residuals(model, tokens, pieces))
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        logit_lens(model, record_residuals(model, tokens, pieces), positions=list(range(48, 64)))
        page.append(time.perf_counter() - start)
    return statistics.median(full), statistics.median(page)


def temperature_rerun_ms() -> tuple[float, float]:
    logits = torch.randn(49_152, generator=torch.Generator().manual_seed(0)) * 3
    labels = {i: f"tok{i}" for i in range(49_152)}
    times = []
    for k in range(40):
        start = time.perf_counter()
        dist = reshape(logits, 0.1 + 0.07 * k, top_k=0 if k % 2 else 40, top_p=1.0 if k % 3 else 0.9)
        pio.to_json(next_token_figure(dist, labels.get, "next token"), validate=False)
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50), percentile(times, 95)


def main() -> None:
    torch.set_num_threads(1)  # as each server process (explorer/ui/runtime.py)
    minilm = load_pretrained(MINILM)
    text = SENTENCE * 40
    assert minilm.count_tokens(text) > 512
    s64, mb64, n_figures = time_walk(minilm, text, 64)
    s512, mb512, _ = time_walk(minilm, text, 512)
    lens_full, lens_page = smollm2_lens()
    p50, p95 = temperature_rerun_ms()
    report({
        "minilm_64_s": round(s64, 3),
        "minilm_512_s": round(s512, 3),
        "smollm2_lens_64_s": None if lens_full is None else round(lens_full, 3),
        "smollm2_lens_page_s": None if lens_page is None else round(lens_page, 3),
        "temperature_rerun_ms": round(p50, 1),
        "temperature_rerun_p95_ms": round(p95, 1),
        "figures_per_walk": n_figures,
        "payload_64_mb": round(mb64, 3),
        "payload_512_mb": round(mb512, 3),
    })


if __name__ == "__main__":
    main()
