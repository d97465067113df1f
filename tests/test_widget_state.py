"""Seeded widgets keep their values while another page is shown (Streamlit alone would forget them)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script() -> None:
    import streamlit as st

    from explorer.ui.widget_state import remember_widgets, seed, seed_choice

    remember_widgets()
    if st.session_state.get("page", "a") == "a":
        seed("a.text", "default text")
        st.text_area("Text", key="a.text")
        options = st.session_state.get("options", ["x", "y", "z"])
        seed_choice("a.pick", options, "x")
        st.selectbox("Pick", options, key="a.pick")
    else:
        st.write("another page")


def test_a_seeded_widget_survives_a_visit_elsewhere_without_warnings() -> None:
    at = AppTest.from_function(_script).run()
    assert at.text_area(key="a.text").value == "default text"
    at.text_area(key="a.text").input("my pasted text").run()
    at.selectbox(key="a.pick").set_value("z").run()
    at.session_state["page"] = "b"
    at.run()
    at.run()  # Streamlit drops the widgets' own state at the end of a run that does not draw them
    assert "a.text" not in at.session_state
    at.session_state["page"] = "a"
    at.run()
    assert at.text_area(key="a.text").value == "my pasted text"
    assert at.selectbox(key="a.pick").value == "z"
    assert not at.exception and not at.warning


def test_a_remembered_choice_that_no_longer_exists_falls_back_to_the_default() -> None:
    at = AppTest.from_function(_script).run()
    at.selectbox(key="a.pick").set_value("z").run()
    at.session_state["page"] = "b"
    at.run()
    at.run()
    at.session_state["options"] = ["x", "y"]
    at.session_state["page"] = "a"
    at.run()
    assert at.selectbox(key="a.pick").value == "x"
    assert not at.exception
