"""Text a model wrote, as safe HTML: every character escaped, line breaks kept, the prompt marked.

Generated text (and anything typed or read from a checkpoint) is never rendered as Markdown: ``**``, ``![x](url)``
or HTML in it stay literal characters.
"""

from __future__ import annotations

import html

STYLE = ("white-space: pre-wrap; font-family: Georgia, 'DejaVu Serif', serif; font-size: 1.05rem; line-height: 1.5; "
         "border-left: 3px solid #c9d4e5; padding: 0.4rem 0.8rem")
PROMPT_STYLE = "background: #e8eef8; color: #33415c"


def generated_html(prompt: str, continuation: str, space_between: bool = False) -> str:
    """The prompt (shaded) followed by the model's continuation, escaped, with its line breaks."""
    gap = " " if space_between and prompt and continuation and not continuation[:1].isspace() else ""
    return (f'<div style="{STYLE}"><span style="{PROMPT_STYLE}" title="prompt">{html.escape(prompt)}</span>'
            f"{gap}{html.escape(continuation)}</div>")
