"""Train: choose data and a model, train live, see what the model does, keep checkpoints."""

import streamlit as st

from explorer.data.batches import check_compatible
from explorer.training.budget import check_step_memory
from explorer.training.run import describe_model, describe_size, new_run
from explorer.ui.checkpoints import render_checkpoints
from explorer.ui.state import NoRoom, get_state
from explorer.ui.train.controls import render_controls
from explorer.ui.train.curves import render_live
from explorer.ui.train.data_picker import pick_data
from explorer.ui.train.finetune_form import render_finetune_form, wants_finetune
from explorer.ui.train.model_form import ModelChoice, pick_model
from explorer.ui.train.outputs import render_outputs
from explorer.ui.widget_state import follow_auto_name, seed_choice, set_value

VIEW = "train.view"
RUN_NAME = "train.run_name"
CREATE = "train.create"
CURRENT, NEW = "🧪 Current run", "➕ New run"

state = get_state()
st.title("🏋️ Train")


def _create(data, choice: ModelChoice) -> None:
    name = state.unique_name((st.session_state.get(RUN_NAME) or f"{choice.preset} · {data.name}").strip())
    try:
        run = new_run(name, data, choice.model, choice.train, preset=choice.preset, seed=choice.train.seed,
                      embedding=choice.embedding)
    except (ValueError, RuntimeError, MemoryError) as err:  # a model or data the checks above could not foresee
        state.notice = f"Could not start the run: {err}"
        return
    try:
        state.add_run(run)
    except NoRoom as err:
        state.notice = str(err)
        return
    run.trainer.start()
    set_value(VIEW, CURRENT)


def _show_current() -> None:
    st.session_state[VIEW] = CURRENT


def new_run_form() -> None:
    data = pick_data()
    if data is not None and wants_finetune(data):
        render_finetune_form(data, on_created=_show_current)
        return
    choice = pick_model(data) if data is not None else None
    if data is None or choice is None:
        return
    problem = None
    try:
        check_compatible(data, choice.model, choice.train.seq_len)
        check_step_memory(choice.model, choice.train, data)
        state.limits.check_run(choice.model, choice.train)
    except ValueError as err:
        problem = str(err)
        st.error(f"⚠️ {problem}")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    follow_auto_name(RUN_NAME, f"{choice.preset} · {data.name}")
    c1.text_input("Run name", key=RUN_NAME, help="Follows the data and the model until you type a name of your own")
    c2.button("▶️ Train this model", key=CREATE, type="primary", on_click=_create, args=(data, choice),
              disabled=problem is not None, width="stretch")


run = state.current_run
if run is None:
    if state.current_pretrained:
        st.info(f"{state.current_pretrained} is a pretrained model: it is not trained here. Start a new run below, "
                "or pick one of your runs in the sidebar.")
    new_run_form()
    st.stop()

seed_choice(VIEW, [CURRENT, NEW], CURRENT)
view = st.segmented_control("View", [CURRENT, NEW], key=VIEW, label_visibility="collapsed")
if view == NEW:
    new_run_form()
    st.stop()

st.subheader(f"🧪 {run.name}")
st.caption(f"{describe_model(run.config)} · {describe_size(run)} · data: {run.data_name}")
render_controls(run)
render_live(run)

st.subheader("What the model does now")
render_outputs(run)

st.subheader("Checkpoints")
render_checkpoints(run)
