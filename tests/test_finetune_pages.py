"""Fine-tuning through the pages (AppTest), with a tiny random BERT standing in for MiniLM: the Train page's form
fine-tunes, shows predictions and saves a checkpoint that opens again; the Fine-tuning page shows what changed, fills
in a [MASK] and fine-tunes a pre-trained model against its twin; Attention and Circuits open a fine-tuned run."""

from __future__ import annotations

import pandas as pd
import pytest
from apptest_helpers import by_key, open_page, state
from finetune_helpers import tiny_bert, toy_sentiment

import explorer.models.pretrained as pretrained_package
from explorer.data.text_tasks import lm_task_from_text, split_texts
from explorer.models.finetune import FinetuneConfig
from explorer.training.finetune_run import default_train_config, new_finetune_run
from explorer.training.presets import MLM_PRESET, PRESETS
from explorer.training.run import new_run
from explorer.ui.finetune import pretrain as pretrain_section

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = "tiny-bert"


@pytest.fixture
def tiny(monkeypatch):
    """The tiny BERT loads by name as a pretrained model would (cached once per server like the others)."""
    _, base = tiny_bert()
    real = pretrained_package.load_pretrained
    monkeypatch.setattr(pretrained_package, "load_pretrained",
                        lambda name, progress=None: base if name == TINY else real(name, progress))
    return base


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def _tiny_run(at, base, method: str = "lora", steps: int = 4):
    session = state(at)
    run = new_finetune_run(f"tiny {method}", toy_sentiment(), base, FinetuneConfig(base=TINY, method=method),
                           default_train_config(method, 50, snapshot_every=5))
    run.trainer.step(n_steps=steps)
    session.add_run(run)
    if TINY not in session.pretrained:
        session.pretrained.append(TINY)
    return run


def test_the_train_page_fine_tunes_shows_predictions_and_saves(tiny) -> None:
    at = open_page("train")
    state(at).pretrained.append(TINY)
    data = toy_sentiment()
    texts = split_texts(data.train, data.tokenizer) + split_texts(data.val, data.tokenizer)
    labels = list(data.train.labels) + list(data.val.labels)
    csv = pd.DataFrame({"text": texts, "label": ["good" if y else "bad" for y in labels]}).to_csv(index=False)
    at.radio(key="data.source").set_value("Upload a file").run()
    by_key(at, "file_uploader", "data.upload").upload("reviews.csv", csv.encode(), "text/csv").run()
    at.radio(key="train.kind").set_value("🎯 Fine-tune a pretrained encoder").run()
    at.selectbox(key="train.finetune.base").set_value(TINY).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["method"].str.split(" ").str[0]) == ["Linear", "Head", "BitFit", "LoRA", "Full"]
    at.radio(key="train.finetune.method").set_value("bitfit").run()
    at.button(key="train.finetune.create").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run is not None and run.is_finetune and run.config.method == "bitfit" and run.trainer.is_running
    at.button(key="controls.pause").click().run()
    run.trainer.step(n_steps=3)
    at.run()
    assert any("Validation accuracy over" in str(c.value) for c in at.caption)
    at.button(key="ckpt.save").click().run()
    blob = next(iter(state(at).saved.values()))
    assert len(blob) < 200_000  # the biases and the head, not the encoder
    at.button(key="ckpt.open.0").click().run()
    assert not at.exception, at.exception
    opened = state(at).current_run
    assert opened.id != run.id and opened.is_finetune and opened.config == run.config


def test_the_fine_tuning_page_shows_what_changed(tiny) -> None:
    at = open_page("finetune")
    assert not at.exception, at.exception
    _tiny_run(at, tiny)
    at.run()
    assert not at.exception, at.exception
    assert _charts(at) == 2  # the heads that moved, and the clicked head before and after
    for view in ("⚖️ Weights", "📉 LoRA's rank", "🗺️ Sentence embeddings"):
        at.session_state["finetune.changes.view"] = view
        at.run()
        assert not at.exception, (view, at.exception)
        assert _charts(at) == 1, view


def test_fill_in_and_fine_tune_a_pre_trained_model_against_its_twin(tiny, monkeypatch) -> None:
    monkeypatch.setattr(pretrain_section, "pang_lee_ready", lambda key: True)
    monkeypatch.setattr(pretrain_section, "sentences", lambda: toy_sentiment())
    at = open_page("finetune")
    text = lm_task_from_text("toy text", " ".join(["the film was great and the actors were superb"] * 200),
                             mode="word", lowercase=True)
    model_cfg, train_cfg = PRESETS[MLM_PRESET].build(text)
    train_cfg.batch_size, train_cfg.seq_len = 8, 16
    mlm = new_run("my masked LM", text, model_cfg, train_cfg, preset=MLM_PRESET)
    mlm.trainer.step(n_steps=5)
    state(at).add_run(mlm)
    at.session_state["finetune.section"] = "🧩 Fill in [MASK]"
    at.run()
    assert not at.exception, at.exception
    assert _charts(at) == 1
    at.session_state["finetune.section"] = "🏗️ Pre-train, then fine-tune"
    at.run()
    at.button(key="finetune.pretrain.pair").click().run()
    assert not at.exception, at.exception
    runs = list(state(at).runs.values())
    tuned, scratch = runs[-2:]
    assert tuned.trainer.is_running and scratch.trainer.is_running and tuned.data is scratch.data
    assert tuned.config == scratch.config and tuned.config.head == "classifier"
    start = {k: v for k, v in mlm.model.state_dict().items() if k not in ("W_U", "b_U")}
    for name, value in start.items():  # the fine-tuned run starts from the pre-trained body, its twin does not
        assert (tuned.trainer.initial_state[name] == value).all(), name
    assert scratch.trainer.initial_state is None
    assert state(at).widgets["compare.runs"] == [tuned.id, scratch.id]  # the Compare page shows the pair
    assert at.dataframe[0].value.shape[0] == 1
    tuned.trainer.pause()
    scratch.trainer.pause()
    for run in (tuned, scratch):
        run.trainer.step(n_steps=2)
        run.trainer.val_history.append({"step": 2, **run.trainer.evaluate()})
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="compare.runs").value == [tuned.id, scratch.id]
    gains = [t.value for t in at.dataframe if "gain" in t.value.columns]
    assert len(gains) == 1 and gains[0].iloc[0]["gain"].endswith("points")


def test_attention_and_circuits_open_a_fine_tuned_run(tiny) -> None:
    at = open_page("attention")
    run = _tiny_run(at, tiny)
    state(at).current = run.id
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="attention.model").value == run.id
    assert _charts(at) >= 2  # its heads, as for any model
    at.session_state["attention.section"] = "🎯 Fine-tuning"
    at.run()
    assert not at.exception, at.exception
    assert _charts(at) == 2
    at.switch_page("views/circuits.py").run()
    at.session_state["circuits.section"] = "🎯 Fine-tuning"
    at.run()
    assert not at.exception, at.exception
    assert _charts(at) == 3  # QK change, OV change, LoRA's spectra
    at.session_state["circuits.section"] = "🔬 One head"
    at.run()
    assert not at.exception, at.exception


def test_the_train_page_pre_trains_a_masked_lm_on_an_uploaded_text_and_fills_in_a_mask() -> None:
    at = open_page("train")
    at.radio(key="data.source").set_value("Upload a file").run()
    text = ("the film was great and the actors were superb . " * 120).encode()
    by_key(at, "file_uploader", "data.upload").upload("reviews.txt", text, "text/plain").run()
    at.radio(key="data.upload_mode").set_value("word").run()
    at.selectbox(key="model.preset").set_value(MLM_PRESET).run()
    at.button(key="train.create").click().run()
    assert not at.exception, at.exception
    run = state(at).current_run
    assert run.config.head == "mlm" and run.trainer.is_running
    at.button(key="controls.pause").click().run()
    assert not at.exception, at.exception
    assert any("[MASK]" in str(c.value) for c in at.caption)  # the fill-in view, not text sampling
    assert len(at.get("plotly_chart")) >= 3  # loss, accuracy, the top tokens of each blank
