"""Show a plotly figure with its export buttons (PNG, SVG, HTML) in the app or slide theme."""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from explorer.figures.export import NO_BROWSER_MESSAGE, export_html, export_image, image_export_available
from explorer.figures.theme import APP_TEMPLATE, SLIDE_TEMPLATE
from explorer.ui.state import get_state

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "figure"


@st.cache_resource(show_spinner=False)
def _browser_available() -> bool:
    return image_export_available()


def show_figure(fig: go.Figure, key: str, name: str, *, on_select: str = "ignore",
                selection_mode: Any = ("points",), height: int | None = None) -> Any:
    """Draw ``fig`` (in the slide theme when the sidebar switch is on) and offer its downloads.

    PNG and SVG are rendered by kaleido only when clicked (in the slide theme at 1600×900 when it is on);
    HTML embeds plotly.js and opens offline. Returns the chart's selection state when ``on_select`` is set.
    """
    slide = get_state().slide_theme
    # New figures already carry the app theme (plotly's default here). Switch in place, and only when the
    # theme changes: copying a figure or assigning a template costs 20-30 ms, and figures are reused
    # across reruns. Exports re-theme their own copy.
    if getattr(fig, "_explorer_slide", False) is not slide:
        fig.update_layout(template=SLIDE_TEMPLATE if slide else APP_TEMPLATE)
        fig._explorer_slide = slide
    if height:
        fig.update_layout(height=height)
    event = st.plotly_chart(fig, key=f"fig.{key}", theme=None, on_select=on_select,
                            selection_mode=selection_mode, config=PLOTLY_CONFIG)
    export_buttons(fig, key, name, slide)
    return event


def export_buttons(fig: go.Figure, key: str, name: str, slide: bool) -> None:
    stem = _file_stem(name) + ("_slide" if slide else "")
    can_render = _browser_available()
    with st.popover("⬇️ Export", help="Download this figure for slides or notes"):
        st.caption("Slide theme (16:9, large type)" if slide else "App theme; switch on the slide theme in the sidebar")
        st.download_button("PNG", data=lambda: export_image(fig, "png", slide), file_name=f"{stem}.png",
                           mime="image/png", key=f"png.{key}", on_click="ignore", disabled=not can_render)
        st.download_button("SVG", data=lambda: export_image(fig, "svg", slide), file_name=f"{stem}.svg",
                           mime="image/svg+xml", key=f"svg.{key}", on_click="ignore", disabled=not can_render)
        st.download_button("HTML (interactive, offline)", data=lambda: export_html(fig, slide),
                           file_name=f"{stem}.html", mime="text/html", key=f"html.{key}", on_click="ignore")
        if not can_render:
            st.caption(NO_BROWSER_MESSAGE)
