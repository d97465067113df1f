"""One look for every figure: an app theme for the screen and a slide theme (16:9, large type, high contrast).

Figure builders never set fonts or sizes; :func:`themed` applies one of the two templates, so the same
figure reads well in the app and on a projector.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito's colour-blind-safe palette.
COLORWAY = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
SLIDE_SIZE = (1600, 900)  # 16:9
DIVERGING = "RdBu_r"  # signed values (activations, scores): blue negative, red positive, white zero
SEQUENTIAL = "Viridis"  # non-negative values (probabilities, norms)

_BASE = pio.templates["plotly_white"]

APP_TEMPLATE = go.layout.Template(_BASE)
APP_TEMPLATE.layout.update(
    font=dict(family="Inter, Helvetica, Arial, sans-serif", size=13, color="#1f2430"),
    colorway=COLORWAY, margin=dict(l=60, r=20, t=50, b=50), title=dict(font=dict(size=16)),
    legend=dict(bgcolor="rgba(255,255,255,0.6)"),
    # Plotly's default for number axes measures every tick label to hide those past the figure's edge; on a page
    # of the app each measurement forces a layout of the whole page (half of MiniLM's head summaries' drawing).
    xaxis=dict(ticklabeloverflow="allow"), yaxis=dict(ticklabeloverflow="allow"),
)

SLIDE_TEMPLATE = go.layout.Template(_BASE)
SLIDE_TEMPLATE.layout.update(
    font=dict(family="Helvetica, Arial, sans-serif", size=26, color="#000000"),
    colorway=COLORWAY, margin=dict(l=110, r=50, t=100, b=100), title=dict(font=dict(size=36)),
    xaxis=dict(linecolor="#000000", linewidth=2, gridcolor="#d0d0d0", ticks="outside"),
    yaxis=dict(linecolor="#000000", linewidth=2, gridcolor="#d0d0d0", ticks="outside"),
    paper_bgcolor="#ffffff", plot_bgcolor="#ffffff",
)
SLIDE_TEMPLATE.data.scatter = [go.Scatter(line=dict(width=5), marker=dict(size=12))]


# The app theme is plotly's default in this process: new figures get it for free, whereas assigning a
# template to an existing figure costs ~20 ms.
pio.templates["explorer"] = APP_TEMPLATE
pio.templates["explorer_slide"] = SLIDE_TEMPLATE
pio.templates.default = "explorer"


MAX_LABELLED = 64  # category axes with up to this many labels show every one of them (beyond: hover)
TICK_SIZE = {False: (13, 8), True: (22, 9)}  # (largest, smallest) tick font in the app and slide themes
APP_WIDTH = 760  # px: the width a half-page figure gets in the app (the browser decides; this is typical)


def label_every_category(fig: go.Figure, axis: str, n: int) -> None:
    """Ask for every label on a category axis (plotly would skip every other one), up to MAX_LABELLED; the
    font is fitted to the room per label by :func:`fit_dense_ticks` when the theme is applied."""
    if n <= MAX_LABELLED:
        fig.update_layout({axis: dict(dtick=1, tickmode="linear")})
        dense = dict(fig.layout.meta or {}).get("dense_ticks", {})
        fig.update_layout(meta={**dict(fig.layout.meta or {}), "dense_ticks": {**dense, axis: n}})


SUBPLOT_TITLE_SIZE = {False: 16, True: 26}


def fixed_margins(fig: go.Figure, left: int, right: int, top: int, bottom: int) -> go.Figure:
    """Draw ``fig`` in the app with these margins (px) instead of letting plotly fit them to its labels.

    Plotly's automatic margins (the template's ``automargin``) draw a figure, measure its labels and draw it again:
    Inside the RNN's six-panel step figure took 130 ms to draw in Chromium instead of 55 (2 cores), which
    benchmarks/browser_latency.py sees in ``rnn_next_s``. Meant for figures redrawn on every click whose labels are
    known in advance. A slide keeps the automatic margins (it is drawn once, for export); :func:`fit_dense_ticks`
    switches between the two with the theme.
    """
    margin = dict(l=left, r=right, t=top, b=bottom)
    fig.update_layout(meta={**dict(fig.layout.meta or {}), "app_margin": margin})
    _apply_margins(fig, slide=False)  # a new figure is in the app theme
    return fig


def _apply_margins(fig: go.Figure, slide: bool) -> None:
    margin = dict(fig.layout.meta or {}).get("app_margin")
    if margin is None:
        return
    automargin = None if slide else False  # None: the template's (automatic) margins
    fig.update_layout(margin=None if slide else margin)
    fig.for_each_xaxis(lambda axis: axis.update(automargin=automargin))
    fig.for_each_yaxis(lambda axis: axis.update(automargin=automargin))


def fit_dense_ticks(fig: go.Figure, slide: bool) -> None:
    """Adjust what a template cannot: tick fonts of the axes marked by :func:`label_every_category` (sized so that
    neighbouring labels do not overlap at the figure's size; slides 1600×900), subplot titles (plotly writes
    their size into each annotation), log axes (one tick per decade on a slide, where 2 and 5 would collide) and
    the margins set by :func:`fixed_margins`."""
    _apply_margins(fig, slide)
    title_size = SUBPLOT_TITLE_SIZE[slide]
    for annotation in fig.layout.annotations or ():
        if annotation.font.size in SUBPLOT_TITLE_SIZE.values():
            annotation.font.size = title_size
    for axis in fig.layout:
        if axis.startswith(("xaxis", "yaxis")) and fig.layout[axis].type == "log":
            fig.layout[axis].dtick = 1 if slide else None
    dense = dict(fig.layout.meta or {}).get("dense_ticks") or {}
    largest, smallest = TICK_SIZE[slide]
    width, height = SLIDE_SIZE if slide else (fig.layout.width or APP_WIDTH, fig.layout.height or 560)
    margin = SLIDE_TEMPLATE.layout.margin if slide else APP_TEMPLATE.layout.margin
    for axis, n in dense.items():
        room = (height - margin.t - margin.b) if axis.startswith("y") else (width - margin.l - margin.r)
        size = max(smallest, min(largest, int(0.8 * room / max(n, 1))))
        fig.update_layout({axis: dict(tickfont=dict(size=size))})


def themed(fig: go.Figure, slide: bool = False) -> go.Figure:
    """A copy of ``fig`` with the app or slide template (slides also get a fixed 1600×900 size)."""
    out = go.Figure(fig)
    out.update_layout(template=SLIDE_TEMPLATE if slide else APP_TEMPLATE)
    if slide:
        out.update_layout(width=SLIDE_SIZE[0], height=SLIDE_SIZE[1])
    fit_dense_ticks(out, slide)
    return out
