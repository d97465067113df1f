"""The example inputs pages start from, and text with typed special tokens."""

from __future__ import annotations

from explorer.data.examples import encode_with_specials, example_texts, prompt_text, validation_inputs
from explorer.data.tasks import TaskSpec, make_task
from explorer.data.text_tasks import lm_task_from_text
from explorer.data.tokenizers import SEP
from explorer.data.uploads import LABEL_COLUMNS, TEXT_COLUMNS, guess_column


def test_typed_specials_become_special_tokens_and_unknowns_are_named() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_symbols=5, n_train=10, n_val=3))
    tok = data.tokenizer
    ids, pieces, unknown = encode_with_specials(tok, "01<sep>10z")
    assert SEP in ids and "<sep>" in pieces
    assert unknown == ["z"]
    assert tok.to_str_tokens(ids) == [p if p != "z" else "<unk>" for p in pieces]


def test_example_texts_tokenize_back_to_the_validation_example() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_symbols=5, n_train=10, n_val=3))
    tok = data.tokenizer
    text, target = example_texts(tok, data)
    ids, _, _ = encode_with_specials(tok, text)
    assert target == "" and ids == [*data.val.sources[0], SEP, *data.val.targets[0]]
    source, target = example_texts(tok, data, encoder_decoder=True, index=1)
    assert encode_with_specials(tok, source)[0] == data.val.sources[1]
    assert encode_with_specials(tok, target)[0] == data.val.targets[1]
    assert validation_inputs(data)[2] == [*data.val.sources[2], SEP, *data.val.targets[2]]


def test_text_streams_give_passages_and_prompts() -> None:
    data = lm_task_from_text("poem", "shall i compare thee to a summer's day? " * 40, mode="char")
    first, _ = example_texts(data.tokenizer, data)
    second, _ = example_texts(data.tokenizer, data, index=1)
    assert len(first) == 60 and first != second
    assert validation_inputs(data) == []
    assert prompt_text(data) == data.tokenizer.decode(data.val.stream[:40].tolist())


def test_csv_columns_are_guessed_by_name_case_insensitively() -> None:
    assert guess_column(["id", "Review", "Sentiment"], TEXT_COLUMNS) == 1
    assert guess_column(["id", "Review", "Sentiment"], LABEL_COLUMNS) == 2
    assert guess_column(["a", "b"], LABEL_COLUMNS) is None
