"""MiniLM on a 512-token input: forward with every pattern, head summaries and the grid, and what the page sends.

minilm_512_tokens_s: one forward pass recording all 6 × 12 patterns and raw scores, the per-head summaries, the
thumbnails of the layer × head grid (whole input) and the summary and grid figures — median of REPEATS.
page_payload_mb: the JSON the page sends for its default view of that input (summary heatmaps, the opened head's
pattern and raw scores in the default 128-position window), measured as Streamlit serialises plotly figures.
Also: the Grid section and the bertviz head view (96 tokens), each alone.

Last line: {"minilm_512_tokens_s": …, "page_payload_mb": …, ...}
"""

from __future__ import annotations

import statistics
import time

import _common  # noqa: F401 (import path)
import plotly.io as pio
import torch
from _common import report

from explorer.analysis.attention import downsample, record_attention, window
from explorer.analysis.bertviz_offline import bertviz_html
from explorer.figures.attention import head_grid, pattern_heatmap, scores_heatmap, summary_figure
from explorer.models.pretrained import MINILM, load_pretrained

REPEATS = 5
DEFAULT_WINDOW = 128
GRID_CELLS = 24


def payload_mb(*figures) -> float:
    """Bytes of the figures as Streamlit sends them (plotly JSON, arrays in base64)."""
    return sum(len(pio.to_json(fig, validate=False)) for fig in figures) / 1e6


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    model = load_pretrained(MINILM)
    load_s = time.perf_counter() - start
    text = " ".join(["The teacher wrote the formula on the board, and the students copied it."] * 60)
    tokens = model.to_tokens(text)
    assert tokens.shape[1] == 512
    str_tokens = model.to_str_tokens(tokens)

    def page_work():
        (att,) = record_attention(model, tokens, str_tokens, causal=False)
        thumbs = downsample(att.patterns, GRID_CELLS)  # [layer, head, 24, 24] of the whole input
        grid = head_grid(thumbs, range(att.n_layers), range(att.n_heads))
        summary = summary_figure(att.summaries)
        return att, grid, summary

    page_work()  # warm up
    times = []
    for _ in range(REPEATS):
        begin = time.perf_counter()
        att, grid, summary = page_work()
        times.append(time.perf_counter() - begin)
    span = (0, DEFAULT_WINDOW)
    q_tokens = att.q_tokens[:DEFAULT_WINDOW]
    pattern = pattern_heatmap(window(att.patterns[0, 0], span, span), q_tokens, q_tokens,
                              window(att.allowed(), span, span))
    scores = scores_heatmap(window(att.scores[0, 0], span, span), q_tokens, q_tokens)
    full = pattern_heatmap(att.patterns[0, 0], att.q_tokens, att.k_tokens)
    html, _ = bertviz_html([att], "head")
    report({
        "minilm_load_s": round(load_s, 2),
        "minilm_512_tokens_s": round(statistics.median(times), 3),
        "page_payload_mb": round(payload_mb(summary, pattern, scores), 3),
        "grid_payload_mb": round(payload_mb(grid), 3),
        "one_head_512x512_payload_mb": round(payload_mb(full), 3),
        "bertviz_head_view_mb": round(len(html) / 1e6, 3),
    })


if __name__ == "__main__":
    main()
