"""Links that open the same view: a "🔗 Link" button (link to this view) on every analysis page, and opening one.

A link is the page's URL with query parameters: ``model`` (``asset:<key>``, ``pretrained:<name>`` or
``recipe:<…>``, see explorer.training.recipes), ``step`` (a recipe is re-trained to it, in the background, with
progress) and the page's own choices under short names (``section``, ``layer``, ``head``, ``text``, ``t`` …). The
page declares its names once, as ``{short name: widget key}``; :func:`apply_link` gives those widgets the link's
values before they are drawn (each widget's own check still rejects a value that does not fit), and
:func:`link_button` writes the current ones into a link. A fresh browser that opens the link gets the same model,
section, layer, head and text. A bad or stale link gets a message and the page's defaults.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import streamlit as st

from explorer.data.names import plain_markdown
from explorer.models.pretrained import PRETRAINED_MODELS, packaged_name
from explorer.training.assets import ASSETS, is_available
from explorer.training.recipes import LinkError, check_link_step, decode_recipe, recipe_of
from explorer.training.run import Run, new_run
from explorer.ui import loaders
from explorer.ui.quickstart import open_assets
from explorer.ui.state import PRETRAINED_PREFIX, NoRoom, get_state
from explorer.ui.widget_state import set_value

LINK_KEY = "links.pending"  # st.session_state: the query parameters this session was opened with
SHOWN = "links.shown"  # st.session_state: page path -> the link last shown there
RESERVED = ("model", "step")
MAX_TEXT_CHARS = 1500  # a text longer than this stays out of the link (browsers and proxies cut long URLs)
TEXTS = ("text", "target")  # read by the page itself, after it knows its model (link_value)


def capture_link(page: str) -> None:
    """Once per session (app.py, before the page runs): keep the query parameters it was opened with (on
    ``page``) and open the model they name. Problems are kept as a notice for the page."""
    if LINK_KEY in st.session_state:
        return
    params = {k: st.query_params.get(k) for k in st.query_params}
    st.session_state[LINK_KEY] = {"params": params, "model": None, "page": page}
    if "model" in params:
        try:
            st.session_state[LINK_KEY]["model"] = _open_model(str(params["model"]), params.get("step"))
        except (LinkError, NoRoom) as err:
            get_state().notice = f"This link's model could not be opened: {err} The page shows its defaults."


def _open_model(ref: str, step: Any) -> str:
    """Open what ``ref`` names; returns the page subject key (a run id or "pretrained:<name>")."""
    state = get_state()
    kind, _, value = ref.partition(":")
    if kind == "asset":
        if value not in ASSETS or not is_available(value):
            raise LinkError(f"there is no ready-trained model {value!r} in this installation.")
        (run,) = open_assets((value,))
        return run.id
    if kind == "pretrained":
        name = packaged_name(value) or value
        if name not in PRETRAINED_MODELS or not PRETRAINED_MODELS[name].installed():
            raise LinkError(f"the pretrained model {value!r} is not installed here.")
        state.open_pretrained(name, make_current=True)
        return PRETRAINED_PREFIX + name
    if kind == "recipe":
        recipe = decode_recipe(value)
        target = check_link_step(step if step is not None else 0, recipe)
        data = loaders.generated_task(recipe.task)
        run = new_run(state.unique_name(f"{recipe.preset} · {data.name} (from a link)"), data, recipe.model,
                      recipe.train, preset=recipe.preset, seed=recipe.seed)
        state.add_run(run)
        if target:
            run.trainer.step_through(target)  # re-trained to the linked step, in the background
        return run.id
    raise LinkError(f"{ref!r} is not a model this app can name.")


def apply_link(page: str, names: dict[str, str], subject_key: str | None = None) -> None:
    """Give this page's widgets the values of the link the session was opened with (once; before drawing)."""
    pending = st.session_state.get(LINK_KEY)
    if not pending or pending.get("applied_to") == page or not pending["params"]:
        return
    if pending.get("page") != page:
        return
    pending["applied_to"] = page
    params = pending["params"]
    if subject_key and pending.get("model"):
        set_value(subject_key, pending["model"])
    unknown = [k for k in params if k not in names and k not in RESERVED and k not in TEXTS]
    for short, widget_key in names.items():
        if short in params:
            set_value(widget_key, _typed(params[short]))
    if unknown:
        st.warning(f"This link has settings this page does not know ({plain_markdown(', '.join(unknown[:5]))}): "
                   "they were left out.")


def link_value(page: str, short: str) -> Any | None:
    """The value the session's opening link gives ``short`` on ``page`` (e.g. a text), else None."""
    pending = st.session_state.get(LINK_KEY) or {}
    if pending.get("page") != page or short not in pending.get("params", {}):
        return None
    return _typed(pending["params"][short])


def _typed(value: Any) -> Any:
    """Query values are text: whole numbers become ints (layers, heads, steps), the rest stays text."""
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 10 else text


def model_ref(run: Run | None, pretrained: str | None) -> tuple[str | None, str]:
    """(the ``model`` parameter naming this model, or None; why it cannot be linked, when it cannot)."""
    if pretrained:
        return f"pretrained:{pretrained}", ""
    if run is None:
        return None, ""
    if run.source:
        return run.source, ""
    recipe = recipe_of(run)
    if recipe is None:
        return None, ("this run was trained on uploaded or downloaded data, or opened from a checkpoint: a link "
                      "cannot make it again. Download its checkpoint to share it.")
    return f"recipe:{recipe.encode()}", ""


def link_button(page: str, names: dict[str, str], run: Run | None = None, pretrained: str | None = None) -> None:
    """"🔗 Link" (to this view): the URL that opens this page with this model and these choices."""
    ref, why = model_ref(run, pretrained)
    params: dict[str, Any] = {}
    if ref is not None:
        params["model"] = ref
        if ref.startswith("recipe:") and run is not None and run.step:
            params["step"] = run.step
    too_long = []
    for short, widget_key in names.items():
        value = st.session_state.get(widget_key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value) != "":
            if len(str(value)) > MAX_TEXT_CHARS:
                too_long.append(short)
                continue
            params[short] = value
    base = str(st.context.url or "").split("?", 1)[0].rstrip("/")
    if not base.endswith("/" + page):
        base = f"{base}/{page}" if base else f"/{page}"
    link = f"{base}?{urlencode(params)}" if params else base
    with st.popover("🔗 Link", help="Link to this view: a link that opens this page with this model and these "
                                   "choices, e.g. for a slide: everyone who opens it sees the same view",
                    width="stretch"):
        st.code(link, language=None, wrap_lines=True)
        if why:
            st.caption(f"Without the model: {why}")
        if too_long:
            st.caption(f"Without the {', '.join(too_long)}: over {MAX_TEXT_CHARS:,} characters is too long for a "
                       "link (the link shows the page's default instead).")
        elif ref and ref.startswith("recipe:"):
            st.caption("Opening it trains the same model again from its seed to this step (deterministic), with "
                       "progress in the sidebar.")
