"""Show a plotly figure with its export buttons (PNG, SVG, HTML) in the app or slide theme."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from explorer.figures.export import (
    NO_BROWSER_MESSAGE,
    ExportUnavailable,
    export_html,
    export_image,
    image_export_available,
)
from explorer.figures.theme import APP_TEMPLATE, SLIDE_TEMPLATE, fit_dense_ticks
from explorer.ui.state import get_state

# No modebar: it covered legends and titles on hover. Drag zooms (double-click resets), and ⬇️ Export downloads.
PLOTLY_CONFIG = {"displaylogo": False, "displayModeBar": False}
IMAGE_MIME = {"png": "image/png", "svg": "image/svg+xml"}
IMAGES_KEY = "export_images"  # st.session_state: figure key -> the last image rendered for it
MAX_IMAGES = 6  # figures per session whose last image is kept (a slide PNG is ~0.2-1 MB)


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "figure"


@st.cache_resource(show_spinner=False)
def _browser_available() -> bool:
    return image_export_available()


def show_figure(fig: go.Figure, key: str, name: str, *, on_select: str = "ignore",
                selection_mode: Any = ("points",), height: int | None = None, export: bool = True,
                export_label: str = "⬇️ Export") -> Any:
    """Draw ``fig`` (in the slide theme when the sidebar switch is on) and offer its downloads.

    PNG and SVG are rendered by kaleido when their button is clicked (in the slide theme at 1600×900 when it
    is on), then offered for download; a failure is shown in the popover. HTML embeds plotly.js and opens
    offline. Returns the chart's selection state when ``on_select`` is set.

    ``export=False`` leaves the downloads out, for a figure redrawn on every click inside a fragment: the page
    offers them outside it with :func:`export_figure` (a popover costs the browser ~35 ms each time it is sent).
    """
    slide = get_state().slide_theme
    # New figures already carry the app theme (plotly's default here). Switch in place, and only when the
    # theme changes: copying a figure or assigning a template costs 20-30 ms, and figures are reused
    # across reruns. Exports re-theme their own copy.
    if getattr(fig, "_explorer_slide", False) is not slide:
        fig.update_layout(template=SLIDE_TEMPLATE if slide else APP_TEMPLATE)
        fit_dense_ticks(fig, slide)
        fig._explorer_slide = slide
    if height:
        fig.update_layout(height=height)
    event = st.plotly_chart(fig, key=f"fig.{key}", theme=None, on_select=on_select,
                            selection_mode=selection_mode, config=PLOTLY_CONFIG)
    if export:
        export_buttons(fig, key, name, slide, export_label)
    return event


def export_figure(fig: go.Figure, key: str, name: str, label: str = "⬇️ Export") -> None:
    """The downloads of a figure drawn elsewhere with ``show_figure(..., export=False)`` (same ``key``)."""
    export_buttons(fig, key, name, get_state().slide_theme, label)


def export_buttons(fig: go.Figure, key: str, name: str, slide: bool, label: str = "⬇️ Export") -> None:
    """The export popover: PNG/SVG are rendered on a click (errors shown here), then offered for download."""
    stem = _file_stem(name) + ("_slide" if slide else "")
    can_render = _browser_available()
    with st.popover(label, help="Download this figure for slides or notes"):
        st.caption("Slide theme (16:9, large type)" if slide else "App theme; switch on the slide theme in the sidebar")
        wanted = None
        if st.button("Render PNG", key=f"png.{key}", disabled=not can_render, width="stretch"):
            wanted = "png"
        if st.button("Render SVG", key=f"svg.{key}", disabled=not can_render, width="stretch"):
            wanted = "svg"
        # An image stays on offer while the figure changes (a live loss curve redraws every tick: the image is
        # the curve as it was at the click), but not after a switch of theme.
        fingerprint = "slide" if slide else "app"
        if wanted:
            _render_image(fig, key, wanted, slide, stem, fingerprint)
        image = _rendered_image(key, fingerprint)
        if image is not None:
            fmt, data, file_name = image
            st.download_button(f"Download {fmt.upper()}", data=data, file_name=file_name, mime=IMAGE_MIME[fmt],
                               key=f"image.{key}", on_click="ignore", type="primary", width="stretch")
        # HTML needs no browser: generated when clicked (Streamlit shows only a generic message if it fails)
        st.download_button("HTML (interactive, offline)", data=lambda: export_html(fig, slide),
                           file_name=f"{stem}.html", mime="text/html", key=f"html.{key}", on_click="ignore")
        if not can_render:
            st.caption(NO_BROWSER_MESSAGE)


def _images() -> OrderedDict[str, dict[str, Any]]:
    """This session's rendered images: the last one per figure, for the last MAX_IMAGES figures."""
    return st.session_state.setdefault(IMAGES_KEY, OrderedDict())


def _render_image(fig: go.Figure, key: str, fmt: str, slide: bool, stem: str, fingerprint: str) -> None:
    images = _images()
    images.pop(key, None)
    try:
        with st.spinner(f"Rendering {fmt.upper()}…"):
            data = export_image(fig, fmt, slide)
    except ExportUnavailable as err:  # no or broken browser, timeout, busy: the message says what to do
        st.error(str(err), icon="⚠️")
        return
    images[key] = {"fmt": fmt, "data": data, "file_name": f"{stem}.{fmt}", "fingerprint": fingerprint}
    while len(images) > MAX_IMAGES:
        images.popitem(last=False)


def _rendered_image(key: str, fingerprint: str) -> tuple[str, bytes, str] | None:
    """The image last rendered for this figure, if it was rendered in the theme now on."""
    image = _images().get(key)
    if image is None:
        return None
    if image["fingerprint"] != fingerprint:
        del _images()[key]
        return None
    return image["fmt"], image["data"], image["file_name"]
