"""Names a user or a file gives (run names, checkpoint names, file names): printable, short and inert.

Names appear in captions, headers and messages, which Streamlit renders as Markdown; a name such as
``![x](http://…)`` would make every viewer's browser fetch that address. A name keeps letters, digits, spaces and
a few harmless marks; the characters Markdown acts on (``! [ ] < > * _ ` | ~ $ \\``) are dropped.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 80
UNSAFE = re.compile(r"[^\w \u00b7\u2013\u2014\u2192\-.,:;()#+×/@'&%=]")  # the middle dot of "LSTM · copy", en and em
# dashes ("encoder–decoder · reverse 4–12") and → (none of them means anything to Markdown)
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>!~$])")  # what makes images, links, HTML, emphasis, code, maths


def safe_name(raw: object, default: str = "run", limit: int = MAX_NAME_CHARS) -> str:
    """``raw`` as a name: NFKC-normalised, one line, only safe characters, at most ``limit`` characters."""
    text = unicodedata.normalize("NFKC", str(raw))
    text = " ".join(UNSAFE.sub("", " ".join(text.split())).split())[:limit].strip()
    return text or default


def plain_markdown(text: object) -> str:
    """Any text shown through a Markdown element (st.error, st.info…) as the characters it holds."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", str(text))
