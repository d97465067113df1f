"""bertviz's head view and model view (Vig 2019), rendered without the internet.

bertviz returns HTML whose scripts load require.js, d3 and jQuery from a CDN, so offline it draws nothing. We
inline jQuery (pip package ``xstatic-jquery``) and d3 v5 (pip package ``mpld3``), both read from the installed
packages, and replace require.js with a two-line shim that hands them to bertviz's ``requirejs([...], fn)`` call.
The result contains no external script source. Token strings (which a checkpoint's vocabulary or a typed text
decides) reach it only as script-safe JSON; the page shows it in an iframe with an opaque origin (a ``data:`` URL,
see explorer/ui/attention/bertviz.py), so even a script in it could not reach the app's page.
"""

from __future__ import annotations

import base64
import importlib.util
import re
from functools import cache, partial
from pathlib import Path

import torch

from explorer.analysis.attention import AttentionSet, window

MAX_TOKENS = 64  # bertviz draws one line per (query, key) pair: beyond this it is slow and unreadable
REQUIRE_TAG = re.compile(r"<script[^>]*\bsrc=[\"'][^\"']*require[^\"']*[\"'][^>]*>\s*</script>", re.I)
REQUIRE_CONFIG = re.compile(r"require\.config\(\{.*?\}\);", re.S)
LONG_NUMBER = re.compile(r"(?<![\w\"])(\d\.\d{3})\d+(?=[,\]])")  # a number in a list, not in a token string
LIST_SPACE = re.compile(r"(?<=[\d\]]), (?=[\d\[])")  # "0.1, 0.2" -> "0.1,0.2" (a third smaller)
SHIM = ("window.requirejs = function (deps, callback) { callback(window.jQuery, window.d3); };\n"
        "window.require = { config: function () {} };")


class BertvizUnavailable(RuntimeError):
    """bertviz, or the packages that ship d3 and jQuery, are not installed."""


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BertvizUnavailable(f"The bertviz view needs the pip package that provides '{package}' "
                                 "(pip install bertviz mpld3 xstatic-jquery).")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise BertvizUnavailable(f"{path} is missing: reinstall the package that ships it.")
    return path


@cache
def _libraries() -> str:
    """<script> tags with jQuery and d3 v5 inlined, then the require.js shim."""
    jquery = _package_file("xstatic.pkg.jquery", "data/jquery.min.js").read_text(encoding="utf-8")
    d3 = _package_file("mpld3", "js/d3.v5.min.js").read_text(encoding="utf-8")
    jquery = re.sub(r"//# sourceMappingURL=\S+", "", jquery)  # no request for a .map file either
    return "".join(f"<script type=\"text/javascript\">\n{code}\n</script>\n" for code in (jquery, d3, SHIM))


def script_safe_json(text: str) -> str:
    """JSON made safe inside a <script> block: ``<``, ``>`` and ``&`` written as \\u escapes (the same string to
    JavaScript), so a token such as ``</script><svg onload=…>`` cannot end the script and start markup."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _short_numbers(html: str) -> str:
    """bertviz's data line made compact (3 decimals: float64 repr can print 0.12300000000000001; no spaces) and
    script-safe (see :func:`script_safe_json`). The tokens are data there: they never become markup."""
    start = html.find("const params = ")
    end = html.find("\n", start)
    if start < 0 or end < 0:
        raise BertvizUnavailable("Unexpected bertviz output (no params line): is bertviz 1.4 installed?")
    prefix = "const params = "
    data = LIST_SPACE.sub(",", LONG_NUMBER.sub(r"\1", html[start + len(prefix):end]))
    return html[:start] + prefix + script_safe_json(data) + html[end:]


def make_offline(html: str) -> str:
    """bertviz HTML with its CDN loading replaced by inlined libraries."""
    html = _short_numbers(html)
    html, found = REQUIRE_TAG.subn("", html)
    if not found:
        raise BertvizUnavailable("Unexpected bertviz output (no require.js tag): is bertviz 1.4 installed?")
    html = REQUIRE_CONFIG.sub("", html)
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + _libraries() + html + \
        "\n</body></html>"


def opaque_origin_url(html: str) -> str:
    """The page as a ``data:`` URL. An iframe loading it gets an opaque origin of its own: its scripts run (bertviz
    needs them) but cannot read or script the app's page, unlike an ``srcdoc`` iframe, which is same-origin."""
    return "data:text/html;charset=utf-8;base64," + base64.b64encode(html.encode("utf-8")).decode("ascii")


def _for_bertviz(t: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """[layer, head, q, k] -> bertviz's tuple of [1, head, q, k], rounded to 3 decimals (a smaller page)."""
    return tuple(layer.double().round(decimals=3).unsqueeze(0) for layer in t)


def _span(n: int, start: int) -> tuple[int, int]:
    start = max(0, min(start, max(0, n - 1)))
    return start, min(n, start + MAX_TOKENS)


def bertviz_html(sets: list[AttentionSet], view: str = "head", start: int = 0,
                 layers: list[int] | None = None) -> tuple[str, str]:
    """(self-contained HTML, a note on what was cut) for a head view or a model view.

    One :class:`AttentionSet` (self-attention), or encoder, decoder and cross sets of an encoder-decoder model.
    At most :data:`MAX_TOKENS` positions from ``start`` are drawn (attention to tokens outside is not drawn).
    """
    try:
        from bertviz import head_view, model_view
    except ImportError as err:
        raise BertvizUnavailable("The bertviz view needs the bertviz package (pip install bertviz).") from err
    draw = head_view if view == "head" else partial(model_view, display_mode="light")
    notes = []
    by_kind = {s.kind: s for s in sets}
    layer_list = layers if layers else None
    if "cross" in by_kind:
        enc, dec, cross = by_kind["encoder"], by_kind["decoder"], by_kind["cross"]
        e_span, d_span = _span(len(enc.q_tokens), 0), _span(len(dec.q_tokens), 0)
        result = draw(encoder_attention=_for_bertviz(window(enc.patterns, e_span, e_span)),
                      decoder_attention=_for_bertviz(window(dec.patterns, d_span, d_span)),
                      cross_attention=_for_bertviz(window(cross.patterns, d_span, e_span)),
                      encoder_tokens=enc.q_tokens[slice(*e_span)], decoder_tokens=dec.q_tokens[slice(*d_span)],
                      include_layers=layer_list, html_action="return")
        if e_span[1] < len(enc.q_tokens) or d_span[1] < len(dec.q_tokens):
            notes.append(f"Only the first {MAX_TOKENS} source and target tokens are drawn.")
    else:
        only = sets[0]
        span = _span(len(only.q_tokens), start)
        result = draw(_for_bertviz(window(only.patterns, span, span)), only.q_tokens[slice(*span)],
                      include_layers=layer_list, html_action="return")
        if span != (0, len(only.q_tokens)):
            notes.append(f"Tokens {span[0]}–{span[1] - 1} of {len(only.q_tokens)} are drawn; attention to tokens "
                         "outside this span is left out, so lines may add up to less than 1.")
    return make_offline(result.data), " ".join(notes)
