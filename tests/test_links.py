"""Links that open the same view: a teacher's link reproduces the model, the choices and the text for anyone; a
hand-trained run is re-trained from its recipe; bad links get a message and the defaults."""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from apptest_helpers import APP, open_page, state, wait_until
from streamlit.testing.v1 import AppTest

from explorer.data.tasks import TaskSpec
from explorer.training.recipes import LinkError, check_link_step, decode_recipe, recipe_of
from explorer.ui.quickstart import create_preset_run


def _open_link(link: str) -> AppTest:
    """A fresh browser opening ``link`` (its page and query parameters)."""
    parts = urlsplit(link)
    at = AppTest.from_file(APP, default_timeout=120)
    for key, values in parse_qs(parts.query).items():
        at.query_params[key] = values[0]
    at.switch_page(f"views/{parts.path.strip('/').split('/')[-1]}.py")
    return at.run()


def _link(at: AppTest) -> str:
    return next(c.value for c in at.code if "?" in c.value)


def test_a_link_to_a_pretrained_head_opens_the_same_view_elsewhere() -> None:
    teacher = open_page("attention")
    teacher.segmented_control(key="attention.section").set_value("🧩 Grid").run()
    teacher.segmented_control(key="attention.section").set_value("🔎 Heads").run()
    teacher.selectbox(key="attention.layer").set_value(3).run()
    teacher.selectbox(key="attention.head").set_value(5).run()
    text_key = next(t.key for t in teacher.text_area if t.key.startswith("attention.text."))
    teacher.text_area(key=text_key).input("The cat sat on the mat because it was warm.").run()
    student = _open_link(_link(teacher))
    assert not student.exception, student.exception
    assert student.selectbox(key="attention.model").value == "pretrained:all-MiniLM-L6-v2"
    assert student.selectbox(key="attention.layer").value == 3 and student.selectbox(key="attention.head").value == 5
    assert student.text_area(key=text_key).value == "The cat sat on the mat because it was warm."


def test_a_hand_trained_run_is_re_trained_to_the_linked_step() -> None:
    teacher = open_page()
    run = create_preset_run(state(teacher), TaskSpec(name="reverse", seq_len=6), "Tiny GPT 2 layers × 4 heads",
                            start=False)
    run.trainer.step_through(12)  # trained on the server's clock, as the student's copy will be
    wait_until(lambda: run.trainer.status == "paused", what="the teacher's run")
    teacher.switch_page("views/attention.py").run()
    link = _link(teacher)
    assert "model=recipe" in link and "step=12" in link
    student = _open_link(link)
    assert not student.exception, student.exception
    remade = state(student).current_run
    wait_until(lambda: remade.step == 12 and remade.trainer.status == "paused", what="the re-training")
    for name, value in run.trainer.current_weights().items():
        assert (remade.trainer.current_weights()[name] == value).all(), name  # deterministic: the same weights


def test_bad_and_stale_links_give_a_message_and_the_defaults() -> None:
    at = _open_link("/attention?model=recipe:AAAA&layer=99&bogus=1")
    assert not at.exception, at.exception
    assert any("could not be opened" in w.value for w in at.warning) or any(
        "could not be opened" in str(m.value) for m in at.markdown)
    assert any("bogus" in w.value for w in at.warning)
    assert at.selectbox(key="attention.layer").value == 0  # layer 99 does not exist: the default
    at = _open_link("/lstm?model=asset:no_such_model")
    assert not at.exception


def test_recipes_are_checked_like_the_form() -> None:
    with pytest.raises(LinkError):
        decode_recipe("not-base64!!")
    at = open_page()
    run = create_preset_run(state(at), TaskSpec(name="reverse", seq_len=6), "Tiny GPT 2 layers × 4 heads",
                            start=False)
    recipe = recipe_of(run)
    assert decode_recipe(recipe.encode()) == recipe
    with pytest.raises(LinkError, match="at most step"):
        check_link_step(10**9, recipe)
    bomb = base64.urlsafe_b64encode(zlib.compress(b" " * 4_000_000, 9)).decode().rstrip("=")
    assert len(bomb) < 6_000  # a short link …
    with pytest.raises(LinkError, match="too long"):
        decode_recipe(bomb)  # … that would inflate to 4 MB is refused while inflating
