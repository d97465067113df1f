"""The Forward pass page's shared pickers: which stack, layer and head, which position, which window of positions.

Long inputs are paged: T × T and T-row figures show a window of WINDOW positions (a slider moves it), so 512 tokens
never send a 512 × 512 matrix of labelled cells to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.analysis.forward.anatomy import Anatomy
from explorer.ui.widget_state import seed, seed_choice

STACK = "forward.stack"
LAYER = "forward.layer"
HEAD = "forward.head"
POSITION = "forward.position"
WINDOW_START = "forward.window_start"
WINDOW = 48  # positions drawn at once in T-row and T × T figures
STACKS = {"blocks": "decoder", "encoder": "encoder"}


@dataclass(frozen=True)
class Where:
    stack: str
    layer: int
    head: int


def pick_where(shape: Anatomy, with_head: bool = True) -> Where:
    """Stack (encoder-decoder models), layer and head selectors in one row."""
    columns = st.columns(3)
    stack = "blocks"
    if shape.encoder_decoder:
        seed_choice(STACK, list(STACKS), "encoder")
        stack = columns[0].radio("Stack", list(STACKS), key=STACK, format_func=STACKS.get, horizontal=True)
    layers = list(range(shape.n_layers))
    seed_choice(LAYER, layers, 0)
    layer = columns[1].selectbox("Layer", layers, key=LAYER, format_func=lambda v: f"layer {v}")
    head = 0
    if with_head:
        heads = list(range(shape.n_heads))
        seed_choice(HEAD, heads, 0)
        head = columns[2].selectbox("Head", heads, key=HEAD, format_func=lambda v: _head_label(shape, v))
    return Where(stack, int(layer), int(head))


def _head_label(shape: Anatomy, head: int) -> str:
    if shape.group_size == 1:
        return f"head {head}"
    return f"head {head} (K/V head {head // shape.group_size})"


def position_window(n: int, where=st) -> tuple[int, int]:
    """(start, stop) of the positions drawn: all of them up to WINDOW tokens, else a window that a slider moves
    (it starts at the end of the text, where a decoder's next token is predicted)."""
    if n <= WINDOW:
        return 0, n
    last_start = n - WINDOW
    seed(WINDOW_START, last_start, valid=lambda v: isinstance(v, int) and 0 <= v <= last_start)
    start = int(where.slider(f"First position drawn (a window of {WINDOW} of the {n})", 0, last_start,
                             key=WINDOW_START, help="Long inputs are paged: move the window along the text"))
    return start, start + WINDOW


def pick_position(tokens: list[str], span: tuple[int, int], label: str = "Token (query row)", where=st) -> int:
    """A position inside the drawn window, shown with its token; defaults to the window's last one."""
    options = list(range(*span))
    seed(POSITION, options[-1], valid=lambda v: v in options)
    return int(where.selectbox(label, options, key=POSITION, format_func=lambda i: f"{i}: {tokens[i]!r}"))
