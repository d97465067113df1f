"""Text from users, tokenizers or checkpoints inside a caption: shown as typed, never read as Markdown or HTML."""

from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """``text`` with every Markdown (and LaTeX ``$``) character backslash-escaped, line breaks as ↵."""
    return _MARKDOWN.sub(r"\\\1", text.replace("\n", "↵"))


def html_text(text: str) -> str:
    """``text`` escaped for an HTML snippet."""
    return html.escape(text)
